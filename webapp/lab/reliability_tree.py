"""Retries, fallbacks and a circuit breaker (sections 30.5, 30.6, 30.11): charts, table, summary, the tree."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.utils.translation import gettext
from django.utils.translation import gettext as _

from simulations.component import Result
from simulations.components.reliability_tree import SPEC, STRATEGY_LABELS
from simulations.reliability import tree
from simulations.reliability.breaker import STATES

from .presentation import PERCENT, Chart, Presentation, Table, Widget, figure, ms, pct, seconds, usd


def strategy_label(name: str) -> str:
    return gettext(STRATEGY_LABELS[name]) if name in STRATEGY_LABELS else name


# Series told apart by pattern (bars), dash and marker (lines) as well as colour.
STRATEGY_PATTERN = {"no_retry": "", "retry": "/", "retry_after": "-", "fallback": "\\", "breaker": "x", "full": "."}
SERVER_COLOURS = ("#0b5cad", "#2e7d32", "#6a1b9a", "#8c6d1f")  # primary, then each backup model
SERVER_PATTERNS = ("", "/", "\\", "-")
CACHE_STYLE, DEFAULT_STYLE, ERROR_STYLE = ("#5b8db8", "."), ("#8c959f", "+"), ("#b42318", "x")
LAYER_STYLE = {
    "first": ("#0b5cad", ""),
    "sdk_retry": ("#d4a72c", "/"),
    "chain_retry": ("#e36209", "\\"),
    "gateway_retry": ("#b42318", "x"),
    "fallback": ("#6a1b9a", "."),
}


# Stacked bars list their series in the order they stack, not reversed.
LEGEND = {"orientation": "h", "y": 1.02, "yanchor": "bottom", "traceorder": "normal"}


def layer_label(layer: str) -> str:
    return {
        "first": _("first call"),
        "sdk_retry": _("client retries (max_retries)"),
        "chain_retry": _("with_retry retries"),
        "gateway_retry": _("gateway retries"),
        "fallback": _("fallback to the same provider"),
    }.get(layer, layer)


def server_label(server: str) -> str:
    return {"cache": _("cache (stale answer)"), "default": _("default answer"), "error": _("error")}.get(server, server)


def state_label(state: str) -> str:
    return {"closed": _("closed"), "open": _("open"), "half_open": _("half-open")}.get(state, state)


def _strategies(result: Result) -> Mapping[str, Mapping[str, Any]]:
    return result.metrics["strategies"]


def _server_styles(result: Result) -> dict[str, tuple[str, str]]:
    servers = result.series["servers"]
    models = [s for s in servers if s not in ("cache", "default", "error")]
    styles = {m: (SERVER_COLOURS[i % len(SERVER_COLOURS)], SERVER_PATTERNS[i % len(SERVER_PATTERNS)])
              for i, m in enumerate(models)}
    return {**styles, "cache": CACHE_STYLE, "default": DEFAULT_STYLE, "error": ERROR_STYLE}


def _outage_shape(result: Result) -> list[dict[str, Any]]:
    outage = result.metrics["outage"]
    if not outage:
        return []
    return [{"type": "rect", "xref": "x", "yref": "paper", "x0": outage[0], "x1": outage[1], "y0": 0, "y1": 1,
             "fillcolor": "#b42318", "opacity": 0.08, "line": {"width": 0}}]


def _outage_note(result: Result) -> list[dict[str, Any]]:
    outage = result.metrics["outage"]
    if not outage:
        return []
    return [{"x": outage[0], "xref": "x", "y": 0.98, "yref": "paper", "yanchor": "top", "xanchor": "left",
             "showarrow": False, "text": _("outage"), "font": {"color": "#b42318"},
             "bgcolor": "rgba(255, 255, 255, 0.8)"}]  # readable over a bar


# -- who answered ----------------------------------------------------------------------


def _answered_chart(result: Result) -> Chart:
    per = _strategies(result)
    labels = [strategy_label(n) for n in per]
    primary = result.params["primary"]
    segments = (
        ("primary", _("answered by %(model)s") % {"model": primary}, "#0b5cad", "",
         lambda m: m["availability"] - m["fallback_rate"] - m["cache_rate"]),
        ("fallback", _("answered by a fallback model"), "#2e7d32", "/", lambda m: m["fallback_rate"]),
        ("cache", server_label("cache"), CACHE_STYLE[0], CACHE_STYLE[1], lambda m: m["cache_rate"]),
        ("default", server_label("default"), DEFAULT_STYLE[0], DEFAULT_STYLE[1], lambda m: m["default_rate"]),
        ("error", _("error shown to the user"), ERROR_STYLE[0], ERROR_STYLE[1], lambda m: m["error_rate"]),
    )
    traces = []
    for _segment, name, colour, pattern, value in segments:
        shares = [max(0.0, value(m)) for m in per.values()]
        if not any(shares):
            continue  # a legend entry for nothing only adds noise
        traces.append({"type": "bar", "name": name, "orientation": "h", "y": labels,
                       "x": [s * PERCENT for s in shares], "text": [pct(s, 0) if s else "" for s in shares],
                       "textposition": "inside", "textangle": 0,
                       "marker": {"color": colour, "pattern": {"shape": pattern}}})
    fig = figure(traces, barmode="stack", height=380, legend=LEGEND,
                 xaxis={"range": [0, 100], "ticksuffix": "%"},
                 yaxis={"autorange": "reversed", "automargin": True})
    rows = [[strategy_label(n), pct(m["availability"]), pct(m["fallback_rate"]), pct(m["cache_rate"]),
             pct(m["default_rate"]), pct(m["error_rate"])] for n, m in per.items()]
    table = Table([_("Strategy"), _("Availability (answered)"), _("by a fallback model"), _("from the cache"),
                   _("default answer"), _("errors")], rows)
    return Chart("answered", _("Who answered: share of requests per strategy"), fig, table, wide=True)


# -- latency and cost --------------------------------------------------------------------


def _latency_chart(result: Result) -> Chart:
    per = _strategies(result)
    labels = [strategy_label(n) for n in per]
    traces = [
        {"type": "bar", "name": name, "orientation": "h", "y": labels, "x": [m[key] / 1000 for m in per.values()],
         "text": [seconds(m[key] / 1000) for m in per.values()], "textposition": "auto",
         "marker": {"color": colour, "pattern": {"shape": pattern}}}
        for key, name, colour, pattern in (("p50_latency_ms", "p50", "#5b8db8", ""),
                                            ("p95_latency_ms", "p95", "#0b5cad", "/"))
    ]
    fig = figure(traces, barmode="group", legend=LEGEND, xaxis={"rangemode": "tozero", "ticksuffix": " s"},
                 yaxis={"autorange": "reversed", "automargin": True})
    rows = [[strategy_label(n), ms(m["p50_latency_ms"]), ms(m["p95_latency_ms"]), ms(m["max_latency_ms"])]
            for n, m in per.items()]
    table = Table([_("Strategy"), "p50", "p95", _("slowest")], rows)
    return Chart("latency", _("What users waited, failures included (p50 and p95, simulated seconds)"), fig, table)


def _cost_chart(result: Result) -> Chart:
    per = _strategies(result)
    labels = [strategy_label(n) for n in per]
    costs = [m["cost_usd"] for m in per.values()]
    fig = figure(
        [{"type": "bar", "orientation": "h", "y": labels, "x": costs, "text": [usd(c) for c in costs],
          "textposition": "auto", "marker": {"pattern": {"shape": [STRATEGY_PATTERN.get(n, "") for n in per]}}}],
        xaxis={"tickprefix": "$"}, yaxis={"autorange": "reversed", "automargin": True})
    rows = [[strategy_label(n), usd(m["cost_usd"]), f"{m['calls_per_request']:.2f}", pct(m["correct_rate"])]
            for n, m in per.items()]
    table = Table([_("Strategy"), _("Cost (USD)"), _("Calls per request, all models"),
                   _("Correct answers")], rows)
    return Chart("cost", _("Cost of the whole run in USD (failed calls are not billed)"), fig, table)


# -- load on the failing provider -----------------------------------------------------------


def _provider_calls_chart(result: Result) -> Chart:
    per = _strategies(result)
    labels = [strategy_label(n) for n in per]
    traces = []
    for layer, (colour, pattern) in LAYER_STYLE.items():
        values = [m["provider_calls_by_layer"][layer] for m in per.values()]
        if any(values):
            traces.append({"type": "bar", "name": layer_label(layer), "orientation": "h", "y": labels,
                           "x": values, "marker": {"color": colour, "pattern": {"shape": pattern}},
                           "hovertemplate": "%{y}: %{x:.2f}<extra>" + layer_label(layer) + "</extra>"})
    fig = figure(traces, barmode="stack", height=380, legend=LEGEND,
                 xaxis={"rangemode": "tozero"},
                 yaxis={"autorange": "reversed", "automargin": True})
    rows = [[strategy_label(n), f"{m['provider_calls_per_request']:.2f}",
             *(f"{m['provider_calls_by_layer'][layer]:.2f}" for layer in LAYER_STYLE),
             m["most_calls_for_one_request"]] for n, m in per.items()]
    table = Table([_("Strategy"), _("Per request"), *(layer_label(layer) for layer in LAYER_STYLE),
                   _("Most for one request")], rows)
    title = _("Calls reaching the failing provider (%(provider)s) per user request, by layer; the retry "
              "layers allow up to %(max)s") % {"provider": result.metrics["provider"],
                                                "max": result.metrics["max_calls_per_request"]}
    return Chart("provider-calls", title, fig, table, wide=True)


# -- over time ----------------------------------------------------------------------------


def _served_chart(result: Result) -> Chart:
    focus = result.params["focus"]
    rows = result.series["served_per_second"][focus]
    width = result.series["bucket_s"]
    styles = _server_styles(result)
    traces = []
    for server in result.series["servers"]:
        counts = [row[server] for row in rows]
        if any(counts):
            colour, pattern = styles[server]
            traces.append({"type": "bar", "name": server_label(server), "x": [row["t_s"] for row in rows],
                           "y": counts, "width": width * 0.9, "offset": 0,
                           "marker": {"color": colour, "pattern": {"shape": pattern}}})
    layout = {"shapes": _outage_shape(result), "annotations": _outage_note(result)}
    peak = max((sum(row[s] for s in result.series["servers"]) for row in rows), default=0)
    whole_ticks = {"dtick": 1} if peak <= 8 else {}  # counts are whole numbers: no 0.5 ticks
    fig = figure(traces, barmode="stack", legend=LEGEND, **layout,
                 xaxis={"title": {"text": _("arrival time (s)")}},
                 yaxis={"title": {"text": _("requests")}, "rangemode": "tozero", **whole_ticks})
    table = Table([_("From (s)"), *(server_label(s) for s in result.series["servers"])],
                  [[f"{row['t_s']:g}", *(row[s] for s in result.series["servers"])] for row in rows])
    title = _("Requests per %(width)s s by who served them: %(strategy)s") % {
        "width": f"{width:g}", "strategy": strategy_label(focus)}
    return Chart("served", title, fig, table, wide=True)


def _breaker_chart(result: Result) -> Chart:
    levels = {state: i for i, state in enumerate(STATES)}
    traces = []
    table_rows = []
    # The two lines often coincide: the second is drawn a little lower so both stay visible.
    for key, name, dash, symbol, shift in (("breaker_state", strategy_label("breaker"), "solid", "circle", 0.0),
                                           ("breaker_state_full", strategy_label("full"), "dash", "diamond", -0.12)):
        points = result.series[key]
        traces.append({"type": "scatter", "mode": "lines+markers", "name": name, "line": {"shape": "hv", "dash": dash},
                       "marker": {"symbol": symbol, "size": 8},
                       "x": [t for t, _ in points], "y": [levels[state] + shift for _, state in points]})
        table_rows += [[name, f"{t:.2f}", state_label(state)] for t, state in points]
    fig = figure(traces, shapes=_outage_shape(result), annotations=_outage_note(result),
                 xaxis={"title": {"text": _("time (s)")}},
                 yaxis={"tickvals": list(levels.values()), "ticktext": [state_label(s) for s in levels],
                        "range": [-0.4, len(levels) - 0.6], "automargin": True})
    table = Table([_("Strategy"), _("From (s)"), _("State")], table_rows)
    return Chart("breaker", _("The circuit breaker's state over time"), fig, table)


def stream_case_label(case: str) -> str:
    return {
        "before_first_token": _("fails before token 1"),
        "mid_stream": _("cut mid-answer"),
        "restart": _("cut, then restarted"),
    }.get(case, case)


def _stream_segments(case: dict) -> tuple[int, int, int]:
    """(tokens of a whole answer, tokens of a broken answer, tokens shown and then discarded)."""
    whole = case["kept_tokens"] if case["complete"] else 0
    broken = 0 if case["complete"] else case["kept_tokens"]
    discarded = case["primary_tokens"] + case["fallback_tokens"] - case["kept_tokens"]
    return whole, broken, discarded


def _stream_chart(result: Result) -> Chart:
    cases = result.series["stream_cut"]
    labels = [stream_case_label(c["case"]) for c in cases]
    parts = [_stream_segments(c) for c in cases]
    styles = ((_("whole answer"), "#0b5cad", ""),
              (_("half an answer, then an error"), "#b42318", "x"),
              (_("shown, then thrown away"), "#8c959f", "/"))
    traces = [{"type": "bar", "orientation": "h", "name": name, "y": labels, "x": [p[i] for p in parts],
               "marker": {"color": colour, "pattern": {"shape": pattern}}}
              for i, (name, colour, pattern) in enumerate(styles) if any(p[i] for p in parts)]
    fig = figure(traces, barmode="stack", legend=LEGEND, xaxis={"title": {"text": _("tokens")}},
                 yaxis={"autorange": "reversed", "automargin": True})
    rows = [[stream_case_label(c["case"]), c["primary_tokens"], c["fallback_tokens"], c["kept_tokens"],
             _("yes") if c["complete"] else _("no, error: %(error)s") % {"error": c["error"]}] for c in cases]
    table = Table([_("Case"), _("Primary sent"), _("Fallback sent"), _("Reader keeps"), _("Whole answer?")], rows)
    return Chart("stream", _("Streaming: a fallback only helps before the first token"), fig, table)


def charts(result: Result) -> list[Chart]:
    return [_answered_chart(result), _served_chart(result), _latency_chart(result), _cost_chart(result),
            _provider_calls_chart(result), _breaker_chart(result), _stream_chart(result)]


def metrics(result: Result) -> Table:
    rows = [[strategy_label(n), pct(m["availability"]), pct(m["default_rate"]), pct(m["error_rate"]),
             ms(m["p50_latency_ms"]), ms(m["p95_latency_ms"]), usd(m["cost_usd"]),
             f"{m['provider_calls_per_request']:.2f}", pct(m["correct_rate"])]
            for n, m in _strategies(result).items()]
    headers = [_("Strategy"), _("Availability"), _("Default answers"), _("Errors"), "p50", "p95", _("Cost (USD)"),
               _("Provider calls per request"), _("Correct answers")]
    return Table(headers, rows)


def summary(result: Result) -> str:
    per = _strategies(result)
    return _(
        "%(n)s requests to %(primary)s: with no retry %(none)s were answered; with_retry answered %(retry)s "
        "(p95 %(retry_p95)s, %(retry_calls).2f calls to the failing provider per request); the full strategy "
        "answered %(full)s (p95 %(full_p95)s, %(full_calls).2f calls per request) and gave %(full_default)s "
        "default answers."
    ) % {
        "n": result.metrics["requests"], "primary": result.params["primary"],
        "none": pct(per["no_retry"]["availability"]),
        "retry": pct(per["retry"]["availability"]), "retry_p95": ms(per["retry"]["p95_latency_ms"]),
        "retry_calls": per["retry"]["provider_calls_per_request"],
        "full": pct(per["full"]["availability"]), "full_p95": ms(per["full"]["p95_latency_ms"]),
        "full_calls": per["full"]["provider_calls_per_request"],
        "full_default": pct(per["full"]["default_rate"]),
    }


# -- the decision tree widget -----------------------------------------------------------------


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def _answer_label(answer: str) -> str:
    return _("yes") if answer == tree.YES else _("no")


def _outline(node: tree.Node, path: str, here: str, query: str) -> dict[str, Any]:
    """One node of the whole tree, with its children, for the nested list."""
    item = {"path": path, "href": f"{query}&tree={path}", "current": path == here,
            "on_path": here.startswith(path) if path != tree.ROOT else True}
    if isinstance(node, tree.Leaf):
        return {**item, "leaf": True, "text": gettext(node.title)}
    return {**item, "leaf": False, "text": gettext(node.text),
            "children": [{"answer": _answer_label(answer), **_outline(child, tree.child(path, answer), here, query)}
                         for answer, child in ((tree.YES, node.yes), (tree.NO, node.no))]}


def widgets(result: Result) -> list[Widget]:
    here = result.params["tree"]
    query = urlencode({**{k: _query_value(v) for k, v in result.params.items() if k != "tree"},
                       "seed": result.seed})
    node = tree.node_at(here)
    steps = [{"question": gettext(question.text), "answer": _answer_label(answer), "href": f"{query}&tree={path}"}
             for path, question, answer in tree.trail(here)]
    context: dict[str, Any] = {"query": query, "path": here, "steps": steps, "step": len(steps) + 1,
                               "restart_href": f"{query}&tree={tree.ROOT}",
                               "outline": _outline(tree.TREE, tree.ROOT, here, query)}
    if isinstance(node, tree.Question):
        context["question"] = {"text": gettext(node.text), "help": gettext(node.help),
                               "yes_href": f"{query}&tree={tree.child(here, tree.YES)}",
                               "no_href": f"{query}&tree={tree.child(here, tree.NO)}"}
    else:
        chosen = _strategies(result)[node.strategy]
        context["leaf"] = {"title": gettext(node.title), "advice": gettext(node.advice), "preset": node.preset,
                           "strategy": strategy_label(node.strategy),
                           "availability": pct(chosen["availability"]), "p95": ms(chosen["p95_latency_ms"]),
                           "cost": usd(chosen["cost_usd"]),
                           "calls": f"{chosen['provider_calls_per_request']:.2f}",
                           "preset_active": all(result.params.get(k) == v for k, v in
                                                _preset_values(node.preset).items())}
    return [Widget("lab/widgets/reliability_tree.html", context)]


def _preset_values(name: str) -> Mapping[str, Any]:
    return SPEC.presets[name]


PRESENTATION = Presentation(component="reliability-tree", charts=charts, metrics=metrics, summary=summary,
                            widgets=widgets)
