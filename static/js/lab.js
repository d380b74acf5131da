// Lab panels: keep each slider and its number box in step, and draw the Plotly
// figures that the server sent as JSON.  Everything else is htmx.
(function () {
  "use strict";

  var theme = null;  // the charts' shared Plotly template, sent once per page
  var drawnAtPx = null;  // the chart text size the charts were last drawn with

  function template() {
    if (theme === null) {
      var el = document.getElementById("plotly-template");
      theme = el ? JSON.parse(el.textContent) : {};
    }
    return theme;
  }

  // Chart text follows the page: the server's figures use BASE_FONT_PX, and the
  // .plot element's CSS font size (larger on a projector) scales them.
  var BASE_FONT_PX = 14;

  function textPx(el) {
    return parseFloat(window.getComputedStyle(el).fontSize) || BASE_FONT_PX;
  }

  // Every font size in a figure ("font", "tickfont", "textfont"...) times factor.
  function scaleFonts(value, factor) {
    if (Array.isArray(value)) {
      value.forEach(function (item) { scaleFonts(item, factor); });
    } else if (value && typeof value === "object") {
      Object.keys(value).forEach(function (key) {
        var item = value[key];
        if (/font$/i.test(key) && item && typeof item.size === "number") item.size *= factor;
        scaleFonts(item, factor);
      });
    }
  }

  function scaled(figure, factor) {
    var layout = figure.layout;
    layout.font = Object.assign({ size: BASE_FONT_PX }, layout.font);
    if (factor === 1) return layout;
    scaleFonts(layout, factor);
    scaleFonts(figure.data, factor);
    if (layout.uniformtext && layout.uniformtext.minsize) layout.uniformtext.minsize *= factor;
    if (layout.height) layout.height = Math.round(layout.height * Math.max(1, factor));
    return layout;
  }

  function drawCharts(root) {
    root.querySelectorAll("[data-figure]").forEach(function (el) {
      var data = document.getElementById(el.dataset.figure);
      if (!data || !window.Plotly) return;
      var figure = JSON.parse(data.textContent);
      var px = textPx(el);
      drawnAtPx = px;
      var layout = scaled(figure, px / ((figure.layout.font || {}).size || BASE_FONT_PX));
      layout.template = template();
      // No mode bar: it covered legends, and added a row of unlabelled-in-Chinese
      // buttons to every chart's tab order.  Each chart has its data table instead.
      var config = { responsive: true, displaylogo: false, displayModeBar: false };
      if (window.matchMedia && window.matchMedia("(pointer: coarse)").matches) {
        // On a touch screen a drag must scroll the page, not zoom the chart.
        layout.dragmode = false;
        config.scrollZoom = false;
      }
      window.Plotly.react(el, figure.data, layout, config);
    });
  }

  // A projector layout (or a zoomed page) changes the chart text size: redraw then.
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(function () {
      var plot = document.querySelector("[data-figure]");
      if (plot && drawnAtPx !== null && textPx(plot) !== drawnAtPx) drawCharts(document);
    }, 200);
  });

  function wireSliders(root) {
    root.querySelectorAll("input[type=range][data-mirror]").forEach(function (range) {
      var box = document.getElementById(range.dataset.mirror);
      if (!box || range.dataset.wired) return;
      range.dataset.wired = "1";
      // The range has no name: the number box is what the form submits.  The
      // range's own input/change events then bubble up and trigger the rerun.
      range.addEventListener("input", function () { box.value = range.value; });
      box.addEventListener("input", function () {
        // An empty or half-typed box leaves the slider where it was, rather
        // than letting the browser move it to the middle of its range.
        if (box.value.trim() !== "" && box.checkValidity()) range.value = box.value;
      });
    });
  }

  // The header's language links were rendered with the page's first URL; after
  // htmx pushes a new one (a slider moved, a preset chosen) they must carry its
  // query too, so switching language keeps the current settings.
  function followLocation() {
    document.querySelectorAll("a[hreflang][data-keeps-query]").forEach(function (link) {
      var url = new URL(link.href, window.location.href);
      url.search = window.location.search;
      link.href = url.pathname + url.search;
    });
  }

  function init(root) {
    wireSliders(root);
    drawCharts(root);
  }

  document.addEventListener("htmx:pushedIntoHistory", followLocation);
  document.addEventListener("htmx:replacedInHistory", followLocation);
  document.addEventListener("htmx:historyRestore", followLocation);
  window.addEventListener("popstate", followLocation);

  if (window.htmx) {
    window.htmx.onLoad(init);
  } else {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  }
})();
