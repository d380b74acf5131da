"""Batching and async (sections 30.2 and 30.3): charts, table and summary."""

from __future__ import annotations

from django.utils.translation import gettext as _

from simulations.component import Result

from .presentation import Chart, Presentation, Table, figure, marked, seconds

# How many requests per strategy the timeline draws; the rest are summarised.
TIMELINE_ROWS = 40


def strategy_label(name: str) -> str:
    return {
        "sequential": _("sequential invoke"),
        "abatch": _("abatch (max_concurrency)"),
        "gather": _("asyncio.gather"),
    }.get(name, name)


# Told apart by pattern as well as colour.
PATTERNS = {"sequential": "", "abatch": "/", "gather": "."}
OUTCOME_STYLE = {"ok": ("#0b5cad", ""), "error": ("#b42318", "x"), "rate_limited": ("#d4a72c", "/")}


def _wall_chart(result: Result) -> Chart:
    rows = result.series["wall_time"]
    labels = [strategy_label(r["strategy"]) for r in rows]
    times = [r["wall_s"] for r in rows]
    fig = figure(
        [{"type": "bar", "x": times, "y": labels, "orientation": "h", "text": [seconds(s) for s in times],
          "textposition": "auto", "marker": {"pattern": {"shape": [PATTERNS.get(r["strategy"], "") for r in rows]}}}],
        xaxis={"title": {"text": _("seconds (simulated)")}}, yaxis={"automargin": True})
    table = Table([_("Strategy"), _("Wall time (s)")], [[lbl, f"{s:.2f}"] for lbl, s in zip(labels, times)])
    return Chart("wall", _("Total wall time per strategy"), fig, table)


def _timeline_chart(result: Result) -> Chart:
    shown = [r for r in result.series["timeline"] if r["request"] < TIMELINE_ROWS]
    traces = []
    for outcome, (colour, pattern) in OUTCOME_STYLE.items():
        rows = [r for r in shown if r["outcome"] == outcome]
        if rows:
            traces.append({
                "type": "bar", "name": _outcome_label(outcome), "orientation": "h",
                "base": [r["start_s"] for r in rows], "x": [r["end_s"] - r["start_s"] for r in rows],
                "y": [_call_label(r) for r in rows],
                "marker": {"color": colour, "pattern": {"shape": pattern}},
                "hovertemplate": "%{y}: %{base:.2f}–%{x:.2f} s<extra></extra>"})
    height = max(320, 14 * len({(r["strategy"], r["request"]) for r in shown}) + 80)
    fig = figure(traces, height=height, barmode="overlay", xaxis={"title": {"text": _("seconds (simulated)")}},
                 yaxis={"autorange": "reversed", "automargin": True, "tickfont": {"size": 10}})
    table = Table(
        [_("Call"), _("Start (s)"), _("End (s)"), _("Outcome")],
        [[_call_label(r), f"{r['start_s']:.2f}", f"{r['end_s']:.2f}",
          _outcome_label(r["outcome"])] for r in shown],
    )
    title = _("Timeline of calls (first %(n)s requests of each strategy)") % {"n": TIMELINE_ROWS}
    return Chart("timeline", title, fig, table)


def _call_label(row) -> str:
    # Translators: one call of the timeline, e.g. "abatch (max_concurrency) #3".
    return _("%(strategy)s #%(request)s") % {"strategy": strategy_label(row["strategy"]), "request": row["request"]}


def _outcome_label(outcome: str) -> str:
    return {"ok": _("answered"), "error": _("failed"), "rate_limited": _("rate-limited (429)")}.get(outcome, outcome)


def _sweep_chart(result: Result) -> Chart:
    rows = result.series["sweep"]
    fig = figure(
        [{"type": "scatter", "x": [r["max_concurrency"] for r in rows], "y": [r["throughput_rps"] for r in rows],
          "mode": "lines+markers+text", "text": [f"{r['throughput_rps']:.1f}" for r in rows],
          "textposition": "top center", "name": _("throughput")}],
        # Ticks at the values swept (1, 2, 4 ... 64), not at every power of ten's minor steps.
        xaxis={"title": {"text": "max_concurrency"}, "type": "log",
               "tickvals": [r["max_concurrency"] for r in rows]},
        yaxis={"title": {"text": _("requests per second")}, "rangemode": "tozero"})
    limit = result.params["rate_limit_rpm"]
    if limit:
        # The provider counts per minute: a run shorter than a minute may burst above this line.
        fig["layout"] = marked(fig["layout"], y=limit / 60, label=_(
            "rate limit, averaged over a minute: %(rps).1f req/s") % {"rps": limit / 60})
    table = Table(
        ["max_concurrency", _("Throughput (req/s)"), _("Wall time (s)"), _("Rate-limited calls")],
        [[r["max_concurrency"], f"{r['throughput_rps']:.2f}", f"{r['wall_s']:.2f}", r["rate_limited"]] for r in rows],
    )
    return Chart("sweep", _("Throughput as max_concurrency grows"), fig, table)


def charts(result: Result) -> list[Chart]:
    return [_wall_chart(result), _timeline_chart(result), _sweep_chart(result)]


def metrics(result: Result) -> Table:
    rows = [[strategy_label(name), f"{m['wall_s']:.2f}", f"{m['throughput_rps']:.2f}", m["ok"], m["failed"],
             m["retries"], f"{m['cost_usd']:.5f}"]
            for name, m in result.metrics["strategies"].items()]
    headers = [_("Strategy"), _("Wall time (s)"), _("Throughput (req/s)"), _("Answered"), _("Failed"), _("Retries"),
               _("Cost (USD)")]
    return Table(headers, rows)


def summary(result: Result) -> str:
    per = result.metrics["strategies"]
    return _(
        "%(n)s requests to %(model)s: one after another took %(seq).2f s; abatch with max_concurrency "
        "%(mc)s took %(batch).2f s (%(speedup).1f× faster); asyncio.gather took %(gather).2f s. "
        "%(failed)s of the batched calls failed and the rest still came back, in order."
    ) % {
        "n": result.params["requests"],
        "model": result.params["model"],
        "seq": per["sequential"]["wall_s"],
        "mc": result.params["max_concurrency"],
        "batch": per["abatch"]["wall_s"],
        "speedup": result.metrics["speedup_abatch"],
        "gather": per["gather"]["wall_s"],
        "failed": per["abatch"]["failed"],
    }


PRESENTATION = Presentation(component="batching", charts=charts, metrics=metrics, summary=summary)
