// A classroom page (instructor, projector or student): one WebSocket to the room,
// webapp/classroom/consumers.py.  The lab panel on the page is the ordinary lab
// panel: a student following the instructor sets its fields to the room's values
// and fetches the result through the lab's own htmx endpoint, as a learner alone
// would, so the result the instructor's change produced is served from the
// shared result cache.  The instructor's own panel sends each successful change
// to the room.  No inline scripts or styles: the page's data comes in
// <script type="application/json"> blocks.
(function () {
  "use strict";

  var config = readJson("classroom-config");
  var T = readJson("classroom-text") || {};
  if (!config) return;

  // The panel's links and forms push the lab's URL into history; a room page keeps its own.
  if (window.htmx) window.htmx.config.historyEnabled = false;

  var role = config.role;
  var lang = document.documentElement.lang || undefined;
  var num = new Intl.NumberFormat(lang, { maximumSignificantDigits: 4 });
  var whole = new Intl.NumberFormat(lang);
  var followKey = "classroom-follow-" + config.code;
  var state = null;          // the last state received
  var shown = config.state.query;  // the values the panel shows (the server rendered them)
  var matchOnce = false;     // student-paced: copy the instructor's values at the next state
  var socket = null;
  var retryMs = 500;
  var answered = null;       // a student's own answer or vote, as the server confirmed it
  var lastDecision = null;
  var lastSent = null;       // the instructor's values last sent to the class
  var awaiting = null;       // the query whose result the server is about to send
  var fallback = null;       // fetches that result if it does not come
  var PUSH_WAIT_MS = 3000;

  function readJson(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function $(id) { return document.getElementById(id); }

  function fill(text, values) {
    return String(text || "").replace(/\{(\w+)\}/g, function (all, name) {
      return name in values ? values[name] : all;
    });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "className") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function svg(tag, attrs) {
    var node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    return node;
  }

  // -- the socket -------------------------------------------------------------

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var url = scheme + window.location.host + config.socket + "?lang=" + encodeURIComponent(lang || "");
    if (role === "projector") url += "&view=projector";
    var ws = new WebSocket(url);
    socket = ws;
    ws.addEventListener("open", function () {
      retryMs = 500;
      connection("open", T.connected);
    });
    ws.addEventListener("message", function (event) { receive(JSON.parse(event.data)); });
    ws.addEventListener("close", function () {
      if (socket !== ws) return;
      socket = null;
      if (state && state.ended) return;
      connection("closed", T.reconnecting);
      window.setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 8000);
    });
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
      return true;
    }
    showMessage(T.not_connected);
    return false;
  }

  function connection(kind, text) {
    var box = $("room-connection");
    if (!box) return;
    box.dataset.state = kind;
    box.textContent = text || "";
  }

  function showMessage(text) {
    var box = $("room-message");
    if (!box) return;
    box.textContent = text || "";
    box.hidden = !text;
  }

  function receive(message) {
    if (message.type === "state") onState(message);
    else if (message.type === "result") onResult(message);
    else if (message.type === "tally") onTally(message);
    else if (message.type === "presence") setText("room-present", whole.format(message.students));
    else if (message.type === "decision") { lastDecision = message; renderActivity(); }
    else if (message.type === "ok") { answered = message; showMessage(""); renderActivity(); }
    else if (message.type === "error") showMessage(message.message);
  }

  function setText(id, text) {
    var node = $(id);
    if (node) node.textContent = text;
  }

  // -- the room's state ---------------------------------------------------------

  function onState(next) {
    if (state && next.version < state.version) return;  // an older broadcast overtaken by a resync
    var activityChanged = !state || !sameActivity(state.activity, next.activity);
    var previous = state;
    state = next;
    if (activityChanged) { answered = null; lastDecision = null; }
    var you = next.you || {};
    if (you.answer !== undefined && you.answer !== null) answered = { of: "answer", value: you.answer };
    if (you.vote !== undefined && you.vote !== null) answered = { of: "vote", yes: you.vote, variant: you.variant };
    if (next.ended) {
      connection("ended", T.ended);
      document.body.classList.add("room-ended");
      if (socket) socket.close();
    }
    var moved = next.component !== config.component || next.lesson !== config.lesson;
    if (role === "student" && previous && previous.mode !== next.mode && next.mode === "instructor") {
      window.sessionStorage.removeItem(followKey);  // back to instructor-paced: everyone follows again
    }
    if (moved && (role !== "student" || following() || next.mode === "student")) {
      window.location.reload();  // another lab: the page brings its own controls and files
      return;
    }
    if (role === "instructor") {
      syncMode(next.mode);
      if (previous && previous.query !== next.query) refreshMetrics();
    } else if (role === "student") {
      if ((following() || matchOnce) && !moved && next.query !== shown) applyValues(next);
      matchOnce = false;
      showFollow(moved);
    } else if (next.query !== shown) {
      applyValues(next);
    }
    renderActivity();
  }

  function sameActivity(a, b) {
    return (a && a.id) === (b && b.id) && (a && a.kind) === (b && b.kind);
  }

  function onTally(message) {
    var activity = state && state.activity;
    if (!activity || activity.id !== message.id || activity.kind !== message.kind) return;
    activity.tally = message.tally;
    if (message.revealed !== undefined) activity.revealed = message.revealed;
    renderActivity();
  }

  // -- following: the panel shows the room's values ------------------------------
  // Instructor-paced: a student follows unless they chose to explore ("away").
  // Student-paced: nobody follows; "match" copies the instructor's values once.

  function following() {
    if (role === "projector") return true;
    if (role !== "student" || !state) return false;
    return state.mode === "instructor" && window.sessionStorage.getItem(followKey) !== "away";
  }

  function panel() { return $("lab-" + config.component); }

  function field(name) { return $(config.component + "-" + name); }

  function applyValues(next) {
    shown = next.query;
    Object.keys(next.params).forEach(function (name) { setField(name, next.params[name]); });
    setField("seed", next.seed);
    window.clearTimeout(fallback);
    awaiting = null;
    if (next.result_follows) {
      // The server sends the new result right after this state, rendered once for
      // the whole class; fetch it only if it does not come.
      awaiting = next.query;
      var form = $("lab-" + config.component + "-form");
      if (form && window.htmx) window.htmx.trigger(form, "htmx:abort");  // an earlier fetch, now out of date
      fallback = window.setTimeout(function () {
        if (awaiting === next.query) { awaiting = null; fetchResult(next); }
      }, PUSH_WAIT_MS);
      return;
    }
    fetchResult(next);
  }

  function onResult(message) {
    if (!awaiting || message.query !== awaiting || !window.htmx) return;
    awaiting = null;
    window.clearTimeout(fallback);
    var form = $("lab-" + config.component + "-form");
    var target = $("lab-" + config.component + "-result");
    if (!target) return;
    if (form) window.htmx.trigger(form, "htmx:abort");  // a batch of an earlier result still on its way
    window.htmx.swap(target, message.html, { swapStyle: "outerHTML" });
  }

  function fetchResult(next) {
    var form = $("lab-" + config.component + "-form");
    if (!form || !window.htmx) return;
    // The room's result, rendered once for the whole class, answered as the lab's
    // own endpoint answers a slider (a deferred part then comes batch by batch).
    // Sent as the panel's form would be: its hx-sync cancels a fetch still under
    // way (an earlier change, a batch of one), and the target is looked up when
    // the request leaves, so a late answer never lands in a replaced element.
    window.htmx.ajax("GET", config.resultUrl + "?" + next.query, { source: form });
  }

  function setField(name, value) {
    var box = field(name);
    if (!box) return;
    if (box.type === "checkbox") { box.checked = !!value; return; }
    box.value = String(value);
    var range = document.querySelector('input[type=range][data-mirror="' + box.id + '"]');
    if (range) range.value = String(value);
  }

  function lockPanel(locked) {
    var lab = panel();
    if (!lab) return;
    lab.classList.toggle("following", locked);
    lab.querySelectorAll("form input, form select, form button").forEach(function (input) {
      input.disabled = locked;
    });
    var presets = lab.querySelector(".presets");
    if (presets) presets.inert = locked;
  }

  function showFollow(moved) {
    var bar = $("room-follow");
    if (!bar || !state) return;
    var on = following();
    var studentPaced = state.mode === "student";
    bar.dataset.following = on ? "true" : "false";
    bar.dataset.moved = moved ? "true" : "false";
    lockPanel(on);
    var status;
    if (moved) status = T.moved;
    else if (studentPaced) status = T.student_paced;
    else if (on) status = T.following;
    else status = state.query !== shown ? T.away_changed : T.away;
    setText("room-follow-status", status);
    $("room-break").hidden = !on;
    $("room-rejoin").hidden = on && !moved;
    $("room-rejoin").textContent = studentPaced && !moved ? T.match : T.rejoin;
  }

  function wireStudent() {
    $("room-break").addEventListener("click", function () {
      window.sessionStorage.setItem(followKey, "away");
      showFollow(false);
      var first = panel() && panel().querySelector("form input:not([type=hidden])");
      if (first) first.focus();
    });
    $("room-rejoin").addEventListener("click", function () {
      window.sessionStorage.removeItem(followKey);
      if ($("room-follow").dataset.moved === "true") { window.location.reload(); return; }
      if (state && state.mode === "student") matchOnce = true;
      shown = null;  // fetch the instructor's result even if the values look the same
      send({ type: "resync" });  // the state as stored, even if broadcasts were missed
    });
  }

  // -- the instructor drives the room ---------------------------------------------

  function formValues(form) {
    var data = new FormData(form);
    var params = {};
    var seed = null;
    var preset = null;
    data.forEach(function (value, name) {
      if (name === "seed") seed = value;
      else if (name === "preset") preset = value;
      else params[name] = value;  // a ticked box's "on" comes after its hidden "off", and wins
    });
    return { params: params, seed: seed, preset: preset };
  }

  function wireInstructor() {
    document.body.addEventListener("htmx:afterRequest", function (event) {
      // Only the panel's own successful reruns: a refused value (400) is not sent to the class.
      // A preset swaps the whole panel: the event then comes from the panel's parent,
      // and the element that asked is the request's own.
      var source = (event.detail.requestConfig && event.detail.requestConfig.elt) || event.detail.elt;
      var owner = source && source.closest ? source.closest("[data-lab]") : null;
      if (!owner || owner.dataset.lab !== config.component || !event.detail.xhr || event.detail.xhr.status !== 200) return;
      window.setTimeout(function () {
        var form = $("lab-" + config.component + "-form");
        if (!form) return;
        var values = formValues(form);
        // A deferred part's batches come back one request at a time: the values
        // did not change, so the class is not sent them again.
        var sent = JSON.stringify(values);
        if (sent === lastSent) return;
        if (send({ type: "set_params", params: values.params, seed: values.seed, preset: values.preset })) lastSent = sent;
      }, 0);
    });
    document.querySelectorAll("input[name=room-mode]").forEach(function (radio) {
      radio.addEventListener("change", function () { send({ type: "set_mode", mode: radio.value }); });
    });
    document.querySelectorAll("form[data-room-action]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        instructorAction(form);
      });
    });
  }

  function instructorAction(form) {
    var action = form.dataset.roomAction;
    var data = new FormData(form);
    if (action === "ask") {
      send({ type: "ask", prompt: data.get("prompt"), metric: data.get("metric"), scale: Number(data.get("scale")) });
    } else if (action === "traffic_start") {
      var settings = {};
      data.forEach(function (value, name) { settings[name] = value; });
      send({ type: "traffic_start", settings: settings });
    } else if (action === "ab_start") {
      send({ type: "ab_start", question: data.get("question"), variant_a: data.get("variant_a"),
        variant_b: data.get("variant_b"), split: Number(data.get("split")) });
    } else if (action === "move") {
      var place = String(data.get("place") || "").split("|");
      send({ type: "move", lesson: place[0], component: place[1] });
    } else if (action === "end") {
      if (window.confirm(T.confirm_end)) send({ type: "end" });
    }
  }

  function syncMode(mode) {
    document.querySelectorAll("input[name=room-mode]").forEach(function (radio) {
      radio.checked = radio.value === mode;
    });
  }

  function refreshMetrics() {
    var select = $("room-ask-metric");
    if (!select || !config.metricsUrl || !window.htmx) return;
    window.htmx.ajax("GET", config.metricsUrl, { target: select, swap: "outerHTML" });
  }

  // -- the current activity ---------------------------------------------------------

  function renderActivity() {
    var box = $("room-activity");
    if (!box) return;
    var activity = state && state.activity;
    box.replaceChildren();
    box.hidden = !activity;
    if (!activity) return;
    box.dataset.kind = activity.kind;
    if (activity.kind === "predict") renderPredict(box, activity);
    else if (activity.kind === "traffic") renderTraffic(box, activity);
    else if (activity.kind === "ab") renderAB(box, activity);
    if (role === "instructor") box.appendChild(instructorButtons(activity));
  }

  function instructorButtons(activity) {
    var row = el("p", { className: "activity-buttons" });
    function button(label, message, className) {
      var b = el("button", { type: "button", text: label, className: className || "" });
      b.addEventListener("click", function () { send(message); });
      row.appendChild(b);
    }
    if (activity.kind === "predict" && !activity.revealed) button(T.reveal, { type: "reveal" }, "primary");
    if (activity.kind === "traffic" && activity.tally.running) button(T.stop, { type: "traffic_stop" }, "primary");
    if (activity.kind === "ab" && activity.tally.running) button(T.stop, { type: "ab_stop" }, "primary");
    button(T.clear, { type: "clear" });
    return row;
  }

  function heading(text) { return el("h2", { text: text }); }

  function renderPredict(box, a) {
    var t = a.tally || {};
    box.appendChild(heading(T.predict_title));
    box.appendChild(el("p", { className: "activity-prompt", text: a.prompt }));
    box.appendChild(el("p", { className: "muted", text: fill(a.scale === 100 ? T.about_metric_pct : T.about_metric,
      { metric: a.metric }) }));
    box.appendChild(el("p", { className: "activity-count", role: "status",
      text: fill(T.answers_so_far, { n: whole.format(t.answers || 0) }) }));
    if (role === "student" && !a.revealed) box.appendChild(answerForm());
    if (role === "student" && answered && answered.of === "answer") {
      box.appendChild(el("p", { className: "your-answer", text: fill(T.your_answer, { value: num.format(answered.value) }) }));
    }
    if (t.bins && t.bins.length) box.appendChild(histogramTable(t));
    if (a.revealed && t.truth !== null && t.truth !== undefined) {
      box.appendChild(el("p", { className: "truth-value", text: fill(T.truth, { value: num.format(t.truth) }) }));
      if (t.median !== null && t.median !== undefined) {
        box.appendChild(el("p", { className: "muted", text: fill(T.class_median, { value: num.format(t.median) }) }));
      }
    } else if (role === "instructor") {
      box.appendChild(el("p", { className: "muted", text: T.only_you_see }));
    }
  }

  function answerForm() {
    var form = el("form", { className: "answer-form" });
    var input = el("input", { type: "text", inputmode: "decimal", id: "room-answer", autocomplete: "off",
      "aria-label": T.your_prediction, required: "required" });
    form.appendChild(el("label", { "for": "room-answer", text: T.your_prediction }));
    form.appendChild(input);
    form.appendChild(el("button", { type: "submit", text: answered ? T.change_answer : T.submit }));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim().replace(",", ".");
      if (text) send({ type: "answer", value: text });
    });
    return form;
  }

  function histogramTable(t) {
    var max = Math.max.apply(null, t.bins.map(function (b) { return b.count; }).concat([1]));
    var table = el("table", { className: "histogram" }, [el("caption", { text: T.histogram_caption })]);
    table.appendChild(el("thead", {}, [el("tr", {}, [
      el("th", { scope: "col", text: T.range }), el("th", { scope: "col", text: T.answers })])]));
    var body = el("tbody");
    t.bins.forEach(function (bin) {
      var bar = el("span", { className: "bar" });
      bar.style.inlineSize = (80 * bin.count / max) + "%";  // CSSOM, not a style attribute; room for the count
      var label = num.format(bin.lo) + " – " + num.format(bin.hi);
      var count = el("td", { className: "bar-cell" }, [bar, el("span", { className: "bar-count", text: whole.format(bin.count) })]);
      var row = el("tr", bin.truth ? { className: "truth" } : {}, [el("th", { scope: "row", text: label }), count]);
      if (bin.truth) count.appendChild(el("span", { className: "truth-mark", text: " ◀ " + T.true_value }));
      body.appendChild(row);
    });
    table.appendChild(body);
    return table;
  }

  function limiterText(a) {
    var s = a.settings;
    if (a.limiter === "bucket") return fill(T.limiter_bucket, { rate: num.format(s.rate_per_s), capacity: s.capacity });
    return fill(a.limiter === "fixed" ? T.limiter_fixed : T.limiter_sliding, { limit: s.limit, window: num.format(s.window_s) });
  }

  function renderTraffic(box, a) {
    var t = a.tally || {};
    box.appendChild(heading(T.traffic_title));
    box.appendChild(el("p", { className: "muted", text: limiterText(a) + (t.running ? "" : " · " + T.stopped) }));
    var figures = el("div", { className: "traffic-figures", role: "status" }, [
      el("p", { className: "accepted" }, [el("span", { className: "figure", text: whole.format(t.accepted || 0) }),
        el("span", { text: " " + T.accepted })]),
      el("p", { className: "rejected" }, [el("span", { className: "figure", text: whole.format(t.rejected || 0) }),
        el("span", { text: " " + T.rejected })])]);
    box.appendChild(figures);
    if (role === "student" && t.running) {
      var press = el("button", { type: "button", className: "press", text: T.press });
      press.addEventListener("click", function () { send({ type: "press" }); });
      box.appendChild(press);
      if (lastDecision) {
        box.appendChild(el("p", { className: "decision " + (lastDecision.allowed ? "accepted" : "rejected"),
          text: lastDecision.allowed ? fill(T.your_accepted, { remaining: lastDecision.remaining })
            : fill(T.your_rejected, { s: num.format(lastDecision.retry_after_s) }) }));
      }
    }
    if (t.timeline && t.timeline.length) box.appendChild(timelineChart(t.timeline));
  }

  function timelineChart(rows) {
    var width = 600, height = 160, pad = 28;
    var max = Math.max.apply(null, rows.map(function (r) { return r[1] + r[2]; }).concat([1]));
    var step = (width - pad) / Math.max(rows.length, 1);
    var chart = svg("svg", { viewBox: "0 0 " + width + " " + (height + pad), role: "img", "aria-label": T.timeline_label,
      "class": "timeline" });
    rows.forEach(function (row, i) {
      var x = pad + i * step;
      var ok = (height - 10) * row[1] / max, no = (height - 10) * row[2] / max;
      chart.appendChild(svg("rect", { x: x, y: height - ok, width: Math.max(step - 2, 1), height: ok, "class": "ok" }));
      chart.appendChild(svg("rect", { x: x, y: height - ok - no, width: Math.max(step - 2, 1), height: no, "class": "no" }));
    });
    chart.appendChild(svg("line", { x1: pad, x2: width, y1: height, y2: height, "class": "axis" }));
    var label = svg("text", { x: pad, y: height + 22, "class": "axis-label" });
    label.textContent = fill(T.timeline_axis, { n: rows.length });
    chart.appendChild(label);
    var figure = el("figure", { className: "traffic-chart" }, [chart]);
    figure.appendChild(el("figcaption", { className: "legend" }, [
      el("span", { className: "key ok", text: T.accepted }), el("span", { className: "key no", text: T.rejected })]));
    return figure;
  }

  function renderAB(box, a) {
    var t = a.tally || {};
    var you = (state && state.you) || {};
    box.appendChild(heading(T.ab_title));
    box.appendChild(el("p", { className: "activity-prompt", text: a.question }));
    if (role === "student") {
      var variant = you.variant;
      box.appendChild(el("blockquote", { className: "variant", text: variant === "B" ? a.variant_b : a.variant_a }));
      box.appendChild(el("p", { className: "muted", text: fill(T.you_see, { v: variant || "?" }) }));
      if (t.running) {
        var row = el("p", { className: "vote-buttons" });
        [[true, T.yes], [false, T.no]].forEach(function (pair) {
          var b = el("button", { type: "button", text: pair[1], "aria-pressed": String(!!(answered && answered.of === "vote" && answered.yes === pair[0])) });
          b.addEventListener("click", function () { send({ type: "vote", yes: pair[0] }); });
          row.appendChild(b);
        });
        box.appendChild(row);
      }
    } else {
      box.appendChild(el("div", { className: "variants" }, [
        el("blockquote", { className: "variant", text: "A: " + a.variant_a }),
        el("blockquote", { className: "variant", text: "B: " + a.variant_b })]));
    }
    var stats = t.stats;
    var table = el("table", { className: "ab-table" });
    table.appendChild(el("thead", {}, [el("tr", {}, [el("th", { scope: "col", text: T.variant }),
      el("th", { scope: "col", text: T.students }), el("th", { scope: "col", text: T.yes_rate })])]));
    var body = el("tbody");
    [["A", t.a], ["B", t.b]].forEach(function (pair) {
      var g = pair[1] || { units: 0, yes: 0 };
      body.appendChild(el("tr", {}, [el("th", { scope: "row", text: pair[0] }), el("td", { text: whole.format(g.units) }),
        el("td", { text: g.units ? num.format(100 * g.yes / g.units) + " %" : "–" })]));
    });
    table.appendChild(body);
    box.appendChild(table);
    box.appendChild(el("p", { className: "ab-verdict", role: "status", text: stats ? fill(T.ab_stats, {
      diff: num.format(100 * stats.diff), low: num.format(100 * stats.ci_low), high: num.format(100 * stats.ci_high),
      p: num.format(stats.p_value), level: "95%" }) + " " +
      (stats.significant ? fill(T.significant, { alpha: "5%" }) : T.not_significant) : T.ab_waiting }));
    if (t.history && t.history.length > 1) box.appendChild(convergenceChart(t.history));
    if (!t.running) box.appendChild(el("p", { className: "muted", text: T.stopped }));
  }

  function convergenceChart(history) {
    var width = 600, height = 180, pad = 30;
    var low = Math.min.apply(null, history.map(function (h) { return h.ci_low; }).concat([0]));
    var high = Math.max.apply(null, history.map(function (h) { return h.ci_high; }).concat([0]));
    var span = (high - low) || 1;
    var last = history[history.length - 1].votes;
    function x(v) { return pad + (width - pad - 4) * v / last; }
    function y(v) { return 6 + (height - 12) * (high - v) / span; }
    var chart = svg("svg", { viewBox: "0 0 " + width + " " + (height + 20), role: "img", "aria-label": fill(T.convergence_label, { level: "95%" }),
      "class": "convergence" });
    var band = history.map(function (h) { return x(h.votes) + "," + y(h.ci_high); })
      .concat(history.slice().reverse().map(function (h) { return x(h.votes) + "," + y(h.ci_low); }));
    chart.appendChild(svg("polygon", { points: band.join(" "), "class": "band" }));
    chart.appendChild(svg("polyline", { points: history.map(function (h) { return x(h.votes) + "," + y(h.diff); }).join(" "),
      "class": "diff" }));
    chart.appendChild(svg("line", { x1: pad, x2: width, y1: y(0), y2: y(0), "class": "zero" }));
    var label = svg("text", { x: pad, y: height + 16, "class": "axis-label" });
    label.textContent = fill(T.convergence_axis, { n: last });
    chart.appendChild(label);
    return el("figure", { className: "ab-chart" }, [chart, el("figcaption", { className: "muted", text: fill(T.convergence_label, { level: "95%" }) })]);
  }

  // -- start -----------------------------------------------------------------------

  function start() {
    state = null;
    if (role === "student") wireStudent();
    if (role === "instructor") wireInstructor();
    if (role === "projector") lockPanel(true);
    onState(config.state);
    connect();
  }

  // After htmx has wired the panel (it starts on DOMContentLoaded too).
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  // A panel swapped by htmx (a preset) comes back unlocked: lock it again while following.
  document.body && document.body.addEventListener("htmx:afterSettle", function () {
    if (role === "student" && state) showFollow(state.component !== config.component || state.lesson !== config.lesson);
    if (role === "projector") lockPanel(true);
  });
})();
