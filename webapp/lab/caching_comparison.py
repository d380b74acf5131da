"""Caching strategies compared (sections 30.1 and 32.3): charts, table and summary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _

from simulations.caching.keyview import APART, MISSED, SHARED, WRONG
from simulations.component import Result

from .presentation import PERCENT, Chart, Presentation, Table, figure, marked, ms, pct, sentences

def strategy_label(name: str) -> str:
    return {
        "none": _("no cache"),
        "in_memory": _("InMemoryCache"),
        "sqlite": _("SQLite"),
        "redis": _("Redis"),
        "multi_level": _("multi-level (L1 + L2)"),
        "semantic": _("semantic"),
    }.get(name, name)


def embedding_label(name: str) -> str:
    return {
        "hashed-ngrams": _("hashed n-gram vectors, which measure shared words rather than meaning"),
        "minilm": _("the all-MiniLM-L6-v2 sentence model, which measures meaning, imperfectly"),
    }.get(name, name)


# Series told apart by marker, line dash and bar pattern as well as colour.
STYLE = {
    "none": ("circle", "solid", ""),
    "in_memory": ("square", "dot", "/"),
    "sqlite": ("diamond", "dash", "\\"),
    "redis": ("triangle-up", "longdash", "x"),
    "multi_level": ("cross", "dashdot", "-"),
    "semantic": ("star", "longdashdot", "."),
}


def _strategies(result: Result) -> Mapping[str, Mapping[str, Any]]:
    return result.metrics["strategies"]


# -- hit rate -------------------------------------------------------------------------

def _hit_parts(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The stacked segments of one strategy's bar, as shares of all requests."""
    wrong = metrics["wrong_answer_rate"]
    if "l1_hit_rate" in metrics:
        return {"l1": metrics["l1_hit_rate"], "l2": metrics["l2_hit_rate"], "hit": 0.0, "wrong": wrong}
    return {"l1": 0.0, "l2": 0.0, "hit": metrics["right_hit_rate"], "wrong": wrong}


def _hit_rate_chart(result: Result) -> Chart:
    per = _strategies(result)
    labels = [strategy_label(n) for n in per]
    parts = [_hit_parts(m) for m in per.values()]
    segments = (
        ("hit", _("hit, right answer"), "", "#0b5cad"),
        ("l1", _("L1 hit (in process)"), "/", "#2e7d32"),
        ("l2", _("L2 hit (Redis)"), "\\", "#6a1b9a"),
        ("wrong", _("hit, wrong answer"), "x", "#b42318"),
    )
    traces = [
        {"type": "bar", "name": name, "orientation": "h", "y": labels, "x": [p[key] * PERCENT for p in parts],
         "text": [pct(p[key]) if p[key] else "" for p in parts], "textposition": "inside", "textangle": 0,
         "marker": {"color": colour, "pattern": {"shape": pattern}}}
        for key, name, pattern, colour in segments
    ]
    fig = figure(
        traces, barmode="stack",
        # xgettext:no-python-format
        xaxis={"title": {"text": _("% of requests answered from the cache")}, "range": [0, 100]},
        yaxis={"autorange": "reversed", "automargin": True})
    rows = [[strategy_label(n), pct(m["hit_rate"]), pct(m.get("l1_hit_rate", 0.0)),
             pct(m.get("l2_hit_rate", 0.0)), pct(m["wrong_answer_rate"])] for n, m in per.items()]
    table = Table([_("Strategy"), _("Hit rate"), _("L1"), _("L2"), _("Wrong answers")], rows)
    return Chart("hit-rate", _("Hit rate by strategy (per level for L1/L2)"), fig, table)


# -- latency and cost -------------------------------------------------------------------

def _latency_chart(result: Result) -> Chart:
    per = _strategies(result)
    labels = [strategy_label(n) for n in per]
    traces = [
        {"type": "bar", "name": name, "x": labels, "y": [m[key] for m in per.values()],
         "text": [ms(m[key]) for m in per.values()], "textposition": "outside",
         "marker": {"pattern": {"shape": pattern}}}
        for key, name, pattern in (("p50_latency_ms", _("median (p50)"), ""),
                                   ("p95_latency_ms", _("p95"), "/"))
    ]
    fig = figure(traces, barmode="group", yaxis={"title": {"text": _("milliseconds (log scale)")}, "type": "log"})
    rows = [[strategy_label(n), ms(m["p50_latency_ms"]), ms(m["p95_latency_ms"]),
             ms(m["p99_latency_ms"]), ms(m["mean_latency_ms"])] for n, m in per.items()]
    table = Table([_("Strategy"), _("p50"), _("p95"), _("p99"), _("Mean")], rows)
    return Chart("latency", _("Latency by strategy: median and p95"), fig, table)


