"""Model routing (section 32.5): the flow, cost, latency and quality by policy, the router's curves, the prompt box."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from simulations.component import Note, Result
from simulations.components.routing_flow import SPEC
from simulations.routing import book

from . import route_tool
from .presentation import PERCENT, Chart, Presentation, Table, Widget, figure, marked, ms, pct, sentences, usd
from .routing_labels import class_label, node_label, policy_label, reason_text, tier_label

# Told apart by marker, dash and bar pattern as well as colour.
STYLE = {
    "strongest": ("#b42318", "square", "", "solid"),
    "book": ("#d4a72c", "diamond", "x", "dot"),
    "length": ("#6a1b9a", "triangle-up", "-", "dash"),
    "improved": ("#0b5cad", "circle", "/", "solid"),
    "threshold": ("#2e7d32", "star", "\\", "longdash"),
    "cascade": ("#00838f", "cross", ".", "dashdot"),
    "random": ("#6b7280", "x-thin-open", "", "dot"),
}
MODEL_COLOURS = {"gpt-3.5-turbo": "#2e7d32", "gpt-4": "#0b5cad", "claude-3-opus": "#6a1b9a",
                 "too-long": "#b42318", "refused": "#6b7280"}
CLASS_PATTERNS = {"simple": "", "medium": "/", "complex": "x", "specialized": "."}
# Where a policy's name sits beside its point: the chapter's router often lands on "all to gpt-4",
# and the length rule near the left edge.
LABEL_POSITION = {"book": "bottom center", "length": "top right"}


def _policies(result: Result) -> Mapping[str, Mapping[str, Any]]:
    return result.metrics["policies"]


# -- the flow ---------------------------------------------------------------------------------


def _flow_chart(result: Result) -> Chart:
    flow = result.series["flow"]
    nodes = flow["nodes"]
    keys = [n["key"] for n in nodes]
    total = result.metrics["requests"]
    labels = [f"{node_label(n['key'])} · {pct(n['count'] / total, 0)}" for n in nodes]
    colours = [_node_colour(k) for k in keys]
    index = {k: i for i, k in enumerate(keys)}
    links = flow["links"]
    trace = {
        "type": "sankey", "arrangement": "snap", "valueformat": ",d",
        "node": {"label": labels, "customdata": keys, "color": colours, "pad": 14, "thickness": 16,
                 "line": {"color": "#1f2937", "width": 0.5},
                 "hovertemplate": "%{label}<br>%{value} " + _("requests") + "<extra></extra>"},
        "link": {"source": [index[link["source"]] for link in links],
                 "target": [index[link["target"]] for link in links],
                 "value": [link["value"] for link in links],
                 "customdata": [f"{link['source']}>{link['target']}" for link in links],
                 "color": ["rgba(100, 116, 139, 0.35)"] * len(links),
                 "hovertemplate": "%{source.label} → %{target.label}: %{value}<extra></extra>"},
    }
    fig = figure([trace], height=420, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                 meta={"policy": flow["policy"]})
    table = Table([_("From"), _("To"), _("Requests"), _("Share of all requests")],
                  [[node_label(link["source"]), node_label(link["target"]), link["value"],
                    pct(link["value"] / total)] for link in links])
    title = _("Where every request went: %(policy)s") % {"policy": policy_label(flow["policy"])}
    return Chart("flow", title, fig, table, wide=True)


def _node_colour(key: str) -> str:
    kind, _sep, name = key.partition(":")
    if kind == "model":
        return MODEL_COLOURS.get(name, "#6b7280")
    return {"all": "#374151", "class": "#94a3b8", "tier": "#a78bfa"}.get(kind, "#94a3b8")


# -- cost, latency, quality by policy ------------------------------------------------------------


def _bar(names: Sequence[str], values: Sequence[float], texts: Sequence[str], name: str = "",
         pattern: bool = True) -> dict[str, Any]:
    return {"type": "bar", "name": name, "x": [policy_label(n) for n in names], "y": list(values),
            "text": list(texts), "textposition": "auto", "textangle": 0, "cliponaxis": False,
            "marker": {"color": [STYLE[n][0] for n in names],
                       "pattern": {"shape": [STYLE[n][2] if pattern else "" for n in names],
                                   "fgcolor": "#ffffff", "fgopacity": 0.6}}}


def _cost_chart(result: Result) -> Chart:
    per = _policies(result)
    names = list(per)
    monthly = result.params["monthly_requests"]
    costs = [per[n]["avg_cost_per_request_usd"] for n in names]
    bar = _bar(names, costs, [usd(c) for c in costs])
    bar.update(textposition="outside", textangle=0,
               customdata=[_money(per[n]["monthly_cost_usd"]) for n in names],
               hovertemplate="%{x}: %{text}, %{customdata} / " + _("month") + "<extra></extra>")
    top = max(costs, default=0.0) * 1.2 or 1.0
    # The right axis reads the same bars as a monthly bill.
    fig = figure([bar], showlegend=False, xaxis={"automargin": True},
                 yaxis={"title": {"text": _("USD per request")}, "range": [0, top]},
                 yaxis2={"title": {"text": _("USD per month")}, "range": [0, top * monthly], "overlaying": "y",
                         "side": "right", "showgrid": False, "tickformat": "$,.0f"},
                 margin={"l": 10, "r": 10, "t": 10, "b": 40})
    fig["data"].append({"type": "scatter", "x": [bar["x"][0]], "y": [0], "yaxis": "y2", "mode": "markers",
                        "marker": {"opacity": 0}, "hoverinfo": "skip", "showlegend": False})
    table = Table([_("Policy"), _("USD per request"), _("USD per month (%(n)s requests)") % {"n": f"{monthly:,}"}],
                  [[policy_label(n), usd(c, 5), _money(per[n]["monthly_cost_usd"])] for n, c in zip(names, costs)])
    return Chart("cost", _("Cost per request, and per month"), fig, table)


def _money(value: float) -> str:
    return f"${value:,.0f}"


def _latency_chart(result: Result) -> Chart:
    per = _policies(result)
    names = list(per)
    traces = []
    for key, label, shape in (("p50_latency_ms", _("p50"), ""), ("p95_latency_ms", _("p95"), "x")):
        values = [per[n][key] / 1000 for n in names]
        traces.append({"type": "bar", "name": label, "x": [policy_label(n) for n in names], "y": values,
                       "text": [f"{v:.1f}" for v in values], "textposition": "auto", "textangle": 0,
                       "marker": {"color": "#0b5cad" if key.startswith("p50") else "#d4a72c",
                                  "pattern": {"shape": shape}}})
    fig = figure(traces, barmode="group", yaxis={"title": {"text": _("seconds (simulated)")}, "rangemode": "tozero"},
                 xaxis={"automargin": True})
    table = Table([_("Policy"), _("p50"), _("p95"), _("mean")],
                  [[policy_label(n), ms(per[n]["p50_latency_ms"]), ms(per[n]["p95_latency_ms"]),
                    ms(per[n]["mean_latency_ms"])] for n in names])
    return Chart("latency", _("Latency of answered requests, p50 and p95"), fig, table)


def _quality_chart(result: Result) -> Chart:
    per = _policies(result)
    names = list(per)
    values = [per[n]["mean_quality"] * PERCENT for n in names]
    bar = _bar(names, values, [pct(per[n]["mean_quality"]) for n in names])
    bar.update(textposition="outside")  # above the bar: a label on the patterns is hard to read
    fig = figure([bar], showlegend=False,
                 # xgettext:no-python-format
                 yaxis={"title": {"text": _("% of requests answered right")}, "range": [0, 100]},
                 xaxis={"automargin": True})
    table = Table([_("Policy"), _("Answered right"), _("Failed (400)"), _("Refused")],
                  [[policy_label(n), pct(per[n]["mean_quality"]), pct(per[n]["error_rate"]),
                    pct(per[n]["refused_rate"])] for n in names])
    return Chart("quality", _("Quality: share of requests answered right"), fig, table)


# -- the router's curves ---------------------------------------------------------------------------


def _curve_rows(result: Result, router: str, day: str) -> list[Mapping[str, Any]]:
    return [r for r in result.series["curves"] if r["router"] == router and r["day"] == day]


def _active_day(result: Result) -> str:
    return "tomorrow" if result.params["shift"] else "today"


def _day_label(day: str) -> str:
    return {"today": _("today"), "tomorrow": _("tomorrow")}[day]


def _frontier_chart(result: Result) -> Chart:
    day = _active_day(result)
    traces = []
    curves = [("threshold", day), ("cascade", day), ("random", day)]
    if day == "tomorrow":
        curves.insert(1, ("threshold", "today"))
    for router, which in curves:
        rows = sorted(_curve_rows(result, router, which), key=lambda r: r["cost"])
        colour, symbol, _p, dash = STYLE[router]
        name = _router_label(router)
        if day == "tomorrow":
            name = _("%(router)s (%(day)s)") % {"router": name, "day": _day_label(which)}
        traces.append({"type": "scatter", "mode": "lines+markers", "name": name,
                       "x": [r["cost"] for r in rows], "y": [r["quality"] * PERCENT for r in rows],
                       "line": {"color": colour, "dash": "dot" if which == "today" and day == "tomorrow" else dash},
                       "marker": {"symbol": symbol, "size": 5},
                       "opacity": 0.5 if which == "today" and day == "tomorrow" else 1.0})
    per = _policies(result)
    for name in ("strongest", "book", "length", "improved", "threshold", "cascade"):
        colour, symbol, _p, _d = STYLE[name]
        label = policy_label(name)
        if name in ("threshold", "cascade"):
            knob = result.params["threshold" if name == "threshold" else "cascade_threshold"]
            label = _("%(policy)s at %(knob)s") % {"policy": label, "knob": f"{knob:.2f}"}
        traces.append({"type": "scatter", "mode": "markers+text", "name": label,
                       "x": [per[name]["avg_cost_per_request_usd"]], "y": [per[name]["mean_quality"] * PERCENT],
                       "text": [policy_label(name)], "textposition": LABEL_POSITION.get(name, "top center"),
                       "marker": {"symbol": symbol, "size": 13, "color": colour,
                                  "line": {"color": "#111827", "width": 1}}})
    fig = figure(traces, height=420, xaxis={"title": {"text": _("USD per request")}, "rangemode": "tozero"},
                 # xgettext:no-python-format
                 yaxis={"title": {"text": _("% answered right")}})
    rows = [[_router_label(r["router"]), _day_label(r["day"]), f"{r['knob']:.2f}", usd(r["cost"], 5),
             pct(r["quality"]), pct(r["strong_share"])]
            for r in _table_points(result.series["curves"])]
    table = Table([_("Router"), _("Traffic"), _("Threshold or share"), _("USD per request"), _("Answered right"),
                   _("Requests on gpt-4")], rows)
    return Chart("frontier", _("Cost against quality as the thresholds move"), fig, table, wide=True)


def _table_points(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The curves' points for their data tables: the threshold router every 0.1, the others every 0.05."""
    return [r for r in rows if r["router"] != "threshold" or round(r["knob"] * 100) % 10 == 0 or r["knob"] > 1]


