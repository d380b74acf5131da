"""Canary releases and A/B tests (section 32.6): charts, tables and summary."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from simulations.component import Result
from simulations.text import scientific

from .presentation import PERCENT, Chart, Presentation, Table, figure, marked, pct, seconds

# Told apart by marker, dash and pattern as well as colour.
VARIANT_STYLE = {"a": ("#0b5cad", "circle", "solid"), "b": ("#c2410c", "diamond", "dash")}
BAND_FILL = {"a": "rgba(11, 92, 173, 0.15)", "b": "rgba(194, 65, 12, 0.15)"}
RULES = ("fixed", "peeking", "sequential", "book")
RULE_PATTERN = {"fixed": "", "peeking": "x", "sequential": "/", "book": "."}


def rule_label(name: str) -> str:
    return {"fixed": _("one test at the end"), "peeking": _("a test at every look"),
            "sequential": _("sequential test (mSPRT)"), "book": _("the chapter's rule (|diff| > 0.05)")}.get(name, name)


def p_value(p: float) -> str:
    """A p-value as people read it: 0.0129, 0.000312, 3 × 10⁻⁸."""
    return f"{p:.3g}" if p >= 1e-4 else scientific(p, 2)


def points(share: float) -> str:
    """A difference of two rates in percentage points, signed, with a true minus: +2.36, −0.70."""
    return f"{share * PERCENT:+.2f}".replace("-", "−")


def canary_label(m: dict[str, Any]) -> str:
    """The canary's outcome, why, and when: "rolled back (error rate), minute 35"."""
    minute = f"{m['canary_end_minute']:.0f}"
    if m["canary_reason"]:
        return _("%(outcome)s (%(reason)s), minute %(minute)s") % {
            "outcome": outcome_label(m["canary_outcome"]), "reason": reason_label(m["canary_reason"]), "minute": minute}
    return _("%(outcome)s, minute %(minute)s") % {"outcome": outcome_label(m["canary_outcome"]), "minute": minute}


def decision_label(decision: str) -> str:
    return {"ship_b": _("ship B"), "keep_a": _("keep A (B is worse)"),
            "no_difference": _("no significant difference"),
            "invalid_srm": _("invalid: sample-ratio mismatch")}.get(decision, decision)


def outcome_label(outcome: str) -> str:
    return {"promoted": _("promoted"), "rolled_back": _("rolled back")}.get(outcome, outcome)


def reason_label(reason: str | None) -> str:
    return {"error_rate": _("error rate"), "latency": _("p99 latency"),
            "too_little_traffic": _("too little traffic to judge"), None: "—"}.get(reason, reason or "—")


def _running_chart(result: Result) -> Chart:
    looks = result.series["ab_looks"]
    minutes = [r["minute"] for r in looks]
    traces: list[dict[str, Any]] = []
    for key, name in (("a", _("A (current)")), ("b", _("B (new)"))):
        colour, symbol, dash = VARIANT_STYLE[key]
        low = [r[f"ci_{key}"][0] * PERCENT for r in looks]
        high = [r[f"ci_{key}"][1] * PERCENT for r in looks]
        traces.append({"type": "scatter", "mode": "lines", "x": minutes + minutes[::-1], "y": high + low[::-1], "fill": "toself",
                       "fillcolor": BAND_FILL[key], "line": {"width": 0}, "hoverinfo": "skip",
                       "name": _("%(variant)s: 95%% interval") % {"variant": name}, "showlegend": False})
        traces.append({"type": "scatter", "mode": "lines+markers", "name": name, "x": minutes,
                       "y": [r[f"rate_{key}"] * PERCENT for r in looks],
                       "line": {"color": colour, "dash": dash}, "marker": {"symbol": symbol, "color": colour}})
    fig = figure(traces, xaxis={"title": {"text": _("minutes since start")}},
                 yaxis={"title": {"text": _("success rate (%)")}})
    table = Table([_("Minute"), _("Users in A"), _("Rate A"), _("Interval A"), _("Users in B"), _("Rate B"),
                   _("Interval B")],
                  [[r["minute"], r["n_a"], pct(r["rate_a"]), f"{pct(r['ci_a'][0])} – {pct(r['ci_a'][1])}",
                    r["n_b"], pct(r["rate_b"]), f"{pct(r['ci_b'][0])} – {pct(r['ci_b'][1])}"] for r in looks])
    return Chart("running", _("Success rate per variant as users arrive, with confidence intervals"), fig, table)


