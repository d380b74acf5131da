// The architecture diagram: play, pause and step through the frames the server
// sent as JSON.  Honours prefers-reduced-motion (no flowing edges, no autoplay).
(function () {
  "use strict";

  var reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var QUEUE_SCALE = 3;   // pixels per waiting task
  var QUEUE_MAX = 45;    // tallest bar, in pixels

  function setup(figure) {
    if (figure.dataset.wired) return;
    var source = document.getElementById(figure.dataset.diagram);
    if (!source) return;
    figure.dataset.wired = "1";
    var data = JSON.parse(source.textContent);
    var frames = data.frames, words = data.words;
    if (!frames.length) return;
    var index = 0, timer = null;
    var seek = figure.querySelector("[data-action=seek]");
    var play = figure.querySelector("[data-action=play]");
    var text = figure.querySelector("[data-words]");

    function show(i, announce) {
      index = Math.max(0, Math.min(frames.length - 1, i));
      var frame = frames[index];
      seek.value = index;
      figure.querySelector("[data-time]").textContent = Math.round(frame.t_s) + " s";
      figure.querySelectorAll("[data-edge]").forEach(function (edge) {
        var rps = frame.rps[edge.dataset.edge] || 0;
        edge.querySelector("[data-edge-label]").textContent = rps.toFixed(2) + "/s";
        edge.classList.toggle("idle", rps === 0);
        edge.classList.toggle("busy", rps >= 1);
      });
      figure.querySelectorAll("[data-node]").forEach(function (node) {
        var down = frame.down.indexOf(node.dataset.node) >= 0;
        node.classList.toggle("down", down);
        var name = node.dataset.node, copies = "";
        if (name !== "llm" && data.service_replicas[name] !== undefined) {
          copies = data.labels.copies.replace("%(n)s", String(data.monolith && data.in_process.indexOf(name) >= 0 ? frame.replicas : data.service_replicas[name]));
        }
        node.querySelector("[data-status]").textContent = down ? "\u2715 " + data.labels.down : copies;
      });
      ["high", "normal", "low"].forEach(function (p) {
        var bar = figure.querySelector("[data-queue=" + p + "]");
        var h = Math.min(QUEUE_MAX, frame.queue[p] * QUEUE_SCALE);
        bar.setAttribute("y", String(-h));
        bar.setAttribute("height", String(h));
        figure.querySelector("[data-queue-label=" + p + "]").textContent = String(frame.queue[p]);
      });
      figure.querySelector("[data-replicas]").textContent = data.labels.replicas
        .replace("%(ready)s", String(frame.ready)).replace("%(replicas)s", String(frame.replicas));
      text.setAttribute("aria-live", announce ? "polite" : "off");
      text.textContent = words[index];
    }

    function stop() {
      if (timer) window.clearInterval(timer);
      timer = null;
      play.setAttribute("aria-pressed", "false");
      play.textContent = data.labels.play;
      figure.classList.remove("playing");
    }

    function start() {
      if (index >= frames.length - 1) show(0, false);
      play.setAttribute("aria-pressed", "true");
      play.textContent = data.labels.pause;
      if (!reduce) figure.classList.add("playing");
      timer = window.setInterval(function () {
        if (index >= frames.length - 1) { stop(); show(index, true); return; }
        show(index + 1, false);
      }, reduce ? 1200 : 400);
    }

    play.addEventListener("click", function () { if (timer) stop(); else start(); });
    figure.querySelector("[data-action=back]").addEventListener("click", function () { stop(); show(index - 1, true); });
    figure.querySelector("[data-action=forward]").addEventListener("click", function () { stop(); show(index + 1, true); });
    seek.addEventListener("input", function (event) { event.stopPropagation(); stop(); show(Number(seek.value), true); });
    seek.addEventListener("change", function (event) { event.stopPropagation(); });
    show(0, false);
  }

  function init(root) {
    root.querySelectorAll("[data-diagram]").forEach(setup);
  }

  if (window.htmx) {
    window.htmx.onLoad(init);
  } else {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  }
})();
