"""Caching strategies compared (sections 30.1 and 32.3): labels, charts, table, summary, notes, code."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.io as pio
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from simulations.caches import MultiLevelCache, SemanticCache, SingleFlight
from simulations.caching.replay import Service, replay
from simulations.caching.strategies import open_multi_level, open_semantic
from simulations.component import Result
from simulations.components import caching

from .forms import FieldText
from .presentation import Chart, Presentation, Table, chart_layout, figure_json

PERCENT = 100.0

TEXTS = {
    "requests": FieldText(gettext_lazy("Requests"), gettext_lazy("requests"),
                          gettext_lazy("How many questions the users ask.")),
    "rate_per_s": FieldText(gettext_lazy("Arrival rate"), gettext_lazy("req/s"),
                            gettext_lazy("How fast the questions arrive.")),
    "distinct_intents": FieldText(gettext_lazy("Distinct questions"), gettext_lazy("intents"),
                                  gettext_lazy("How many different questions are in play.")),
    "zipf_s": FieldText(gettext_lazy("Popularity skew (Zipf)"), "",
                        gettext_lazy("0: every question equally popular; higher: a few questions dominate.")),
    "paraphrase_share": FieldText(gettext_lazy("Reworded requests"), gettext_lazy("share"),
                                  gettext_lazy("Share of requests worded differently from the usual question.")),
    "ttl_s": FieldText(gettext_lazy("TTL"), gettext_lazy("s"),
                       gettext_lazy("Entry lifetime in SQLite, Redis, L2 and the semantic cache; 0 = forever. "
                                    "InMemoryCache has no TTL.")),
    "l1_size": FieldText(gettext_lazy("L1 size"), gettext_lazy("entries"),
                         gettext_lazy("Entries the in-process LRU keeps before evicting the least recently used.")),
    "l1_ttl_s": FieldText(gettext_lazy("L1 TTL"), gettext_lazy("s"),
                          gettext_lazy("Entry lifetime in L1; 0 = forever.")),
    "semantic_threshold": FieldText(gettext_lazy("Semantic threshold"), gettext_lazy("cosine"),
                                    gettext_lazy("How similar a stored question must be to reuse its answer.")),
    "embedding": FieldText(gettext_lazy("Embedding"), "",
                           gettext_lazy("How questions become vectors for the semantic cache.")),
    "topic_filter": FieldText(gettext_lazy("Topic filter"), "",
                              gettext_lazy("The semantic cache only reuses answers from the same topic.")),
    "warmup": FieldText(gettext_lazy("Warm-up"), "",
                        gettext_lazy("Ask the ten most common questions before traffic starts, at every start.")),
    "restart_at": FieldText(gettext_lazy("Restart before request"), "",
                            gettext_lazy("Restart the service here; 0 = no restart.")),
    "concurrency": FieldText(gettext_lazy("Concurrency"), gettext_lazy("requests"),
                             gettext_lazy("Requests served at once; identical ones in flight share one call.")),
    "model": FieldText(gettext_lazy("Model")),
}


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


@dataclass(frozen=True)
class _Figure:
    """A figure as the JSON plotly.py's ``go.Figure(data, layout)`` turns into, written directly.

    The page redraws seven charts on every slider move; building and validating
    plotly.py's object tree for them took longer than the simulation's own
    bookkeeping, so the charts are plain dictionaries in Plotly's schema.
    """

    data: list[dict[str, Any]]
    layout: dict[str, Any]

    def to_plotly_json(self) -> dict[str, Any]:
        return {"data": self.data, "layout": {**self.layout, "template": _template(pio.templates.default)}}


@functools.cache
def _template(name: str) -> dict[str, Any]:
    # The theme go.Figure applies by default, so the charts look like every other one.
    return pio.templates[name].to_plotly_json()


def _marked(layout: dict[str, Any], x: float, label: str | None = None) -> dict[str, Any]:
    """``layout`` with a dashed vertical line at ``x`` (and its label): what ``add_vline`` adds."""
    line = {"type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain",
            "line": {"dash": "dash"}}
    marked = {**layout, "shapes": [line]}
    if label is not None:
        marked["annotations"] = [{"showarrow": False, "text": label, "x": x, "xanchor": "left", "xref": "x",
                                  "y": 1, "yanchor": "top", "yref": "y domain"}]
    return marked


def _pct(rate: float) -> str:
    return f"{rate * PERCENT:.1f}%"


def _ms(value: float) -> str:
    if value < 10:
        return f"{value:.2f} ms"
    if value < 1000:
        return f"{value:.0f} ms"
    return f"{value / 1000:.2f} s"


def _strategies(result: Result) -> Mapping[str, Mapping[str, Any]]:
    return result.metrics["strategies"]


# -- hit rate -------------------------------------------------------------------------

def _hit_parts(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The stacked segments of one strategy's bar, as shares of all requests."""
    wrong = metrics["wrong_answer_rate"]
    if "l1_hit_rate" in metrics:
        return {"l1": metrics["l1_hit_rate"], "l2": metrics["l2_hit_rate"], "hit": 0.0, "wrong": wrong}
    return {"l1": 0.0, "l2": 0.0, "hit": metrics["hit_rate"] - wrong, "wrong": wrong}


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
         "text": [_pct(p[key]) if p[key] else "" for p in parts], "textposition": "inside", "textangle": 0,
         "marker": {"color": colour, "pattern": {"shape": pattern}}}
        for key, name, pattern, colour in segments
    ]
    fig = _Figure(traces, chart_layout(
        barmode="stack",
        # xgettext:no-python-format
        xaxis={"title": {"text": _("% of requests answered from the cache")}, "range": [0, 100]},
        yaxis={"autorange": "reversed", "automargin": True}))
    rows = [[strategy_label(n), _pct(m["hit_rate"]), _pct(m.get("l1_hit_rate", 0.0)),
             _pct(m.get("l2_hit_rate", 0.0)), _pct(m["wrong_answer_rate"])] for n, m in per.items()]
    table = Table([_("Strategy"), _("Hit rate"), _("L1"), _("L2"), _("Wrong answers")], rows)
    return Chart("chart-hit-rate", _("Hit rate by strategy (per level for L1/L2)"), figure_json(fig), table)