def _p_value_chart(result: Result) -> Chart:
    looks = result.series["ab_looks"]
    alpha = result.params["alpha"]
    minutes = [r["minute"] for r in looks]

    def floor(p: float) -> float:  # a log axis cannot show 0
        return max(p, 1e-12)

    traces = [
        {"type": "scatter", "mode": "lines+markers", "name": _("p-value (fixed-horizon test)"), "x": minutes,
         "y": [floor(r["p_value"]) for r in looks], "line": {"color": "#0b5cad"}, "marker": {"symbol": "circle"}},
        {"type": "scatter", "mode": "lines+markers", "name": _("always-valid p-value (mSPRT)"), "x": minutes,
         "y": [floor(r["p_sequential"]) for r in looks], "line": {"color": "#15803d", "dash": "dash"},
         "marker": {"symbol": "square"}},
        {"type": "scatter", "mode": "lines", "name": _("sequential boundary for the fixed p-value"), "x": minutes,
         "y": [floor(r["boundary_p"]) for r in looks], "line": {"color": "#7c3aed", "dash": "dot", "width": 3}},
    ]
    layout = marked({"xaxis": {"title": {"text": _("minutes since start")}},
                     "yaxis": {"title": {"text": _("p-value (log scale)")}, "type": "log",
                                "exponentformat": "power"}},
                    y=alpha, label=_("alpha = %(alpha)s") % {"alpha": f"{alpha:g}"})
    fig = figure(traces, **layout)
    table = Table([_("Minute"), _("p-value"), _("Always-valid p-value"), _("Sequential boundary")],
                  [[r["minute"], p_value(r["p_value"]), p_value(r["p_sequential"]), p_value(r["boundary_p"])]
                   for r in looks])
    return Chart("p-values", _("p-value at each look, against alpha and the sequential boundary"), fig, table)


def _canary_chart(result: Result) -> Chart:
    points = result.series["canary_weight"]
    events = result.series["canary_events"]
    m = result.metrics
    traces = [{"type": "scatter", "mode": "lines", "name": _("canary's share of traffic"),
               "x": [p[0] for p in points], "y": [p[1] * PERCENT for p in points],
               "line": {"color": "#0b5cad", "shape": "hv"}}]
    steps = [e for e in events if e["event"] == "step"]
    traces.append({"type": "scatter", "mode": "markers", "name": _("step"), "x": [e["minute"] for e in steps],
                   "y": [e["weight"] * PERCENT for e in steps], "marker": {"symbol": "circle", "size": 9,
                                                                           "color": "#0b5cad"}})
    end = events[-1]
    promoted = end["event"] == "promoted"
    traces.append({"type": "scatter", "mode": "markers", "x": [end["minute"]],
                   "y": [end["weight"] * PERCENT], "name": outcome_label(end["event"]),
                   "marker": {"symbol": "star" if promoted else "x", "size": 16,
                              "color": "#15803d" if promoted else "#b42318"}})
    layout = marked({"xaxis": {"title": {"text": _("minutes since the release began")}},
                     "yaxis": {"title": {"text": _("share of traffic (%)")}, "range": [-5, 110]}},
                    x=end["minute"], label=outcome_label(end["event"]) if promoted else _("%(outcome)s: %(reason)s") % {
                        "outcome": outcome_label(end["event"]), "reason": reason_label(m["canary_reason"])})
    fig = figure(traces, **layout)
    rows = []
    for s in result.series["canary_steps"]:
        verdict = _("healthy") if s["healthy"] else _("unhealthy: %(reason)s") % {"reason": reason_label(s["reason"])}
        if s["ignored"]:
            verdict += " " + _("(ignored, as in the chapter's code)")
        rows.append([s["step"], pct(s["weight"], 0), f"{s['start_minute']}–{s['end_minute']}", s["canary_requests"],
                     _rate(s["canary_error_rate"]), _rate(s["baseline_error_rate"]), _secs(s["canary_p99_s"]),
                     _secs(s["baseline_p99_s"]), verdict])
    table = Table([_("Step"), _("Weight"), _("Minutes"), _("Canary requests"), _("Canary errors"),
                   _("Baseline errors"), _("Canary p99"), _("Baseline p99"), _("Verdict")], rows)
    return Chart("canary", _("Canary's share of traffic over time, with promotion or rollback"), fig, table,
                 wide=True)


def _rate(value: float | None) -> str:
    return "—" if value is None else pct(value, 2)


def _secs(value: float | None) -> str:
    return "—" if value is None else seconds(value)