def _router_label(name: str) -> str:
    return {"threshold": _("threshold router"), "cascade": _("cascade"), "random": _("random router")}[name]


def _routellm_chart(result: Result) -> Chart:
    day = _active_day(result)
    traces = [{"type": "scatter", "mode": "lines", "name": _("recovers what it pays for"), "x": [0, 100],
               "y": [0, 100], "line": {"color": "#9ca3af", "dash": "dash", "width": 1}, "hoverinfo": "skip"}]
    for router in ("threshold", "cascade", "random"):
        rows = sorted(_curve_rows(result, router, day), key=lambda r: (r["strong_share"], r["pgr"]))
        colour, symbol, _p, dash = STYLE[router]
        traces.append({"type": "scatter", "mode": "lines+markers", "name": _router_label(router),
                       "x": [r["strong_share"] * PERCENT for r in rows], "y": [r["pgr"] * PERCENT for r in rows],
                       "line": {"color": colour, "dash": dash}, "marker": {"symbol": symbol, "size": 6}})
    layout: dict[str, Any] = {
        # xgettext:no-python-format
        "xaxis": {"title": {"text": _("% of requests sent to gpt-4")}, "range": [0, 100]},
        # xgettext:no-python-format
        "yaxis": {"title": {"text": _("% of the quality gap recovered")}, "range": [-5, 105]}}
    scores = result.metrics["routellm"]["threshold"]
    fig = figure(traces, **layout)
    if scores["cpt80"] is not None:
        fig["layout"] = marked(fig["layout"], x=scores["cpt80"] * PERCENT, label=_("CPT(80%%) %(v)s") % {
            "v": pct(scores["cpt80"], 0)})
    rows = [[_router_label(r["router"]), f"{r['knob']:.2f}", pct(r["strong_share"]), pct(r["pgr"])]
            for r in _table_points(result.series["curves"]) if r["day"] == day]
    table = Table([_("Router"), _("Threshold or share"), _("Requests on gpt-4"), _("Quality gap recovered")], rows)
    return Chart("routellm", _("Quality gap recovered per share of gpt-4 calls (RouteLLM)"), fig, table)