# -- latency and cost -------------------------------------------------------------------

def _latency_chart(result: Result) -> Chart:
    per = _strategies(result)
    labels = [strategy_label(n) for n in per]
    traces = [
        {"type": "bar", "name": name, "x": labels, "y": [m[key] for m in per.values()],
         "text": [_ms(m[key]) for m in per.values()], "textposition": "outside",
         "marker": {"pattern": {"shape": pattern}}}
        for key, name, pattern in (("p50_latency_ms", _("median (p50)"), ""),
                                   ("p95_latency_ms", _("p95"), "/"))
    ]
    fig = _Figure(traces, chart_layout(
        barmode="group", yaxis={"title": {"text": _("milliseconds (log scale)")}, "type": "log"}))
    rows = [[strategy_label(n), _ms(m["p50_latency_ms"]), _ms(m["p95_latency_ms"]),
             _ms(m["p99_latency_ms"]), _ms(m["mean_latency_ms"])] for n, m in per.items()]
    table = Table([_("Strategy"), _("p50"), _("p95"), _("p99"), _("Mean")], rows)
    return Chart("chart-latency", _("Latency by strategy: median and p95"), figure_json(fig), table)


def _cost_chart(result: Result) -> Chart:
    per = _strategies(result)
    labels = [strategy_label(n) for n in per]
    fig = _Figure(
        [{"type": "bar", "x": labels, "y": [m["cost_usd"] for m in per.values()],
          "text": [_("$%(cost).4f · %(calls)s calls") % {"cost": m["cost_usd"], "calls": m["llm_calls"]}
                   for m in per.values()],
          "textposition": "outside", "marker": {"pattern": {"shape": [STYLE[n][2] for n in per]}}}],
        chart_layout(yaxis={"title": {"text": _("USD")}, "rangemode": "tozero"}))
    rows = [[strategy_label(n), f"{m['cost_usd']:.5f}", m["llm_calls"], m["warmup_llm_calls"],
             m["llm_calls_without_single_flight"]] for n, m in per.items()]
    table = Table([_("Strategy"), _("Cost (USD)"), _("LLM calls"), _("of which warm-up"),
                   _("LLM calls without single-flight")], rows)
    return Chart("chart-cost", _("Model cost by strategy"), figure_json(fig), table)


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
    layout = chart_layout(xaxis={"title": {"text": axis_title}},
                     yaxis={"title": {"text": _("hit rate (%)")}, "range": [-2, 102]})
    if _restarted(result):
        layout = _marked(layout, int(result.params["restart_at"]) + 1, _("restart"))
    fig = _Figure(
        [{"type": "scatter", "x": xs, "y": [r * PERCENT for r in rates], "name": label, "mode": "lines+markers",
          "marker": {"symbol": symbol, "size": 8}, "line": {"dash": dash}}
         for label, rates, (symbol, dash, _pattern) in lines],
        layout)
    headers = [_("Requests")] + [label for label, _rates, _style in lines]
    rows = [[f"{start + 1}–{start + window}"] + [_pct(rates[i]) for _label, rates, _style in lines]
            for i, start in enumerate(starts)]
    return Chart("chart-over-time", _("Hit rate over time: cold start and restart"), figure_json(fig),
                 Table(headers, rows))


