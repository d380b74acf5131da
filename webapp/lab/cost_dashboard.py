"""Cost optimisation dashboard (sections 30.4, 30.7, 30.9, 30.10): charts, tables, panels, summary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from django.utils.translation import gettext as _

from simulations.component import Result

from .presentation import Chart, Presentation, Table, Widget, figure, marked, ms, pct, usd

SYSTEMS = ("before", "after")
# Before and after told apart by pattern, dash and marker as well as colour.
STYLE = {"before": ("#8a94a6", "", "solid", "circle"), "after": ("#0b5cad", "/", "dash", "diamond")}
MODEL_PATTERN = {"gpt-4o": "", "gpt-4o-mini": "x"}
KIND_PATTERN = {"input": "", "output": "."}
PRICE_FIELDS = ("price_in_large", "price_out_large", "price_in_small", "price_out_small")


def system_label(system: str) -> str:
    return {"before": _("before"), "after": _("after")}.get(system, system)


def lever_label(lever: str) -> str:
    return {
        "cache": _("exact cache"),
        "max_tokens": _("max_tokens cap"),
        "routing": _("routing"),
        "compression": _("prompt compression"),
        "batching": _("batching and concurrency"),
        "retries_fallbacks": _("retries and fallbacks"),
    }.get(lever, lever)


def kind_label(kind: str) -> str:
    return {"input": _("input tokens"), "output": _("output tokens")}.get(kind, kind)


def _money(value: float) -> str:
    """Dollars with cents, or with four decimals under a dollar; plain $0 for nothing at all."""
    if value == 0:
        return "$0"
    return f"${value:,.2f}" if abs(value) >= 1 else f"${value:.4f}"


def _dollars(value: float) -> str:
    return f"${value:,.2f}"


# -- cost -----------------------------------------------------------------------------

def _waterfall_chart(result: Result) -> Chart:
    rows = result.series["waterfall"]
    metrics = result.metrics
    labels = [_two_lines(label) for label in (_("before"), *(lever_label(r["lever"]) for r in rows), _("after"))]
    values = [metrics["baseline_cost_usd"], *(-r["saved_usd"] for r in rows), metrics["optimized_cost_usd"]]
    texts = [_money(values[0]), *(_signed(v) for v in values[1:-1]), _money(values[-1])]
    # Horizontal: the levers' names read across, on a phone as on a laptop.
    fig = figure(
        [{"type": "waterfall", "orientation": "h", "y": labels, "x": values, "text": texts, "textposition": "auto",
          "measure": ["absolute", *(["relative"] * len(rows)), "total"],
          "decreasing": {"marker": {"color": "#1a7f37"}}, "increasing": {"marker": {"color": "#b42318"}},
          "totals": {"marker": {"color": "#0b5cad"}}, "connector": {"line": {"dash": "dot"}},
          "hovertemplate": "%{y}: %{text}<extra></extra>"}],
        xaxis={"title": {"text": _("USD per day")}, "rangemode": "tozero"},
        yaxis={"automargin": True, "autorange": "reversed"}, showlegend=False, height=380,
        margin={"l": 10, "r": 10, "t": 10, "b": 40})
    table = Table([_("Step"), _("Saved per day (USD)"), _("Cost per day after the step (USD)")],
                  _waterfall_rows(metrics["baseline_cost_usd"], rows))
    return Chart("waterfall", _("Where the savings come from: one lever after another"), fig, table, wide=True)


def _two_lines(label: str) -> str:
    """A long axis label broken at its middle space, so that the chart keeps its width on a phone."""
    if len(label) <= 12 or " " not in label:
        return label
    spaces = [i for i, c in enumerate(label) if c == " "]
    cut = min(spaces, key=lambda i: abs(i - len(label) / 2))
    return label[:cut] + "<br>" + label[cut + 1:]


def _signed(value: float) -> str:
    if value == 0:
        return "±$0"
    return ("−" if value < 0 else "+") + _money(abs(value))


def _waterfall_rows(baseline: float, rows: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    out = [[_("before"), "", f"{baseline:.4f}"]]
    running = baseline
    for row in rows:
        running -= row["saved_usd"]
        out.append([lever_label(row["lever"]), f"{row['saved_usd']:.4f}", f"{running:.4f}"])
    return out


def _cost_by_model_chart(result: Result) -> Chart:
    rows = result.series["cost_by_model"]
    models = list(dict.fromkeys(r["model"] for r in rows))
    traces = []
    for model in models:
        mine = [r for r in rows if r["model"] == model]
        traces.append({"type": "bar", "name": model, "x": [system_label(r["system"]) for r in mine],
                       "y": [r["cost_usd"] for r in mine], "text": [_money(r["cost_usd"]) for r in mine],
                       "textposition": "inside", "marker": {"pattern": {"shape": MODEL_PATTERN.get(model, "")}}})
    fig = figure(traces, barmode="stack", yaxis={"title": {"text": _("USD per day")}, "rangemode": "tozero"})
    table = Table([_("System"), _("Model"), _("Cost per day (USD)")],
                  [[system_label(r["system"]), r["model"], f"{r['cost_usd']:.4f}"] for r in rows])
    return Chart("cost-by-model", _("Cost per day before and after, by model"), fig, table, wide=True)


def _tokens_chart(result: Result) -> Chart:
    rows = result.series["tokens"]
    traces = []
    for kind in ("input", "output"):
        mine = [r for r in rows if r["kind"] == kind]
        traces.append({"type": "bar", "name": kind_label(kind), "x": [system_label(r["system"]) for r in mine],
                       "y": [r["tokens_per_day"] for r in mine],
                       "text": [f"{r['tokens_per_day'] / 1e6:.2f}M" for r in mine], "textposition": "auto",
                       "marker": {"pattern": {"shape": KIND_PATTERN[kind]}}})
    fig = figure(traces, barmode="group", yaxis={"title": {"text": _("billed tokens per day")}, "rangemode": "tozero"})
    table = Table([_("System"), _("Kind"), _("Tokens per day")],
                  [[system_label(r["system"]), kind_label(r["kind"]), f"{r['tokens_per_day']:,.0f}"] for r in rows])
    return Chart("tokens", _("Billed tokens per day: input and output"), fig, table, wide=True)


def _latency_chart(result: Result) -> Chart:
    rows = result.series["latency"]
    names = (("p50_ms", "P50"), ("p95_ms", "P95"), ("p99_ms", "P99"))
    traces = []
    for row in rows:
        colour, pattern, _dash, _marker = STYLE[row["system"]]
        traces.append({"type": "bar", "name": system_label(row["system"]), "x": [n for _k, n in names],
                       "y": [row[k] for k, _n in names], "text": [ms(row[k]) for k, _n in names],
                       "textposition": "auto", "marker": {"color": colour, "pattern": {"shape": pattern}}})
    fig = figure(traces, barmode="group", yaxis={"title": {"text": _("milliseconds")}, "rangemode": "tozero"})
    table = Table([_("System"), "P50", "P95", "P99", _("P95 from the histogram"), _("P99 from the histogram")],
                  [[system_label(r["system"]), ms(r["p50_ms"]), ms(r["p95_ms"]), ms(r["p99_ms"]),
                    ms(r["p95_histogram_ms"]), ms(r["p99_histogram_ms"])] for r in rows])
    return Chart("latency", _("Latency percentiles, from arrival to answer"), fig, table, wide=True)


def _budget_chart(result: Result) -> Chart:
    events = [e for e in result.series["budget_race"] if e["event"] == "spent"]
    budget = result.metrics["budget"]
    label = {"naive": _("check, then spend"), "reserve": _("reserve, then settle (Lua)")}
    dash = {"naive": ("solid", "circle"), "reserve": ("dash", "diamond")}
    traces = []
    for strategy in ("naive", "reserve"):
        mine = [e for e in events if e["strategy"] == strategy]
        traces.append({"type": "scatter", "mode": "lines+markers", "name": label[strategy],
                       "x": [e["t_s"] for e in mine],
                       "y": [(e["spent"] / 1e6 - budget["daily_budget_usd"]) * 100 for e in mine],
                       "line": {"shape": "hv", "dash": dash[strategy][0]}, "marker": {"symbol": dash[strategy][1]}})
    fig = figure(traces, xaxis={"title": {"text": _("seconds (simulated)")}},
                 yaxis={"title": {"text": _("spend above the budget (US cents)")}, "zeroline": False})
    fig["layout"] = marked(fig["layout"], y=0, label=_("the daily budget"))
    rows = [[label[e["strategy"]], f"{e['t_s']:.2f}", e["request"],
             _("refused") if e["event"] == "refused" else _("spent"),
             "" if e["spent"] is None else f"{e['spent'] / 1e6:.6f}"] for e in result.series["budget_race"]]
    table = Table([_("Way"), _("Time (s)"), _("Request"), _("Event"), _("Spent after (USD)")], rows)
    return Chart("budget", _("A burst at the budget's edge: spend as calls finish"), fig, table, wide=True)


# -- monitoring panels -------------------------------------------------------------------

PANELS = (
    ("requests", "requests_per_min", lambda: _("Requests per minute"), lambda v: f"{v:.1f}"),
    ("errors", "error_rate", lambda: _("Error rate"), lambda v: pct(v)),
    ("call-errors", "call_error_rate", lambda: _("Failed model calls, as the callback sees them"), lambda v: pct(v)),
    ("hits", "cache_hit_ratio", lambda: _("Cache hit ratio of model calls"), lambda v: pct(v)),
    ("tokens", "output_tokens_per_min", lambda: _("Output tokens per minute"), lambda v: f"{v:,.0f}"),
    ("cost", "cost_per_min_usd", lambda: _("Cost per minute (USD)"), lambda v: f"{v:.4f}"),
    ("in-flight", "in_flight", lambda: _("Requests in flight (gauge)"), lambda v: f"{v:.0f}"),
)


def _panel_time(row: Mapping[str, Any]) -> float:
    return row["t_s"] / 60.0


def _monitoring_charts(result: Result) -> list[Chart]:
    rows = result.series["monitoring"]
    x_title = {"title": {"text": _("minutes (simulated)")}}
    charts = []
    for key, field, title, fmt in PANELS:
        traces = []
        for system in SYSTEMS:
            mine = [r for r in rows if r["system"] == system]
            colour, _pattern, dash, marker = STYLE[system]
            traces.append({"type": "scatter", "mode": "lines+markers", "name": system_label(system),
                           "x": [_panel_time(r) for r in mine], "y": [r[field] for r in mine],
                           "line": {"color": colour, "dash": dash}, "marker": {"symbol": marker}})
        fig = figure(traces, height=260, xaxis=x_title, yaxis={"rangemode": "tozero"},
                     margin={"l": 10, "r": 10, "t": 10, "b": 40})
        table = Table([_("System"), _("Minute"), title()],
                      [[system_label(r["system"]), f"{_panel_time(r):.2f}", fmt(r[field])] for r in rows])
        charts.append(Chart(f"panel-{key}", title(), fig, table))
    charts.insert(1, _latency_panel(rows, x_title))
    return charts


def _latency_panel(rows: Sequence[Mapping[str, Any]], x_title: dict) -> Chart:
    traces = []
    quantiles = (("p50_s", "P50", "dot"), ("p95_s", "P95", "dash"), ("p99_s", "P99", "solid"))
    for system in SYSTEMS:
        mine = [r for r in rows if r["system"] == system and r["p50_s"] is not None]
        colour, _pattern, _dash, marker = STYLE[system]
        for field, name, dash in quantiles:
            traces.append({"type": "scatter", "mode": "lines+markers", "name": f"{system_label(system)} {name}",
                           "x": [_panel_time(r) for r in mine], "y": [r[field] for r in mine],
                           "line": {"color": colour, "dash": dash}, "marker": {"symbol": marker, "size": 5}})
    fig = figure(traces, height=260, xaxis=x_title, yaxis={"title": {"text": _("seconds")}, "rangemode": "tozero"},
                 margin={"l": 10, "r": 10, "t": 10, "b": 40})
    table = Table([_("System"), _("Minute"), "P50", "P95", "P99"],
                  [[system_label(r["system"]), f"{_panel_time(r):.2f}",
                    *("" if r[f] is None else f"{r[f]:.2f}" for f in ("p50_s", "p95_s", "p99_s"))] for r in rows])
    return Chart("panel-latency", _("Latency P50 / P95 / P99 (histogram_quantile)"), fig, table)


def charts(result: Result) -> list[Chart]:
    return [_waterfall_chart(result), _cost_by_model_chart(result), _tokens_chart(result), _latency_chart(result),
            _budget_chart(result), *_monitoring_charts(result)]


# -- tables and widgets -------------------------------------------------------------------

def metrics(result: Result) -> Table:
    before, after = result.metrics["before"], result.metrics["after"]

    def row(label: str, key: str, fmt) -> list[str]:
        return [label, fmt(before[key]), fmt(after[key])]

    rows = [
        row(_("Cost per day"), "cost_per_day_usd", _dollars),
        row(_("Cost per 30 days"), "cost_per_day_usd", lambda v: _dollars(30 * v)),
        row(_("Throughput capacity (QPS)"), "qps", lambda v: f"{v:.1f}"),
        row("P50", "p50_latency_ms", ms), row("P95", "p95_latency_ms", ms), row("P99", "p99_latency_ms", ms),
        row(_("Cache hit rate"), "cache_hit_rate", pct),
        row(_("Availability (modelled)"), "availability", lambda v: pct(v, 3)),
        row(_("Requests answered in the sample"), "availability_sample", pct),
        row(_("Good answers (right and complete)"), "good_answer_rate", pct),
        row(_("Answers cut by max_tokens"), "truncated_rate", pct),
        row(_("Input tokens per day"), "input_tokens_per_day", lambda v: f"{v:,.0f}"),
        row(_("Output tokens per day"), "output_tokens_per_day", lambda v: f"{v:,.0f}"),
    ]
    return Table([_("Metric"), _("Before"), _("After")], rows)


def _case_widget(result: Result) -> Widget:
    formats = {"qps": lambda v: f"{v:.1f}", "p95_latency_ms": ms, "cost_per_day_usd": _dollars,
               "cache_hit_rate": pct, "availability": lambda v: pct(v, 2)}
    labels = {"qps": _("QPS"), "p95_latency_ms": _("P95 latency"), "cost_per_day_usd": _("Cost per day"),
              "cache_hit_rate": _("Cache hit rate"), "availability": _("Availability")}
    rows = [[labels[r["metric"]], formats[r["metric"]](r["book_before"]), formats[r["metric"]](r["book_after"]),
             formats[r["metric"]](r["before"]), formats[r["metric"]](r["after"])] for r in result.series["case_study"]]
    table = Table([_("Metric"), _("The chapter, before"), _("The chapter, after"), _("This run, before"),
                   _("This run, after")], rows)
    return Widget("lab/widgets/cost_dashboard_case.html", {"table": table})


def _price_widget(result: Result) -> Widget:
    rows = result.series["prices"]
    params = dict(result.params)
    chapter = {"price_in_large": rows[0]["book_per_1m"], "price_out_large": rows[0]["book_per_1m"],
               "price_in_small": rows[1]["book_per_1m"], "price_out_small": rows[1]["book_per_1m"]}
    listed = {"price_in_large": rows[0]["list_input_per_1m"], "price_out_large": rows[0]["list_output_per_1m"],
              "price_in_small": rows[1]["list_input_per_1m"], "price_out_small": rows[1]["list_output_per_1m"]}
    table = Table([_("Model"), _("Input, this run"), _("Output, this run"), _("Input, list price"),
                   _("Output, list price"), _("The chapter's one price")],
                  [[r["model"], f"${r['input_per_1m']:.2f}", f"${r['output_per_1m']:.2f}",
                    f"${r['list_input_per_1m']:.2f}", f"${r['list_output_per_1m']:.2f}", f"${r['book_per_1m']:.2f}"]
                   for r in rows], caption=_("USD per million tokens"))
    return Widget("lab/widgets/cost_dashboard_prices.html", {
        "table": table, "book_query": _query(params, chapter, result.seed),
        "list_query": _query(params, listed, result.seed)})


def _query(params: Mapping[str, Any], prices: Mapping[str, float], seed: int) -> str:
    values = {"preset": "", **params, **prices, "seed": seed}
    return urlencode({k: ("on" if v is True else "off" if v is False else v) for k, v in values.items()})


def _budget_widget(result: Result) -> Widget:
    budget = result.metrics["budget"]
    race = budget["race"]
    label = {"naive": _("check, then spend"), "reserve": _("reserve, then settle (Lua)")}
    race_table = Table([_("Way"), _("Admitted"), _("Refused"), _("Spent at the end (USD)"), _("Over the budget (USD)")],
                       [[label[k], v["admitted"], v["refused"], f"{v['spent_usd']:.6f}", f"{v['overspend_usd']:.6f}"]
                        for k, v in race.items()],
                       caption=_("Daily budget %(budget)s; room left before the burst %(room)s") % {
                           "budget": usd(budget["daily_budget_usd"], 2), "room": usd(budget["headroom_usd"], 4)})

    def hour(value: float | None) -> str:
        return "—" if value is None else _("%(h)s h") % {"h": f"{value:.1f}"}

    alerts = Table([_("Alert"), _("Before: fires at"), _("After: fires at")],
                   [[pct(float(k), 0), hour(budget["alert_hours_before"][k]), hour(budget["alert_hours_after"][k])]
                    for k in budget["alert_hours_after"]],
                   caption=_("Hour of the day each alert fires with steady traffic (— : not today)"))
    return Widget("lab/widgets/cost_dashboard_budget.html", {"race": race_table, "alerts": alerts})


def _exposition_widget(result: Result) -> Widget:
    text = result.series["exposition"]
    return Widget("lab/widgets/cost_dashboard_metrics.html", {"text": text, "lines": text.count("\n")})


def widgets(result: Result) -> list[Widget]:
    return [_case_widget(result), _price_widget(result), _budget_widget(result), _exposition_widget(result)]


def summary(result: Result) -> str:
    m = result.metrics
    before, after = m["before"], m["after"]
    return _(
        "About %(requests)s requests a day: before, %(before)s a day on gpt-4o; after, %(after)s "
        "(%(saved)s less). The cache answered %(hits)s of requests; P95 latency went from %(p95b)s to "
        "%(p95a)s and good answers from %(goodb)s to %(gooda)s."
    ) % {
        "requests": f"{m['requests_per_day']:,.0f}", "before": _dollars(m["baseline_cost_usd"]),
        "after": _dollars(m["optimized_cost_usd"]), "saved": pct(m["savings_pct"] / 100),
        "hits": pct(after["cache_hit_rate"], 0), "p95b": ms(before["p95_latency_ms"]),
        "p95a": ms(after["p95_latency_ms"]), "goodb": pct(before["good_answer_rate"], 0),
        "gooda": pct(after["good_answer_rate"], 0),
    }


PRESENTATION = Presentation(component="cost-dashboard", charts=charts, metrics=metrics, summary=summary,
                            widgets=widgets)