def _classes_chart(result: Result) -> Chart:
    rows = result.series["classes_by_language"]
    sources = {"truth": _("true class"), "book": _("the chapter's classifier"), "improved": _("our classifier")}
    langs = {"en": _("English"), "zh": _("Chinese")}
    y = [f"{sources[r['source']]}<br>{langs[r['lang']]}" for r in rows]
    traces = []
    for name in ("simple", "medium", "complex", "specialized"):
        values = [r[name] * PERCENT for r in rows]
        traces.append({"type": "bar", "orientation": "h", "name": class_label(name), "y": y, "x": values,
                       "text": [f"{v:.0f}%" if v >= 6 else "" for v in values], "textposition": "inside",
                       "marker": {"pattern": {"shape": CLASS_PATTERNS[name]}}})
    fig = figure(traces, barmode="stack", height=max(300, 56 * len(rows) + 90),
                 legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "traceorder": "normal"},
                 # xgettext:no-python-format
                 xaxis={"title": {"text": _("% of requests")}, "range": [0, 100]},
                 yaxis={"autorange": "reversed", "automargin": True})
    table = Table([_("Labelled by"), _("Requests"), *(class_label(c) for c in CLASS_PATTERNS)],
                  [[f"{sources[r['source']]} · {langs[r['lang']]}", r["requests"], *(pct(r[c]) for c in CLASS_PATTERNS)]
                   for r in rows])
    return Chart("classes", _("What each classifier calls the same requests"), fig, table, wide=True)


