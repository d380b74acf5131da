"""The architecture lab (sections 32.1, 32.2, 32.4): diagram, charts, table and summary."""

from __future__ import annotations

from django.utils.translation import gettext as _

from simulations.architecture.services import CATALOGUE, IN_PROCESS
from simulations.component import Result

from .presentation import Chart, Presentation, Widget, figure, marked, pct, script_json, seconds
from .presentation import Table as _Table


def Table(headers, rows, caption: str = "") -> _Table:  # noqa: N802 - a drop-in for presentation.Table
    """A table whose cells are already text: the template then prints them as they are."""
    return _Table(headers, [[c if isinstance(c, str) else _number(c) for c in row] for row in rows], caption)

TIERS = ("free", "pro", "enterprise")
ROUTES = ("chat", "rag", "agent")
PRIORITY_STYLE = {"high": ("#b42318", "solid", "circle"), "normal": ("#0b5cad", "dash", "square"),
                  "low": ("#6a1b9a", "dot", "diamond")}
METRIC_SYMBOL = {"cpu": "circle", "memory": "square", "queue": "diamond", "latency": "triangle-up"}


def tier_label(tier: str) -> str:
    return {"free": _("free"), "pro": _("pro"), "enterprise": _("enterprise")}.get(tier, tier)


def route_label(route: str) -> str:
    return {"chat": _("chat"), "rag": _("RAG"), "agent": _("agent")}.get(route, route)


def limiter_label(name: str) -> str:
    return {"token_bucket": _("token bucket"), "sliding_window": _("sliding window"),
            "fixed_window": _("fixed window")}.get(name, name)


def priority_label(priority: str) -> str:
    return {"high": _("high (enterprise)"), "normal": _("normal (pro)"), "low": _("low (free)")}.get(priority, priority)


def metric_label(metric: str) -> str:
    return {"cpu": _("CPU"), "memory": _("memory"), "queue": _("queue length"),
            "latency": _("p99 latency")}.get(metric, metric)


def service_label(service: str) -> str:
    return {"client": _("clients"), "gateway": _("API gateway"), "chat": _("chat service"),
            "rag": _("RAG service"), "agent": _("agent service"), "memory": _("memory service"),
            "llm": _("LLM orchestrator"), "storage": _("storage"), "queue": _("queue")}.get(service, service)


def _tiers_chart(result: Result) -> Chart:
    chosen = result.params["limiter"]
    by_tier = result.metrics["limiters"][chosen]["by_tier"]
    labels = [tier_label(t) for t in TIERS]
    traces = [
        {"type": "bar", "name": _("accepted"), "x": labels, "y": [by_tier[t]["accepted"] for t in TIERS],
         "marker": {"color": "#2e7d32", "pattern": {"shape": ""}}},
        {"type": "bar", "name": _("rejected (429)"), "x": labels, "y": [by_tier[t]["rejected"] for t in TIERS],
         "marker": {"color": "#b42318", "pattern": {"shape": "x"}}},
    ]
    fig = figure(traces, barmode="stack", yaxis={"title": {"text": _("requests")}})
    rows = []
    for name, data in result.metrics["limiters"].items():
        for tier in TIERS:
            t = data["by_tier"][tier]
            rows.append([f"{limiter_label(name)} · {tier_label(tier)}", t["accepted"], t["rejected"],
                         t["max_accepted_in_any_window"], result.metrics["limits_by_tier"][tier]])
    table = Table([_("Limiter · tier"), _("Accepted"), _("Rejected"), _("Most in one window (one user)"),
                   _("Limit per window")], rows)
    title = _("Accepted and rejected requests by tier (%(limiter)s)") % {"limiter": limiter_label(chosen)}
    return Chart("tiers", title, fig, table)