# -- semantic threshold ---------------------------------------------------------------------

def _threshold_chart(result: Result) -> Chart:
    explorer = result.series["threshold_explorer"]
    rows = explorer["rows"]
    xs = [r["threshold"] for r in rows]
    parts = (("correct_hits", _("correct hits"), "", "#2e7d32"),
             ("wrong_hits", _("wrong hits (another question's answer)"), "x", "#b42318"),
             ("misses", _("misses"), ".", "#9e9e9e"))
    active = explorer["active_threshold"]
    fig = _Figure(
        [{"type": "bar", "name": name, "x": xs, "y": [r[key] for r in rows], "text": [str(r[key]) if r[key] else "" for r in rows],
          "textposition": "inside", "textangle": 0, "marker": {"color": colour, "pattern": {"shape": pattern}}}
         for key, name, pattern, colour in parts],
        _marked(chart_layout(barmode="stack",
                        xaxis={"title": {"text": _("threshold (cosine similarity)")}, "dtick": 0.05},
                        yaxis={"title": {"text": _("semantic lookups")}}),
                active, _("this run: %(t)s") % {"t": active}))
    caption = _("Exact at this run's threshold (%(t)s); at the others, estimated from the nearest stored "
                "question each of this run's %(n)s lookups found.") % {"t": active, "n": explorer["lookups"]}
    table = Table([_("Threshold"), _("Correct hits"), _("Wrong hits"), _("Misses")],
                  [[r["threshold"], r["correct_hits"], r["wrong_hits"], r["misses"]] for r in rows], caption)
    title = _("Semantic threshold explorer (other thresholds estimated from this run's nearest neighbours)")
    return Chart("chart-threshold", title, figure_json(fig), table)


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
    fig = _Figure(traces, _marked(chart_layout(
        height=max(340, 24 * len(pairs) + 90),
        xaxis={"title": {"text": _("cosine similarity")}, "range": [0, 1.08]},
        yaxis={"autorange": "reversed", "automargin": True, "tickfont": {"size": 11}}),
        threshold, _("threshold %(t)s") % {"t": threshold}))
    rows = [[p["a"], p["b"], _("yes") if p["same_intent"] else _("no"), f"{p['score']:.3f}",
             _pair_outcome(p)] for p in pairs]
    caption = _("Scores under the active embedding: %(embedding)s.") % {
        "embedding": embedding_label(result.metrics["embedding"]["name"])}
    table = Table([_("Question A"), _("Question B"), _("Same meaning"), _("Score"), _("At the threshold")],
                  rows, caption)
    return Chart("chart-pairs", _("Similarity scores of example pairs"), figure_json(fig), table, wide=True)