def _cost_chart(result: Result) -> Chart:
    per = _strategies(result)
    labels = [strategy_label(n) for n in per]
    fig = figure(
        [{"type": "bar", "x": labels, "y": [m["cost_usd"] for m in per.values()],
          "text": [_("$%(cost).4f · %(calls)s calls") % {"cost": m["cost_usd"], "calls": m["llm_calls"]}
                   for m in per.values()],
          "textposition": "outside", "marker": {"pattern": {"shape": [STYLE[n][2] for n in per]}}}],
        yaxis={"title": {"text": _("USD")}, "rangemode": "tozero"})
    rows = [[strategy_label(n), f"{m['cost_usd']:.5f}", m["llm_calls"], m["warmup_llm_calls"],
             m["llm_calls_without_single_flight"]] for n, m in per.items()]
    table = Table([_("Strategy"), _("Cost (USD)"), _("LLM calls"), _("of which warm-up"),
                   _("LLM calls without single-flight")], rows)
    return Chart("cost", _("Model cost by strategy"), fig, table)


# -- over time ----------------------------------------------------------------------------

def _over_time_chart(result: Result) -> Chart:
    series = result.series["hit_rate_over_time"]
    starts, window = series["start_index"], series["window"]
    xs = [start + 1 for start in starts]
    lines = [(strategy_label(n), rates, STYLE[n]) for n, rates in series["strategies"].items()]
    for name, levels in series["levels"].items():
        if "l1" in levels:
            lines.append((_("%(strategy)s: L1 only") % {"strategy": strategy_label(name)},
                          levels["l1"], ("x-thin-open", "dot", "")))
    axis_title = _("request number (windows of %(n)s)") % {"n": window}
    if result.params["warmup"]:
        axis_title = _("request number (windows of %(n)s; warm-up before request 1)") % {"n": window}
    fig = figure(
        [{"type": "scatter", "x": xs, "y": [r * PERCENT for r in rates], "name": label, "mode": "lines+markers",
          "marker": {"symbol": symbol, "size": 8}, "line": {"dash": dash}}
         for label, rates, (symbol, dash, _pattern) in lines],
        xaxis={"title": {"text": axis_title}}, yaxis={"title": {"text": _("hit rate (%)")}, "range": [-2, 102]})
    if _restarted(result):
        fig["layout"] = marked(fig["layout"], x=result.params["restart_at"] + 1, label=_("restart"))
    headers = [_("Requests")] + [label for label, _rates, _style in lines]
    rows = [[f"{start + 1}–{start + window}"] + [pct(rates[i]) for _label, rates, _style in lines]
            for i, start in enumerate(starts)]
    return Chart("over-time", _("Hit rate over time: cold start and restart"), fig, Table(headers, rows))


# -- semantic threshold ---------------------------------------------------------------------

def _threshold_chart(result: Result) -> Chart:
    explorer = result.series["threshold_explorer"]
    rows = explorer["rows"]
    xs = [r["threshold"] for r in rows]
    parts = (("correct_hits", _("correct hits"), "", "#2e7d32"),
             ("wrong_hits", _("wrong hits (another question's answer)"), "x", "#b42318"),
             ("misses", _("misses"), ".", "#9e9e9e"))
    active = explorer["active_threshold"]
    fig = figure(
        [{"type": "bar", "name": name, "x": xs, "y": [r[key] for r in rows], "text": [str(r[key]) if r[key] else "" for r in rows],
          "textposition": "inside", "textangle": 0, "marker": {"color": colour, "pattern": {"shape": pattern}}}
         for key, name, pattern, colour in parts],
        barmode="stack", xaxis={"title": {"text": _("threshold (cosine similarity)")}, "dtick": 0.05},
        yaxis={"title": {"text": _("semantic lookups")}})
    fig["layout"] = marked(fig["layout"], x=active, label=_("this run: %(t)s") % {"t": active})
    caption = _("Exact at this run's threshold (%(t)s); at the others, estimated from the nearest stored "
                "question each of this run's %(n)s lookups found.") % {"t": active, "n": explorer["lookups"]}
    table = Table([_("Threshold"), _("Correct hits"), _("Wrong hits"), _("Misses")],
                  [[r["threshold"], r["correct_hits"], r["wrong_hits"], r["misses"]] for r in rows], caption)
    title = _("Semantic threshold explorer (other thresholds estimated from this run's nearest neighbours)")
    return Chart("threshold", title, fig, table)