def charts(result: Result) -> list[Chart]:
    return [_flow_chart(result), _cost_chart(result), _latency_chart(result), _quality_chart(result),
            _frontier_chart(result), _routellm_chart(result), _classes_chart(result)]


# -- table, summary, widgets --------------------------------------------------------------------------


def metrics(result: Result) -> Table:
    per = _policies(result)
    rows = [[policy_label(n), usd(m["avg_cost_per_request_usd"], 5), _money(m["monthly_cost_usd"]),
             ms(m["p50_latency_ms"]), ms(m["p95_latency_ms"]), pct(m["mean_quality"]), pct(m["strong_share"]),
             pct(m["error_rate"]), pct(m["refused_rate"])] for n, m in per.items()]
    return Table([_("Policy"), _("USD per request"), _("USD per month"), _("p50"), _("p95"), _("Answered right"),
                  _("Requests past gpt-3.5-turbo"), _("Failed (400)"), _("Refused")], rows)


def summary(result: Result) -> str:
    m = result.metrics
    policy = m["policy"]
    mine, base = m["policies"][policy], m["policies"]["strongest"]
    return _(
        "%(n)s requests, %(zh)s%% of them in Chinese; user tiers: %(tiers)s; priority: %(priority)s. In the flow, "
        "%(policy)s costs %(cost)s a request (%(monthly)s a month), %(reduction)s less than sending everything to "
        "gpt-4 (%(base)s), and answers %(quality)s right against %(base_quality)s; p95 latency %(p95)s."
    ) % {
        "n": f"{m['requests']:,}", "zh": result.params["chinese_pct"],
        "tiers": gettext(SPEC["tiers"].choice_labels[result.params["tiers"]]),
        "priority": gettext(SPEC["priority"].choice_labels[result.params["priority"]]),
        "policy": policy_label(policy), "cost": usd(mine["avg_cost_per_request_usd"]),
        "monthly": _money(mine["monthly_cost_usd"]), "reduction": f"{m['cost_reduction_pct']:.0f}%",
        "base": usd(base["avg_cost_per_request_usd"]), "quality": pct(mine["mean_quality"]),
        "base_quality": pct(base["mean_quality"]), "p95": ms(mine["p95_latency_ms"]),
    }


def widgets(result: Result) -> list[Widget]:
    out = [Widget("lab/widgets/routing_flow_box.html", route_tool.box_context(result)),
           _table_widget("routellm", _("How good is the router? RouteLLM's scores"), _routellm_table(result)),
           _table_widget("trace", _("The first requests, through the real chain"), _trace_table(result))]
    if result.metrics.get("book_preset"):
        out.insert(1, _table_widget("book", _("The chapter's figures, recomputed"), _book_table(result)))
    return out