def _pair_outcome(pair: Mapping[str, Any]) -> str:
    if not pair["hit"]:
        return _("miss")
    return _("hit, right answer") if pair["same_intent"] else _("hit, wrong answer")


# -- cache key ---------------------------------------------------------------------------------

# What happens to a variant of the base request: it shares the base's entry or not,
# and that is right or wrong depending on whether the base's answer fits it.
APART, SHARED, WRONG, MISSED = range(4)
KEY_COLOURS = ("#eeeeee", "#8fd19e", "#f4a3a3", "#ffd27f")


def _key_state(shares_entry: bool, same_meaning: bool) -> int:
    if shares_entry:
        return SHARED if same_meaning else WRONG
    return MISSED if same_meaning else APART


def _key_state_text(state: int) -> str:
    texts = (_("kept apart"), _("same entry, fine"), _("wrong answer served"), _("miss, answer would fit"))
    return texts[state]


def _variant_label(variant: Mapping[str, Any]) -> str:
    return {
        "temperature": _("temperature 0.7"),
        "model": _("model %(model)s") % {"model": variant["detail"]},
        "max_tokens": _("max_tokens 20"),
        "system_prompt": _("a system prompt"),
        "paraphrase": _("a paraphrase"),
        "message_id": _("a message id"),
    }.get(variant["variant"], variant["variant"])


def _key_grid(view: Mapping[str, Any]) -> tuple[list[str], list[list[int]]]:
    """Rows: the full key, then the key without each field; columns: the variants."""
    variants = view["variants"]
    labels = [_("full key")] + [_("without %(field)s") % {"field": f["field"]} for f in view["fields"]]
    grid = [[_key_state(v["same_key"], v["same_meaning"]) for v in variants]]
    for field in view["fields"]:
        grid.append([_key_state(v["same_key"] or v["variant"] in field["collides_without"], v["same_meaning"])
                     for v in variants])
    return labels, grid


def _key_chart(result: Result) -> Chart:
    view = result.series["cache_key"]
    columns = [_variant_label(v) for v in view["variants"]]
    labels, grid = _key_grid(view)
    steps = len(KEY_COLOURS)
    scale = [[edge / steps, colour] for i, colour in enumerate(KEY_COLOURS) for edge in (i, i + 1)]
    fig = _Figure(
        [{"type": "heatmap", "z": grid, "x": columns, "y": labels, "zmin": -0.5, "zmax": steps - 0.5,
          "colorscale": scale, "showscale": False,
          "text": [[_key_state_text(s) for s in row] for row in grid], "texttemplate": "%{text}",
          "textfont": {"size": 12},
          "hovertemplate": "%{y} · %{x}: %{text}<extra></extra>", "xgap": 2, "ygap": 2}],
        chart_layout(height=60 + 36 * len(labels), xaxis={"side": "top"},
                yaxis={"autorange": "reversed", "automargin": True},
                margin={"l": 10, "r": 10, "t": 40, "b": 10}))
    rows = [[label] + [_key_state_text(s) for s in row] for label, row in zip(labels, grid)]
    values = "; ".join(f"{f['field']} = {f['value']}" for f in view["fields"])
    caption = _("Base request: “%(question)s” to %(model)s. Key fields: %(values)s") % {
        "question": view["question"], "model": view["model"], "values": values}
    return Chart("chart-cache-key", _("Cache key: what collides or misses when a field is left out"),
                 figure_json(fig), Table([_("Key")] + columns, rows, caption), wide=True)


def charts(result: Result) -> list[Chart]:
    return [_hit_rate_chart(result), _latency_chart(result), _cost_chart(result), _over_time_chart(result),
            _threshold_chart(result), _pairs_chart(result), _key_chart(result)]


def metrics(result: Result) -> Table:
    rows = [[strategy_label(n), _pct(m["hit_rate"]), _pct(m["wrong_answer_rate"]), _ms(m["p50_latency_ms"]),
             _ms(m["p95_latency_ms"]), _ms(m["mean_latency_ms"]), m["llm_calls"], f"{m['cost_usd']:.5f}"]
            for n, m in _strategies(result).items()]
    headers = [_("Strategy"), _("Hit rate"), _("Wrong answers"), _("p50"), _("p95"), _("Mean latency"),
               _("LLM calls"), _("Cost (USD)")]
    return Table(headers, rows)


