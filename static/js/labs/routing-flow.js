// Routing lab: highlight the prompt box's route on the flow diagram.
// The route result carries data-path (the flow's node keys, class -> tier -> model)
// and data-policy; the Sankey's figure names its policy in layout.meta.  When they
// match, the links on the path are coloured and the rest fade; otherwise a hint
// says the flow draws another policy.
(function () {
  "use strict";

  var ON = "rgba(255, 159, 28, 0.85)";
  var OFF = "rgba(100, 116, 139, 0.18)";
  var PLAIN = "rgba(100, 116, 139, 0.35)";

  function figureOf(plot) {
    var data = document.getElementById(plot.dataset.figure);
    return data ? JSON.parse(data.textContent) : null;
  }

  function highlight(lab) {
    var plot = lab.querySelector('[data-chart="flow"]');
    var result = lab.querySelector(".route-result");
    if (!plot || !window.Plotly) return;
    if (!plot.data) {  // not drawn yet: try again on the next frame
      window.requestAnimationFrame(function () { highlight(lab); });
      return;
    }
    var figure = figureOf(plot);
    if (!figure) return;
    var trace = figure.data[0];
    var keys = trace.node.customdata;
    var path = result && result.dataset.path ? JSON.parse(result.dataset.path) : null;
    var same = path && figure.layout.meta && figure.layout.meta.policy === result.dataset.policy;
    var hint = result ? result.querySelector(".route-hint") : null;
    if (hint) hint.hidden = !path || same;
    var steps = {};
    if (same) {
      var chain = ["all"].concat(path);
      for (var i = 0; i + 1 < chain.length; i++) steps[chain[i] + ">" + chain[i + 1]] = true;
    }
    var colours = trace.link.source.map(function (s, i) {
      if (!same) return PLAIN;
      return steps[keys[s] + ">" + keys[trace.link.target[i]]] ? ON : OFF;
    });
    var onPath = {};
    if (same) ["all"].concat(path).forEach(function (k) { onPath[k] = true; });
    var widths = keys.map(function (k) { return onPath[k] ? 3 : 0.5; });
    window.Plotly.restyle(plot, {"link.color": [colours], "node.line.width": [widths]}, [0]);
    plot.dataset.highlighted = same ? path.join(" ") : "";
  }

  // On a phone the flow's labels lose their shares (the data table keeps them), and the
  // charts drop their point labels.
  var NARROW = 560;

  function fitToPhone(lab) {
    lab.querySelectorAll(".plot[data-chart]").forEach(function (plot) {
      if (!plot.data || plot.dataset.phone || plot.clientWidth >= NARROW) return;
      plot.dataset.phone = "1";
      var chart = plot.dataset.chart;
      if (chart === "flow") {
        var names = plot.data[0].node.label.map(function (label) { return label.split(" · ")[0]; });
        window.Plotly.update(plot, {"node.label": [names], "textfont.size": 10}, {height: 520});
      } else if (chart === "frontier") {
        var points = [];
        plot.data.forEach(function (t, i) { if (t.mode === "markers+text") points.push(i); });
        window.Plotly.update(plot, {mode: "markers"}, {height: 560}, points);
      } else if (chart === "routellm") {
        window.Plotly.relayout(plot, {height: 460});
      }
    });
  }

  function init(root) {
    var labs = root.matches && root.matches('[data-lab="routing-flow"]') ? [root]
      : Array.prototype.slice.call(document.querySelectorAll('[data-lab="routing-flow"]'));
    labs.forEach(function (lab) {
      highlight(lab);
      window.requestAnimationFrame(function () { if (window.Plotly) fitToPhone(lab); });
    });
  }

  if (window.htmx) {
    window.htmx.onLoad(init);
  } else {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  }
})();