def _repetitions_chart(result: Result) -> Chart:
    reps = result.metrics["repetitions"]
    alpha = result.params["alpha"]
    groups = [("false_positive_rate", _("false positives (A/A)"))]
    if "power_fixed" in reps:
        groups.append(("power", _("power (true effect)")))
    traces = []
    for rule in RULES:
        traces.append({"type": "bar", "name": rule_label(rule), "x": [label for _key, label in groups],
                       "y": [reps[f"{key}_{rule}"] * PERCENT for key, _label in groups],
                       "text": [pct(reps[f"{key}_{rule}"]) for key, _label in groups], "textposition": "outside",
                       "textangle": 0, "cliponaxis": False,
                       "marker": {"pattern": {"shape": RULE_PATTERN[rule]}}})
    # The alpha line is named in the legend: a label on the chart would sit on the bars' own labels.
    traces.append({"type": "scatter", "mode": "lines", "x": [None], "y": [None], "hoverinfo": "skip",
                   "name": _("alpha = %(alpha)s") % {"alpha": f"{alpha:g}"}, "line": {"dash": "dash", "color": "#444"}})
    layout = marked({"barmode": "group", "yaxis": {"title": {"text": _("share of repetitions (%)")}, "range": [0, 112]}},
                    y=alpha * PERCENT)
    layout["shapes"][-1]["line"]["color"] = "#444"
    fig = figure(traces, height=400, **layout)
    table = Table([_("Decision rule")] + [label for _key, label in groups],
                  [[rule_label(rule)] + [pct(reps[f"{key}_{rule}"]) for key, _label in groups] for rule in RULES],
                  caption=_("%(runs)s repetitions of each") % {"runs": f"{reps['runs']:,}"})
    title = _("Outcomes over %(runs)s seeded repetitions of the same experiment") % {"runs": f"{reps['runs']:,}"}
    return Chart("repetitions", title, fig, table)


def charts(result: Result) -> list[Chart]:
    """The running rates, the p-values, the canary; and the repetitions once they are there."""
    shown = [_running_chart(result), _p_value_chart(result), _canary_chart(result)]
    if "repetitions" in result.metrics:
        shown.append(_repetitions_chart(result))
    return shown


def metrics(result: Result) -> Table:
    m = result.metrics
    seq_stop = m["sequential_stop_minute"]
    level = pct(m["ci_level"], 0)
    rows = [
        [_("Users in A / B"), f"{m['n_a']:,} / {m['n_b']:,}"],
        [_("Success rate A / B"), f"{pct(m['rate_a'], 2)} / {pct(m['rate_b'], 2)}"],
        [_("Difference B − A (%(level)s confidence interval)") % {"level": level},
         _("%(diff)s points (%(low)s … %(high)s)") % {"diff": points(m["diff"]), "low": points(m["ci_low"]),
                                                      "high": points(m["ci_high"])}],
        [_("p-value at the planned end"), p_value(m["p_value"])],
        [_("Decision"), decision_label(m["decision"])],
        [_("Always-valid p-value (mSPRT)"), p_value(m["sequential_p_value"])],
        [_("Always-valid %(level)s interval (mSPRT)") % {"level": level},
         _("%(low)s … %(high)s points") % {"low": points(m["always_valid_ci_low"]),
                                           "high": points(m["always_valid_ci_high"])}],
        [_("Sequential test stopped at"), _("minute %(m)s") % {"m": seq_stop} if seq_stop is not None else "—"],
        [_("Required sample size"), _("%(n)s users (%(min)s min)") % {"n": f"{m['required_sample_size']:,}",
                                                                       "min": f"{m['required_minutes']:.0f}"}],
        [_("Sample-ratio check (p)"), p_value(m["srm_p_value"]) + (" ⚠ " + _("mismatch") if m["srm_alert"] else "")],
        [_("Canary"), canary_label(m)],
        [_("Canary's final weight"), pct(m["canary_final_weight"], 0)],
        [_("Error rate: baseline / canary (true)"),
         f"{pct(m['baseline_error_rate'], 2)} / {pct(m['canary_error_rate'], 2)}"],
    ]
    return Table([_("Measure"), _("Value")], rows)


def summary(result: Result) -> str:
    m = result.metrics
    values = {
        "diff": points(m["diff"]), "level": pct(m["ci_level"], 0), "low": points(m["ci_low"]),
        "high": points(m["ci_high"]), "p": p_value(m["p_value"]), "decision": decision_label(m["decision"]),
        "canary": canary_label(m), "weight": pct(m["canary_final_weight"], 0),
    }
    if "repetitions" not in m:
        return _("A/B test: B minus A is %(diff)s points (%(level)s confidence interval %(low)s to %(high)s), "
                 "p = %(p)s: %(decision)s. Canary: %(canary)s, final weight %(weight)s.") % values
    reps = m["repetitions"]
    return _(
        "A/B test: B minus A is %(diff)s points (%(level)s confidence interval %(low)s to %(high)s), p = %(p)s: "
        "%(decision)s. Over %(runs)s A/A repetitions, a test at every look gave %(peek)s false positives against "
        "%(fixed)s for one test at the end and %(seq)s for the sequential test. Canary: %(canary)s, final weight "
        "%(weight)s."
    ) % {**values, "runs": f"{reps['runs']:,}", "peek": pct(reps["false_positive_rate_peeking"]),
         "fixed": pct(reps["false_positive_rate_fixed"]), "seq": pct(reps["false_positive_rate_sequential"])}


PRESENTATION = Presentation(component="ab-dashboard", charts=charts, metrics=metrics, summary=summary)
