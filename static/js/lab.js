// Lab panels: keep each slider and its number box in step, and draw the Plotly
// figures that the server sent as JSON.  Everything else is htmx.
(function () {
  "use strict";

  var theme = null;  // the charts' shared Plotly template, sent once per page

  function template() {
    if (theme === null) {
      var el = document.getElementById("plotly-template");
      theme = el ? JSON.parse(el.textContent) : {};
    }
    return theme;
  }

  function drawCharts(root) {
    root.querySelectorAll("[data-figure]").forEach(function (el) {
      var data = document.getElementById(el.dataset.figure);
      if (!data || !window.Plotly) return;
      var figure = JSON.parse(data.textContent);
      figure.layout.template = template();
      var config = { responsive: true, displaylogo: false };
      window.Plotly.react(el, figure.data, figure.layout, config);
    });
  }

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

  function init(root) {
    wireSliders(root);
    drawCharts(root);
  }

  if (window.htmx) {
    window.htmx.onLoad(init);
  } else {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  }
})();
