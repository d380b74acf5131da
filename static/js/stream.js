// The streaming demo (templates/lab/stream_demo.html): send a question over a
// WebSocket, show the reply as its tokens arrive, and the figures that matter:
// time to first token, speed, tokens and cost.  The server side is
// webapp/lab/consumers.py (StreamConsumer).
(function () {
  "use strict";

  // With reduced motion the text grows in steps this far apart, not token by token.
  var REDUCED_MOTION_STEP_MS = 700;
  var reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)");

  function socketUrl(box) {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + window.location.host + box.dataset.socketPath +
      "?lang=" + encodeURIComponent(box.dataset.lang);
  }

  // "{tokens} tokens" + {tokens: 12} -> "12 tokens"; unknown names stay as they are.
  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (whole, name) {
      return name in values ? values[name] : whole;
    });
  }

  function wire(box) {
    var form = box.querySelector("[data-stream-form]");
    var controls = box.querySelector("[data-stream-controls]");
    var output = box.querySelector("[data-stream-output]");
    var status = box.querySelector("[data-stream-status]");
    var startButton = box.querySelector("[data-stream-start]");
    var stopButton = box.querySelector("[data-stream-stop]");
    var figures = {};
    box.querySelectorAll("[data-stream-figure]").forEach(function (el) {
      figures[el.dataset.streamFigure] = el;
    });
    var lang = document.documentElement.lang || undefined;
    var decimals = new Intl.NumberFormat(lang, { maximumFractionDigits: 2 });
    var money = new Intl.NumberFormat(lang, { maximumSignificantDigits: 3 });

    var socket = null;
    var running = false;
    var pending = "";      // text received but not shown yet
    var times = [];        // each token's arrival, seconds since the start (server clock)
    var flushScheduled = false;

    function send(message) {
      if (socket && socket.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify(message));
        return;
      }
      if (!socket || socket.readyState > WebSocket.OPEN) open();
      socket.addEventListener("open", function () { socket.send(JSON.stringify(message)); }, { once: true });
    }

    function open() {
      var ws = new WebSocket(socketUrl(box));
      ws.addEventListener("message", function (event) { receive(JSON.parse(event.data)); });
      ws.addEventListener("close", function () {
        if (socket !== ws) return;  // an older socket, already replaced
        socket = null;
        if (running) finish(box.dataset.textLost, true);
      });
      socket = ws;
    }

    function receive(message) {
      if (message.type === "token") {
        pending += message.text;
        times.push(message.t);
        scheduleFlush();
      } else if (message.type === "done") {
        flush();
        showFigures(message.ttft_s, message.tokens_per_s, message.tokens, message.cost_usd);
        finish(fill(box.dataset.textDone, {
          tokens: message.tokens,
          ttft: message.ttft_s === null ? "–" : decimals.format(message.ttft_s),
          speed: message.tokens_per_s === null ? "–" : decimals.format(message.tokens_per_s),
          cost: money.format(message.cost_usd),
        }), false);
      } else if (message.type === "stopped") {
        flush();
        if (running) finish(box.dataset.textStopped, false);
      } else if (message.type === "error") {
        flush();
        finish(message.message, true);
      }
    }

    // Tokens come faster than anyone reads; show them once per frame, or in
    // larger steps when the reader asked for less motion.
    function scheduleFlush() {
      if (flushScheduled) return;
      flushScheduled = true;
      if (reducedMotion && reducedMotion.matches) {
        window.setTimeout(flush, REDUCED_MOTION_STEP_MS);
      } else {
        window.requestAnimationFrame(flush);
      }
    }

    function flush() {
      flushScheduled = false;
      if (!pending) return;
      output.append(pending);
      pending = "";
      var flowing = times[times.length - 1] - times[0];
      showFigures(times[0], flowing > 0 ? (times.length - 1) / flowing : null, times.length, null);
    }

    function showFigures(ttft, speed, tokens, cost) {
      figures.ttft.textContent = ttft === null || ttft === undefined ? "–" : decimals.format(ttft);
      figures.speed.textContent = speed === null ? "–" : decimals.format(speed);
      figures.tokens.textContent = tokens;
      figures.cost.textContent = cost === null ? "–" : money.format(cost);
    }

    function setRunning(value) {
      running = value;
      startButton.disabled = false;
      // A disabled button drops the focus to the page's top: keep the learner's
      // place by moving it to Start, the next thing they may press.
      if (!value && document.activeElement === stopButton) startButton.focus();
      stopButton.disabled = !value;
      // Read token by token, the reply would be a flood of announcements.
      output.setAttribute("aria-live", value ? "off" : "polite");
    }

    function finish(text, isError) {
      setRunning(false);
      status.textContent = text;
      status.classList.toggle("error", isError);
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      output.textContent = "";
      pending = "";
      times = [];
      showFigures(null, null, "–", null);
      status.classList.remove("error");
      status.textContent = box.dataset.textWaiting;
      setRunning(true);
      send({ type: "start", model: form.elements.model.value, question: form.elements.question.value });
    });
    stopButton.addEventListener("click", function () { send({ type: "stop" }); });

    output.textContent = "";  // drop the "needs JavaScript" notice
    controls.disabled = false;
  }

  document.querySelectorAll("[data-stream-demo]").forEach(function (box) {
    if (box.dataset.wired) return;  // the script may be included more than once
    box.dataset.wired = "1";
    wire(box);
  });
})();