def _pair_label(pair: Mapping[str, Any]) -> str:
    return f"{pair['a']} ↔ {pair['b']}"


def _pairs_chart(result: Result) -> Chart:
    pairs = result.series["example_pairs"]
    threshold = result.params["semantic_threshold"]
    kinds = (("paraphrase", _("same meaning"), "circle", "#2e7d32"),
             ("near_miss", _("different meaning (near miss)"), "x", "#b42318"))
    traces = []
    for kind, name, symbol, colour in kinds:
        chosen = [p for p in pairs if p["kind"] == kind]
        traces.append({
            "type": "scatter", "name": name, "x": [p["score"] for p in chosen], "y": [_pair_label(p) for p in chosen],
            "mode": "markers+text", "text": [f"{p['score']:.2f}" for p in chosen], "textposition": "middle right",
            "marker": {"symbol": symbol, "size": 11, "color": colour}})
    fig = figure(traces, height=max(340, 24 * len(pairs) + 90),
                 xaxis={"title": {"text": _("cosine similarity")}, "range": [0, 1.08]},
                 yaxis={"autorange": "reversed", "automargin": True, "tickfont": {"size": 11}})
    fig["layout"] = marked(fig["layout"], x=threshold, label=_("threshold %(t)s") % {"t": threshold})
    rows = [[p["a"], p["b"], _("yes") if p["same_intent"] else _("no"), f"{p['score']:.3f}",
             _pair_outcome(p)] for p in pairs]
    caption = _("Scores under the active embedding: %(embedding)s.") % {
        "embedding": embedding_label(result.metrics["embedding"]["name"])}
    table = Table([_("Question A"), _("Question B"), _("Same meaning"), _("Score"), _("At the threshold")],
                  rows, caption)
    return Chart("pairs", _("Similarity scores of example pairs"), fig, table, wide=True)


def _pair_outcome(pair: Mapping[str, Any]) -> str:
    if not pair["hit"]:
        return _("miss")
    return _("hit, right answer") if pair["same_intent"] else _("hit, wrong answer")


# -- cache key ---------------------------------------------------------------------------------

# Each verdict (computed in simulations.caching.keyview) as a colour and a few words.
KEY_VERDICTS = (APART, SHARED, WRONG, MISSED)
KEY_COLOURS = ("#eeeeee", "#8fd19e", "#f4a3a3", "#ffd27f")


def _verdict_text(verdict: str) -> str:
    return {APART: _("kept apart"), SHARED: _("same entry, fine"), WRONG: _("wrong answer served"),
            MISSED: _("miss, answer would fit")}[verdict]


def _variant_label(variant: Mapping[str, Any]) -> str:
    return {
        "temperature": _("temperature 0.7"),
        "model": _("model %(model)s") % {"model": variant["detail"]},
        "max_tokens": _("max_tokens 20"),
        "system_prompt": _("a system prompt"),
        "paraphrase": _("a paraphrase"),
        "message_id": _("a message id"),
    }.get(variant["variant"], variant["variant"])


def _row_label(without: str | None) -> str:
    return _("full key") if without is None else _("without %(field)s") % {"field": without}


def _key_chart(result: Result) -> Chart:
    view = result.series["cache_key"]
    columns = [_variant_label(v) for v in view["variants"]]
    labels = [_row_label(row["without"]) for row in view["verdicts"]]
    grid = [[KEY_VERDICTS.index(v) for v in row["verdicts"]] for row in view["verdicts"]]
    texts = [[_verdict_text(v) for v in row["verdicts"]] for row in view["verdicts"]]
    steps = len(KEY_COLOURS)
    scale = [[edge / steps, colour] for i, colour in enumerate(KEY_COLOURS) for edge in (i, i + 1)]
    fig = figure(
        [{"type": "heatmap", "z": grid, "x": columns, "y": labels, "zmin": -0.5, "zmax": steps - 0.5,
          "colorscale": scale, "showscale": False, "text": texts, "texttemplate": "%{text}",
          "textfont": {"size": 12},
          "hovertemplate": "%{y} · %{x}: %{text}<extra></extra>", "xgap": 2, "ygap": 2}],
        height=60 + 36 * len(labels), xaxis={"side": "top"}, yaxis={"autorange": "reversed", "automargin": True},
        margin={"l": 10, "r": 10, "t": 40, "b": 10})
    rows = [[label, *row] for label, row in zip(labels, texts)]
    values = "; ".join(f"{f['field']} = {f['value']}" for f in view["fields"])
    caption = _("Base request: “%(question)s” to %(model)s. Key fields: %(values)s") % {
        "question": view["question"], "model": view["model"], "values": values}
    return Chart("cache-key", _("Cache key: what collides or misses when a field is left out"),
                 fig, Table([_("Key"), *columns], rows, caption), wide=True)


