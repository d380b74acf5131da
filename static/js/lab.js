// Lab pages: keep each slider and its number box in step, and draw the Plotly
// figures that the server sent as JSON.  Everything else is htmx.
(function () {
  "use strict";

  function drawCharts(root) {
    root.querySelectorAll("[data-figure]").forEach(function (el) {
      var data = document.getElementById(el.dataset.figure);
      if (!data || !window.Plotly) return;
      var figure = JSON.parse(data.textContent);
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
      box.addEventListener("input", function () { range.value = box.value; });
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