def _table_widget(key: str, title: str, table: Table) -> Widget:
    """A table that scrolls sideways on a phone, its caption as a note below that wraps to the screen."""
    return Widget("lab/widgets/routing_flow_table.html",
                  {"key": key, "title": title, "table": replace(table, caption=""), "note": table.caption})


def _cpt(value: float | None) -> str:
    return pct(value, 0) if value is not None else _("never")


def _routellm_table(result: Result) -> Table:
    scores = result.metrics["routellm"]
    rows = [[_router_label(name), _cpt(scores[name]["cpt50"]), _cpt(scores[name]["cpt80"]),
             f"{scores[name]['apgr']:.2f}"] for name in ("threshold", "cascade", "random")]
    caption = _("Quality with gpt-3.5-turbo only: %(weak)s; with gpt-4 only: %(strong)s. CPT(x%%): the share of "
                "requests sent to gpt-4 needed to recover x%% of that gap (lower is better). APGR: the area under "
                "the curve (higher is better; a random router scores about 0.5).") % {
        "weak": pct(scores["weak_quality"]), "strong": pct(scores["strong_quality"])}
    return Table([_("Router"), _("CPT(50%)"), _("CPT(80%)"), _("APGR")], rows, caption)


def _trace_table(result: Result) -> Table:
    outcome = {"ok": _("answered"), "too_long": _("400: too long"), "refused": _("refused")}
    rows = []
    for row in result.trace:
        why = sentences([reason_text(Note(n["code"], n["template"], n["data"])) for n in row["why"]])
        model = row["model"] + (" ↑" if row["escalated"] else "")
        rows.append([row["request"], _shorten(row["prompt"]), tier_label(row["tier"]), class_label(row["kind"]),
                     model, outcome[row["outcome"]], f"{row['input_tokens']:,} / {row['output_tokens']:,}",
                     usd(row["cost_usd"], 5), f"{row['latency_s']:.2f}", why])
    caption = _("Each request below went through the RunnableBranch chain on the mock models; tokens, cost and "
                "latency are what the mock model reported.")
    return Table([_("#"), _("Prompt"), _("Tier"), _("Class"), _("Model"), _("Outcome"), _("Tokens in / out"),
                  _("USD"), _("Seconds"), _("Why")], rows, caption)


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _book_table(result: Result) -> Table:
    names = {
        "baseline_cost": _("all GPT-4, per request"), "avg_cost": _("routed, per request"),
        "reduction": _("saving"), "monthly": _("routed, per month"), "saving": _("saved per month"),
        "avg_latency": _("mean latency"), "speedup": _("faster by"), "success": _("task success"),
    }
    rows = []
    for row in result.series["book_check"]:
        unit = row["unit"]
        recomputed = _value(row["recomputed"], unit) if row["recomputed"] is not None else _("not measured")
        if row.get("recomputed_own") is not None:
            own = (_("%(v)s with its own GPT-4 latency") if row["claim"] == "speedup"
                   else _("%(v)s with its own GPT-4 price"))
            recomputed += " · " + own % {"v": _value(row["recomputed_own"], unit)}
        chapter = _value(row["chapter"], unit)
        run = _value(row["run"], unit)
        if row["claim"] == "success":
            chapter += " " + _("(all GPT-4: %(v)s)") % {"v": _value(row["baseline_chapter"], unit)}
            run += " " + _("(all gpt-4: %(v)s)") % {"v": _value(row["baseline_run"], unit)}
        rows.append([names[row["claim"]], chapter, recomputed, run])
    caption = _("Recomputed: the chapter's own mix (%(mix)s) and its prices per request (%(prices)s). This run: "
                "its router, as written, on %(n)s simulated requests with that mix.") % {
        "mix": "/".join(f"{share * 100:.0f}" for share in book.MIX.values()),
        "prices": pgettext("between the items of a list", ", ").join(
            book.dollars(book.PRICE_PER_REQUEST[m]) for m in dict.fromkeys(book.TABLE_MODEL.values())),
        "n": f"{result.metrics['requests']:,}"}
    return Table([_("Figure"), _("The chapter says"), _("Its own numbers give"), _("This run")], rows, caption)


def _value(value: float, unit: str) -> str:
    if unit == "usd":
        return book.dollars(value)
    if unit == "share":
        return pct(value)
    return _("%(n)s s") % {"n": f"{value:.2f}"}


PRESENTATION = Presentation(component="routing-flow", charts=charts, metrics=metrics, summary=summary,
                            widgets=widgets)