def _limiters_chart(result: Result) -> Chart:
    rows = result.series["accepted_over_time"]
    window = result.params["window_s"]
    styles = (("token_bucket", "solid", "circle"), ("sliding_window", "dash", "square"),
              ("fixed_window", "dot", "diamond"))
    traces = [{"type": "scatter", "mode": "lines+markers", "name": _("arrived"), "x": [r[0] for r in rows],
               "y": [r[1] for r in rows], "line": {"color": "#888", "dash": "longdash"}, "marker": {"symbol": "x"}}]
    for column, (name, dash, symbol) in enumerate(styles, start=2):
        traces.append({"type": "scatter", "mode": "lines+markers", "name": limiter_label(name),
                       "x": [r[0] for r in rows], "y": [r[column] for r in rows],
                       "line": {"dash": dash}, "marker": {"symbol": symbol}})
    fig = figure(traces, xaxis={"title": {"text": _("window starting at (s)")}},
                 yaxis={"title": {"text": _("requests per %(window)s s window") % {"window": window}},
                        "rangemode": "tozero"})
    table = Table([_("Window from (s)"), _("Arrived"), *(limiter_label(n) for n, _d, _s in styles)], rows)
    return Chart("limiters", _("The three limiters on the same traffic"), fig, table)


def _queue_chart(result: Result) -> Chart:
    rows = result.series["queue_depth"]
    traces = []
    for column, priority in enumerate(("high", "normal", "low"), start=1):
        colour, dash, symbol = PRIORITY_STYLE[priority]
        traces.append({"type": "scatter", "mode": "lines", "name": priority_label(priority), "x": [r[0] for r in rows],
                       "y": [r[column] for r in rows], "line": {"color": colour, "dash": dash, "shape": "hv"}})
    layout = {"xaxis": {"title": {"text": _("seconds (simulated)")}},
              "yaxis": {"title": {"text": _("tasks waiting")}, "rangemode": "tozero"}}
    if result.params["failed_service"] != "none":
        layout = marked(layout, x=result.params["fail_at_s"], label=_("%(service)s fails") % {
            "service": service_label(result.params["failed_service"])})
    fig = figure(traces, **layout)
    table = Table([_("Time (s)"), *(priority_label(p) for p in ("high", "normal", "low"))],
                  rows[:: max(1, len(rows) // 30)])
    return Chart("queue", _("Queue depth by priority"), fig, table)


def _replicas_chart(result: Result) -> Chart:
    replicas, ready = result.series["replicas"], result.series["ready_pods"]
    traces = [
        {"type": "scatter", "mode": "lines", "name": _("replicas set by the autoscaler"), "x": [r[0] for r in replicas],
         "y": [r[1] for r in replicas], "line": {"shape": "hv", "color": "#0b5cad"}},
        {"type": "scatter", "mode": "lines", "name": _("pods ready"), "x": [r[0] for r in ready],
         "y": [r[1] for r in ready], "line": {"shape": "hv", "dash": "dot", "color": "#2e7d32"}},
    ]
    decisions = [r for r in result.series["hpa_decisions"] if r["drove"] and r["desired_replicas"] != r["current_replicas"]]
    for metric, symbol in METRIC_SYMBOL.items():
        rows = [r for r in decisions if r["metric"] == metric]
        if rows:
            traces.append({"type": "scatter", "mode": "markers", "name": _("scaled on %(metric)s") % {
                "metric": metric_label(metric)}, "x": [r["t_s"] for r in rows], "y": [r["desired_replicas"] for r in rows],
                "marker": {"symbol": symbol, "size": 11}})
    fig = figure(traces, xaxis={"title": {"text": _("seconds (simulated)")}},
                 yaxis={"title": {"text": _("pods")}, "rangemode": "tozero"})
    # One row per sync: each metric's reading and answer, then what the deployment was set to.
    syncs: dict[float, dict] = {}
    for r in result.series["hpa_decisions"]:
        row = syncs.setdefault(r["t_s"], {"current": r["current_replicas"], "desired": r["desired_replicas"]})
        row[r["metric"]] = f"{_number(r['value'])} → {r['raw_desired']}"
    metrics_seen = [m for m in METRIC_SYMBOL if any(m in row for row in syncs.values())]
    table_rows = [[f"{t:.0f}", row["current"], *(row.get(m, "") for m in metrics_seen), row["desired"]]
                  for t, row in syncs.items()]
    table = Table([_("Time (s)"), _("Replicas"),
                   *(_("%(metric)s: value → formula's answer") % {"metric": metric_label(m)} for m in metrics_seen),
                   _("Set to")], table_rows)
    return Chart("replicas", _("Replicas over time, and the metric behind each change"), fig, table, wide=True)


def _number(value) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:g}"


def _latency_chart(result: Result) -> Chart:
    per = result.metrics["latency_by_route"]
    labels = [route_label(r) for r in ROUTES]
    traces = [
        {"type": "bar", "name": "p50", "x": labels, "y": [per[r]["p50_s"] for r in ROUTES],
         "marker": {"pattern": {"shape": ""}}},
        {"type": "bar", "name": "p95", "x": labels, "y": [per[r]["p95_s"] for r in ROUTES],
         "marker": {"pattern": {"shape": "/"}}, "text": [seconds(per[r]["p95_s"]) for r in ROUTES],
         "textposition": "auto"},
    ]
    fig = figure(traces, barmode="group", yaxis={"title": {"text": _("seconds from request to answer")}})
    avail = result.metrics["availability_by_route"]
    table = Table([_("Route"), "p50 (s)", "p95 (s)", _("Answered"), _("Degraded"), _("Failed"), _("Availability")],
                  [[route_label(r), f"{per[r]['p50_s']:.2f}", f"{per[r]['p95_s']:.2f}", per[r]["answered"],
                    per[r]["degraded"], per[r]["failed"], pct(avail[r])] for r in ROUTES])
    return Chart("latency", _("Latency by route"), fig, table)


def _book_chart(result: Result) -> Chart | None:
    if "book_burst" in result.series:
        rows = result.series["book_burst"]
        x = [r["clock"] for r in rows]
        traces = [
            {"type": "scatter", "mode": "lines+markers", "name": _("the chapter's table"), "x": x,
             "y": [r["book_replicas"] for r in rows], "line": {"shape": "hv", "dash": "dash"}, "marker": {"symbol": "x"}},
            {"type": "scatter", "mode": "lines+markers", "name": _("the HPA, CPU following QPS"), "x": x,
             "y": [r["hpa_replicas"] for r in rows], "line": {"shape": "hv"}, "marker": {"symbol": "circle"}},
            {"type": "scatter", "mode": "markers", "name": _("the formula on the chapter's own numbers"), "x": x,
             "y": [r["formula_replicas"] for r in rows], "marker": {"symbol": "diamond", "size": 11}},
        ]
        table = Table([_("Time"), "QPS", _("CPU (chapter)"), _("Replicas (chapter)"), _("Chapter's action"),
                       _("Formula"), _("HPA replay"), _("Differs")],
                      [[r["clock"], r["qps"], f"{r['cpu']}%", r["book_replicas"], r["action"], r["formula_replicas"],
                        r["hpa_replicas"], _("yes") if r["differs"] else _("no")] for r in rows])
        title = _("Scenario 1 of 32.4: the chapter's table beside the HPA")
    elif "book_queue" in result.series:
        rows = result.series["book_queue"]
        x = [f"{i + 1}: {r['queue']}" for i, r in enumerate(rows)]
        traces = [
            {"type": "bar", "name": _("the chapter's table"), "x": x, "y": [r["book_replicas"] for r in rows],
             "marker": {"pattern": {"shape": "x"}}},
            {"type": "bar", "name": _("the formula (External, AverageValue 10)"), "x": x,
             "y": [r["formula_replicas"] for r in rows], "marker": {"pattern": {"shape": ""}}},
            {"type": "bar", "name": _("as the manifest is written (type: Pods)"), "x": x,
             "y": [r["as_written_replicas"] for r in rows], "marker": {"pattern": {"shape": "/"}}},
        ]
        table = Table([_("Queue length"), _("Replicas (chapter)"), _("Chapter's action"), _("Formula"),
                       _("As written"), _("Differs")],
                      [[r["queue"], r["book_replicas"], r["action"], r["formula_replicas"], r["as_written_replicas"],
                        _("yes") if r["differs"] else _("no")] for r in rows])
        title = _("Scenario 2 of 32.4: the chapter's table beside the HPA")
    else:
        return None
    fig = figure(traces, barmode="group", xaxis={"title": {"text": _("row")}},
                 yaxis={"title": {"text": _("replicas")}, "rangemode": "tozero"})
    return Chart("book", title, fig, table, wide=True)


def charts(result: Result) -> list[Chart]:
    out = [_replicas_chart(result), _tiers_chart(result), _queue_chart(result), _latency_chart(result),
           _limiters_chart(result)]
    book = _book_chart(result)
    if book:
        out.insert(0, book)
    return out


def metrics(result: Result) -> Table:
    m = result.metrics
    q = m["queue"]
    rows = []
    for name, data in m["limiters"].items():
        rows.append([_("%(limiter)s: accepted / rejected") % {"limiter": limiter_label(name)},
                     f"{data['accepted']} / {data['rejected']}"])
        rows.append([_("%(limiter)s: most one free user got through in a window (limit %(limit)s)") % {
            "limiter": limiter_label(name), "limit": m["limit_per_window"]}, data["max_accepted_in_any_window"]])
    rows += [
        [_("Tasks enqueued / completed"), f"{q['enqueued']} / {q['completed']}"],
        [_("Tasks lost"), q["lost"]],
        [_("Retries"), q["retried"]],
        [_("Deliveries after a visibility timeout"), q["restored"]],
        [_("Tasks that ran twice"), q["duplicates"]],
        [_("Still queued or running at the end"), q["pending_at_end"]],
        [_("Most replicas"), m["replicas"]["max"]],
    ]
    for route in ROUTES:
        rows.append([_("Availability: %(route)s") % {"route": route_label(route)},
                     pct(m["availability_by_route"][route])])
    return Table([_("Measure"), _("Value")], rows)


def summary(result: Result) -> str:
    m = result.metrics
    chosen = m["limiters"][result.params["limiter"]]
    q = m["queue"]
    avail = m["availability_by_route"]
    return _(
        "%(requests)s requests in %(duration).0f s: the %(limiter)s let %(accepted)s through and refused "
        "%(rejected)s with 429. %(completed)s of %(enqueued)s tasks completed, %(lost)s lost, %(retried)s "
        "retried. The autoscaler ran between %(min)s and %(max)s replicas. Availability: chat %(chat)s, "
        "RAG %(rag)s, agent %(agent)s."
    ) % {"requests": m["requests"], "duration": m["duration_s"], "limiter": limiter_label(result.params["limiter"]),
         "accepted": chosen["accepted"], "rejected": chosen["rejected"], "completed": q["completed"],
         "enqueued": q["enqueued"], "lost": q["lost"], "retried": q["retried"],
         "min": result.params["min_replicas"], "max": m["replicas"]["max"],
         "chat": pct(avail["chat"]), "rag": pct(avail["rag"]), "agent": pct(avail["agent"])}


def frame_text(frame: dict) -> str:
    """One frame of the diagram in words (its text alternative)."""
    incoming = frame["rps"].get("client>gateway", 0.0)
    text = _("At %(t).0f s: %(rps).2f requests/s arrive, %(rejected).2f/s refused; queue high %(high)s, "
             "normal %(normal)s, low %(low)s; %(ready)s of %(replicas)s worker pods ready.") % {
        "t": frame["t_s"], "rps": incoming, "rejected": frame["rejected_rps"], "high": frame["queue"]["high"],
        "normal": frame["queue"]["normal"], "low": frame["queue"]["low"], "ready": frame["ready"],
        "replicas": frame["replicas"]}
    if frame["down"]:
        text += " " + _("Down: %(services)s.") % {"services": ", ".join(service_label(s) for s in frame["down"])}
    return text


# Where each box sits in the diagram (x, y of its centre, in a 800 x 420 drawing).
NODES = {"client": (64, 210), "gateway": (212, 210), "chat": (380, 70), "rag": (380, 210), "agent": (380, 350),
         "memory": (572, 70), "storage": (572, 175), "queue": (585, 300), "llm": (736, 300)}
EDGES = ("client>gateway", "gateway>chat", "gateway>rag", "gateway>agent", "chat>memory", "agent>memory",
         "rag>storage", "chat>queue", "rag>queue", "agent>queue", "queue>llm")
NODE_W, NODE_H = 124, 44


def _border(cx: float, cy: float, dx: float, dy: float) -> tuple[float, float]:
    """Where a line from a box's centre in direction (dx, dy) leaves the box."""
    t = min(NODE_W / 2 / abs(dx) if dx else float("inf"), NODE_H / 2 / abs(dy) if dy else float("inf"))
    return cx + t * dx, cy + t * dy


def _edge_geometry(key: str, first: dict | None) -> dict:
    a, b = key.split(">")
    (ax, ay), (bx, by) = NODES[a], NODES[b]
    x1, y1 = _border(ax, ay, bx - ax, by - ay)
    x2, y2 = _border(bx, by, ax - bx, ay - by)
    rps = (first or {}).get("rps", {}).get(key, 0.0)
    share = 0.5 if key in ("client>gateway", "queue>llm") else 0.35  # labels near the caller: no overlaps
    return {"key": key, "slug": key.replace(">", "-"), "x1": f"{x1:.1f}", "y1": f"{y1:.1f}",
            "x2": f"{x2:.1f}", "y2": f"{y2:.1f}", "lx": f"{x1 + share * (x2 - x1):.1f}",
            "ly": f"{y1 + share * (y2 - y1) + (26 if key == 'client>gateway' else -6):.1f}",
            "label": f"{rps:.2f}/s"}


def _copies(name: str, frame: dict | None, monolith: bool) -> str:
    """The replica count a box shows: the chapter's split, or the monolith's (the autoscaled) pods."""
    if name not in CATALOGUE or name == "llm" or frame is None:
        return ""
    count = frame["replicas"] if monolith and name in IN_PROCESS else CATALOGUE[name].replicas
    return _("%(n)s replicas") % {"n": count}


def widgets(result: Result) -> list[Widget]:
    frames = result.series["frames"]
    words = [frame_text(f) for f in frames]
    monolith = result.params["architecture"] == "monolith"
    data = {"frames": frames, "words": words, "monolith": monolith,
            "service_replicas": {name: service.replicas for name, service in CATALOGUE.items()},
            "in_process": list(IN_PROCESS),
            "labels": {"play": _("Play"), "pause": _("Pause"), "down": _("down"),
                       "replicas": _("%(ready)s of %(replicas)s pods ready"),
                       "copies": _("%(n)s replicas")}}
    return [Widget("lab/widgets/microservices_diagram.html", {
        "frames_json": script_json(data), "first": frames[0] if frames else None, "first_text": words[0] if words else "",
        "rows": [(f"{f['t_s']:.0f}", w) for f, w in zip(frames, words)], "last_index": str(max(0, len(frames) - 1)),
        "first_time": f"{frames[0]['t_s']:.0f}" if frames else "0",
        "first_queue": {p: str(v) for p, v in (frames[0]["queue"].items() if frames else ())},
        "first_ready": str(frames[0]["ready"]) if frames else "0",
        "first_replicas": str(frames[0]["replicas"]) if frames else "0",
        "architecture": result.params["architecture"], "celery": result.metrics["celery"],
        "nodes": [{"name": n, "label": service_label(n), "x": f"{x - NODE_W / 2:g}", "y": f"{y - NODE_H / 2:g}",
                   "cx": f"{x:g}", "name_y": f"{y - 4:g}", "status_y": f"{y + 13:g}",
                   "down": bool(frames and n in frames[0]["down"]),
                   "copies": _copies(n, frames[0] if frames else None, monolith)} for n, (x, y) in NODES.items()],
        "edges": [_edge_geometry(k, frames[0] if frames else None) for k in EDGES],
        "w": str(NODE_W), "h": str(NODE_H),
    })]


PRESENTATION = Presentation(component="microservices", charts=charts, metrics=metrics, summary=summary,
                            widgets=widgets)