def summary(result: Result) -> str:
    per, params = _strategies(result), result.params
    hit = {name: _pct(m["hit_rate"]) for name, m in per.items()}
    text = _(
        "%(n)s requests for %(intents)s different questions, %(reworded)s of them reworded, to %(model)s. "
        "Hit rates: InMemoryCache %(in_memory)s, SQLite %(sqlite)s, Redis %(redis)s, multi-level %(multi)s "
        "(L1 %(l1)s, L2 %(l2)s), semantic %(semantic)s with %(wrong)s wrong answers at threshold %(threshold)s. "
        "Median latency: %(none_p50)s without a cache, %(cached_p50)s with InMemoryCache; p95 stays at "
        "%(cached_p95)s because misses still wait for the model. Cost: %(none_cost)s without a cache, "
        "%(multi_cost)s with the multi-level cache. The semantic cache compares %(embedding)s."
    ) % {
        "n": params["requests"], "intents": params["distinct_intents"],
        "reworded": _pct(float(params["paraphrase_share"])), "model": params["model"],
        "in_memory": hit["in_memory"], "sqlite": hit["sqlite"], "redis": hit["redis"],
        "multi": hit["multi_level"], "l1": _pct(per["multi_level"]["l1_hit_rate"]),
        "l2": _pct(per["multi_level"]["l2_hit_rate"]), "semantic": hit["semantic"],
        "wrong": _pct(per["semantic"]["wrong_answer_rate"]), "threshold": params["semantic_threshold"],
        "none_p50": _ms(per["none"]["p50_latency_ms"]), "cached_p50": _ms(per["in_memory"]["p50_latency_ms"]),
        "cached_p95": _ms(per["in_memory"]["p95_latency_ms"]),
        "none_cost": f"${per['none']['cost_usd']:.4f}", "multi_cost": f"${per['multi_level']['cost_usd']:.4f}",
        "embedding": embedding_label(result.metrics["embedding"]["name"]),
    }
    return " ".join([text, *_restart_and_warmup(per, params)])


def _restarted(result: Result) -> bool:
    return _strategies(result)["in_memory"]["hit_rate_after_restart"] is not None


def _restart_and_warmup(per: Mapping[str, Mapping[str, Any]], params: Mapping[str, Any]) -> Sequence[str]:
    sentences = []
    if per["in_memory"]["hit_rate_after_restart"] is not None:
        sentences.append(_(
            "After the restart at request %(at)s, InMemoryCache hit %(in_memory)s and SQLite %(sqlite)s."
        ) % {"at": params["restart_at"], "in_memory": _pct(per["in_memory"]["hit_rate_after_restart"]),
             "sqlite": _pct(per["sqlite"]["hit_rate_after_restart"])})
    state = _("on") if params["warmup"] else _("off")
    sentences.append(_("Warm-up was %(state)s: the first requests hit %(cold)s with InMemoryCache.") % {
        "state": state, "cold": _pct(per["in_memory"]["cold_start_hit_rate"])})
    return sentences



PRESENTATION = Presentation(
    title=gettext_lazy("Caching strategies compared"),
    texts=TEXTS,
    charts=charts,
    metrics=metrics,
    summary=summary,
    note_texts=caching.NOTE_TEXTS,
    code=(
        (gettext_lazy("One service process: the cache attached to the model"), Service.__init__),
        (gettext_lazy("Serving a request, single-flight in front"), Service.ask),
        (gettext_lazy("Warm-up and restart"), replay),
        (gettext_lazy("Opening the two-level cache (again after a restart)"), open_multi_level),
        (gettext_lazy("Two levels: L1 in the process, L2 in Redis"), MultiLevelCache.lookup),
        (gettext_lazy("Opening the semantic cache"), open_semantic),
        (gettext_lazy("Semantic lookup: nearest question and its score"), SemanticCache.lookup_with_score),
        (gettext_lazy("Single-flight"), SingleFlight.do),
    ),
)