def charts(result: Result) -> list[Chart]:
    return [_hit_rate_chart(result), _latency_chart(result), _cost_chart(result), _over_time_chart(result),
            _threshold_chart(result), _pairs_chart(result), _key_chart(result)]


def metrics(result: Result) -> Table:
    rows = [[strategy_label(n), pct(m["hit_rate"]), pct(m["wrong_answer_rate"]), ms(m["p50_latency_ms"]),
             ms(m["p95_latency_ms"]), ms(m["mean_latency_ms"]), m["llm_calls"], f"{m['cost_usd']:.5f}"]
            for n, m in _strategies(result).items()]
    headers = [_("Strategy"), _("Hit rate"), _("Wrong answers"), _("p50"), _("p95"), _("Mean latency"),
               _("LLM calls"), _("Cost (USD)")]
    return Table(headers, rows)


def summary(result: Result) -> str:
    per, params = _strategies(result), result.params
    hit = {name: pct(m["hit_rate"]) for name, m in per.items()}
    text = _(
        "%(n)s requests for %(intents)s different questions, %(reworded)s of them reworded, to %(model)s. "
        "Hit rates: InMemoryCache %(in_memory)s, SQLite %(sqlite)s, Redis %(redis)s, multi-level %(multi)s "
        "(L1 %(l1)s, L2 %(l2)s), semantic %(semantic)s with %(wrong)s wrong answers at threshold %(threshold)s. "
        "Median latency: %(none_p50)s without a cache, %(cached_p50)s with InMemoryCache; p95 stays at "
        "%(cached_p95)s because misses still wait for the model. Cost: %(none_cost)s without a cache, "
        "%(multi_cost)s with the multi-level cache. The semantic cache compares %(embedding)s."
    ) % {
        "n": params["requests"], "intents": params["distinct_intents"],
        "reworded": pct(params["paraphrase_share"]), "model": params["model"],
        "in_memory": hit["in_memory"], "sqlite": hit["sqlite"], "redis": hit["redis"],
        "multi": hit["multi_level"], "l1": pct(per["multi_level"]["l1_hit_rate"]),
        "l2": pct(per["multi_level"]["l2_hit_rate"]), "semantic": hit["semantic"],
        "wrong": pct(per["semantic"]["wrong_answer_rate"]), "threshold": params["semantic_threshold"],
        "none_p50": ms(per["none"]["p50_latency_ms"]), "cached_p50": ms(per["in_memory"]["p50_latency_ms"]),
        "cached_p95": ms(per["in_memory"]["p95_latency_ms"]),
        "none_cost": f"${per['none']['cost_usd']:.4f}", "multi_cost": f"${per['multi_level']['cost_usd']:.4f}",
        "embedding": embedding_label(result.metrics["embedding"]["name"]),
    }
    return sentences([text, *_restart_and_warmup(per, params)])


def _restarted(result: Result) -> bool:
    return _strategies(result)["in_memory"]["hit_rate_after_restart"] is not None


def _restart_and_warmup(per: Mapping[str, Mapping[str, Any]], params: Mapping[str, Any]) -> Sequence[str]:
    sentences = []
    if per["in_memory"]["hit_rate_after_restart"] is not None:
        sentences.append(_(
            "After the restart at request %(at)s, InMemoryCache hit %(in_memory)s and SQLite %(sqlite)s."
        ) % {"at": params["restart_at"], "in_memory": pct(per["in_memory"]["hit_rate_after_restart"]),
             "sqlite": pct(per["sqlite"]["hit_rate_after_restart"])})
    state = _("on") if params["warmup"] else _("off")
    sentences.append(_("Warm-up was %(state)s: the first requests hit %(cold)s with InMemoryCache.") % {
        "state": state, "cold": pct(per["in_memory"]["cold_start_hit_rate"])})
    return sentences



PRESENTATION = Presentation(component="caching-comparison", charts=charts, metrics=metrics, summary=summary)
