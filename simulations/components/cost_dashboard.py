"""Cost control and monitoring (sections 30.4, 30.7, 30.8.3, 30.9, 30.10): where the money goes.

One day's traffic is sampled and served twice on the virtual clock, with the same
requests and the same luck: **before** (every request to gpt-4o, synchronous
workers, nothing else) and **after** (the levers that are on: an exact cache,
output caps, routing with a RunnableBranch, prompt compression, async concurrency
and batching, retries and fallbacks).  A callback handler prices every call from
its ``usage_metadata`` with the form's price table and fills a real Prometheus
registry; the waterfall says which lever saved what; a daily budget on the real
Redis shows the check-then-spend race and the reservation that fixes it.

The chapter notes (``book_*``) appear when the parameters are those of the
matching ``book-*`` preset.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from ..component import CodeRef, Component, Note, Result, note
from ..costs import book
from ..costs.budget import Call, alert_hours, ceil_micros, micros, race, reserved_request
from ..costs.compression import compress, compress_messages
from ..costs.levers import LEVERS, ROUTINGS, Levers, build_pipeline
from ..costs.metrics import LLMMetrics, panel_rows, window_for
from ..costs.pricing import LARGE, SMALL, PriceTable, book_price, list_price, table, usd
from ..costs.report import system_metrics
from ..costs.serving import Setup, SystemRun, run_system
from ..costs.tracker import CostTracker
from ..costs.traffic import ENCODING, Request, TrafficSpec, generate
from ..costs.waterfall import rows as waterfall_rows
from ..costs.waterfall import steps
from ..params import Param, ParamSpec, Value
from ..profiles import profile
from ..text import gettext_noop

REQUESTS_MAX = 200
TRACE_ROWS = 12

SPEC = ParamSpec(
    params=(
        # -- traffic
        Param("requests_per_day", 20_000, min=100, max=5_000_000, step=100, label=gettext_noop("Requests per day"),
              unit=gettext_noop("requests"), help=gettext_noop("The day's traffic; the sample's costs are scaled to it.")),
        Param("calibrate_usd_per_day", 0.0, min=0.0, max=100_000.0, step=1.0,
              label=gettext_noop("Calibrate to a before cost"), unit=gettext_noop("USD/day"),
              help=gettext_noop("When above 0, requests per day are set so that the before system costs "
                                "this much a day.")),
        Param("simple_share", 0.6, min=0.0, max=1.0, step=0.05, label=gettext_noop("Simple requests"),
              unit=gettext_noop("share"), help=gettext_noop("Look-ups and how-to questions.")),
        Param("complex_share", 0.15, min=0.0, max=1.0, step=0.05, label=gettext_noop("Complex requests"),
              unit=gettext_noop("share"),
              help=gettext_noop("Analysis and long writing; the rest are medium. Capped at 1 minus the simple share.")),
        Param("repeat_share", 0.4, min=0.0, max=0.95, step=0.05, label=gettext_noop("Repeated questions"),
              unit=gettext_noop("share"),
              help=gettext_noop("Requests that ask a popular question word for word, with no personal "
                                "details: an exact cache can answer them.")),
        Param("context_tokens", 300, min=0, max=3000, step=50, label=gettext_noop("Context per request"),
              unit=gettext_noop("tokens"), help=gettext_noop("Retrieved help-centre text sent with each question.")),
        Param("equal_sizes", False, label=gettext_noop("Equal request sizes"),
              help=gettext_noop("Every prompt and every answer the same length, as the chapter's "
                                "savings estimate assumes.")),
        Param("sample_requests", 30, min=20, max=REQUESTS_MAX, step=10, label=gettext_noop("Simulated requests"),
              unit=gettext_noop("requests"), help=gettext_noop("The sample of the day that really runs.")),
        # -- prices
        Param("price_in_large", 2.50, min=0.0, max=200.0, step=0.01, label=gettext_noop("gpt-4o input price"),
              unit=gettext_noop("USD / 1M tokens")),
        Param("price_out_large", 10.00, min=0.0, max=200.0, step=0.01, label=gettext_noop("gpt-4o output price"),
              unit=gettext_noop("USD / 1M tokens")),
        Param("price_in_small", 0.15, min=0.0, max=200.0, step=0.01, label=gettext_noop("gpt-4o-mini input price"),
              unit=gettext_noop("USD / 1M tokens")),
        Param("price_out_small", 0.60, min=0.0, max=200.0, step=0.01, label=gettext_noop("gpt-4o-mini output price"),
              unit=gettext_noop("USD / 1M tokens")),
        # -- levers
        Param("cache", True, label=gettext_noop("Exact cache"),
              help=gettext_noop("Answer a prompt seen before from the cache.")),
        Param("max_tokens", 300, min=0, max=2000, step=10, label=gettext_noop("max_tokens"),
              unit=gettext_noop("tokens"), help=gettext_noop("Cap on each answer's length; 0 means no cap.")),
        Param("routing", "label", choices=ROUTINGS, label=gettext_noop("Route simple requests to gpt-4o-mini"),
              choice_labels={"off": gettext_noop("off: everything to gpt-4o"),
                             "length": gettext_noop("question under 50 characters (the chapter's rule)"),
                             "label": gettext_noop("by the request's complexity label")}),
        Param("compression", 1.0, min=0.1, max=1.0, step=0.05, label=gettext_noop("Prompt compression"),
              unit=gettext_noop("share kept"),
              help=gettext_noop("Share of the context's tokens the compressor keeps; 1 means off.")),
        Param("concurrency", 50, min=0, max=200, step=1, label=gettext_noop("Async concurrency"),
              unit=gettext_noop("requests"),
              help=gettext_noop("Requests served at once by one async process; 0 keeps the synchronous workers.")),
        Param("batch_size", 1, min=1, max=50, step=1, label=gettext_noop("Batch size"),
              unit=gettext_noop("requests"),
              help=gettext_noop("Requests grouped into one abatch call; 1 means no batching.")),
        Param("retries", 2, min=0, max=5, step=1, label=gettext_noop("Client retries"),
              unit=gettext_noop("retries"), help=gettext_noop("How many times a failed call is retried.")),
        Param("fallback", True, label=gettext_noop("Fallback to the other model"),
              help=gettext_noop("A call that still fails goes to the other model (with_fallbacks).")),
        # -- the provider and the service
        Param("error_rate", 0.005, min=0.0, max=0.3, step=0.001, label=gettext_noop("Provider error rate"),
              unit=gettext_noop("share"), help=gettext_noop("Share of model calls that fail with a server error.")),
        Param("workers", 8, min=1, max=64, step=1, label=gettext_noop("Synchronous workers"),
              unit=gettext_noop("workers"),
              help=gettext_noop("Worker threads of the before system, each serving one request at a time.")),
        # -- the budget
        Param("daily_budget_usd", 30.0, min=1.0, max=100_000.0, step=1.0, label=gettext_noop("Daily budget"),
              unit=gettext_noop("USD"), help=gettext_noop("Alerts at 50%, 80% and 100% of it.")),
        Param("burst_requests", 8, min=2, max=100, step=1, label=gettext_noop("Burst at the budget's edge"),
              unit=gettext_noop("requests"),
              help=gettext_noop("Requests arriving together when only a quarter of them still fits the budget.")),
    ),
    presets={
        # 30.4.2: 70% simple requests, routed by their label from gpt-4o to gpt-4o-mini at
        # the chapter's prices (one price for input and output), requests of one size,
        # nothing else on.
        "book-30.4.2": {
            "simple_share": book.ROUTED_SHARE, "complex_share": 0.3, "repeat_share": 0.0,
            "equal_sizes": True, "routing": "label",
            "price_in_large": 2.5, "price_out_large": 2.5, "price_in_small": 0.15, "price_out_small": 0.15,
            "cache": False, "max_tokens": 0, "compression": 1.0, "concurrency": 0, "batch_size": 1,
            "retries": 0, "fallback": False, "error_rate": 0.0,
        },
        # 30.9: the before system costs $50 a day; the after system has the chapter's five
        # levers: a cache answering 60%, 70% of requests to gpt-4o-mini, batches of 10,
        # 50 requests at once in one process, retries with a fallback.  A larger sample
        # than the default, for a steadier comparison with the chapter's table.
        "book-30.9": {
            "calibrate_usd_per_day": book.CASE_BEFORE.cost_per_day_usd, "sample_requests": 60,
            "simple_share": book.CASE_ROUTED_SHARE, "complex_share": 0.1,
            "repeat_share": book.CASE_CACHE_HIT_RATE, "equal_sizes": False, "routing": "label",
            "price_in_large": 2.5, "price_out_large": 10.0, "price_in_small": 0.15, "price_out_small": 0.6,
            "cache": True, "max_tokens": 0, "compression": 1.0, "concurrency": book.CASE_CONCURRENCY,
            "batch_size": book.CASE_BATCH, "retries": 2, "fallback": True,
            "error_rate": 1 - book.CASE_BEFORE.availability, "workers": 8,
        },
    },
)


def prices_of(params: Mapping[str, Value]) -> PriceTable:
    return table(params["price_in_large"], params["price_out_large"], params["price_in_small"],
                 params["price_out_small"])


def levers_of(params: Mapping[str, Value]) -> Levers:
    return Levers(cache=params["cache"], max_tokens=params["max_tokens"], routing=params["routing"],
                  keep=params["compression"], concurrency=params["concurrency"], batch_size=params["batch_size"],
                  retries=params["retries"], fallback=params["fallback"])


def traffic_of(params: Mapping[str, Value], requests_per_day: float) -> TrafficSpec:
    return TrafficSpec(requests=params["sample_requests"], requests_per_day=requests_per_day,
                       simple_share=params["simple_share"], complex_share=params["complex_share"],
                       repeat_share=params["repeat_share"], context_tokens=params["context_tokens"],
                       equal_sizes=params["equal_sizes"])


def run(params: Mapping[str, Value], seed: int) -> Result:
    prices = prices_of(params)
    levers = levers_of(params)
    # Arrivals scale with the traffic; calibration first needs the before cost per request,
    # which does not depend on when requests arrive, so the sample is drawn at the nominal rate.
    requests = generate(traffic_of(params, params["requests_per_day"]), seed)
    window = window_for(requests[-1].arrival_s if requests else 1.0)
    setup = Setup(seed=seed, error_rate=params["error_rate"], prices=prices, workers=params["workers"],
                  equal_sizes=params["equal_sizes"], window_s=window)
    registry = LLMMetrics()
    before = run_system("before", requests, Levers(), setup, registry)
    after = run_system("after", requests, levers, setup, registry)

    sample_before = sum((r.cost for r in before.rows), Fraction(0))
    per_day = Fraction(params["requests_per_day"])
    calibrated = params["calibrate_usd_per_day"] > 0 and sample_before > 0
    if calibrated:
        per_day = Fraction(repr(params["calibrate_usd_per_day"])) * len(requests) / sample_before
    scale = per_day / len(requests)
    day = steps(requests, before, after, prices).per_day(scale)
    baseline, optimized = day[0], day[-1]
    waterfall = waterfall_rows(day)
    metrics_before = system_metrics(before, registry, scale, params["error_rate"], baseline)
    metrics_after = system_metrics(after, registry, scale, params["error_rate"], optimized)
    compression = _compression(requests, levers)
    budget = _budget(params, after, seed, float(optimized), float(baseline))

    metrics = {
        "baseline_cost_usd": float(baseline), "optimized_cost_usd": float(optimized),
        "savings_pct": float((baseline - optimized) / baseline * 100) if baseline else 0.0,
        "requests_per_day": float(per_day), "calibrated": calibrated, "sample_requests": len(requests),
        "before": metrics_before, "after": metrics_after,
        "routing": _routing(requests, after), "compression": compression, "budget": budget,
        "warmup_calls": len(after.warmup_rows), "warmup_cost_usd": float(usd(sum((r.cost for r in after.warmup_rows), Fraction(0)))),
        "monitoring_window_s": window,
    }
    series = {
        "waterfall": waterfall,
        "cost_per_day": [{"system": "before", "cost_usd": float(baseline)}, {"system": "after", "cost_usd": float(optimized)}],
        "cost_by_model": [{"system": s, "model": model, "cost_usd": m["cost_by_model"][model]}
                          for s, m in (("before", metrics_before), ("after", metrics_after)) for model in (LARGE, SMALL)],
        "tokens": [{"system": s, "kind": kind, "tokens_per_day": m[f"{kind}_tokens_per_day"]}
                   for s, m in (("before", metrics_before), ("after", metrics_after)) for kind in ("input", "output")],
        "latency": [{"system": s, "p50_ms": m["p50_latency_ms"], "p95_ms": m["p95_latency_ms"],
                     "p99_ms": m["p99_latency_ms"], "p95_histogram_ms": m["p95_histogram_ms"],
                     "p99_histogram_ms": m["p99_histogram_ms"]}
                    for s, m in (("before", metrics_before), ("after", metrics_after))],
        "monitoring": [{"system": run.system, **row} for run in (before, after) for row in panel_rows(run.scrapes, run.system)],
        "exposition": registry.exposition(),
        "prices": _price_rows(prices),
        "case_study": _case_rows(metrics_before, metrics_after),
        "budget_race": budget.pop("events"),
    }
    return Result(
        component="cost-dashboard", params=dict(params), seed=seed, metrics=metrics, series=series,
        trace=_trace(after), notes=_notes(params, metrics, waterfall),
    )


def _routing(requests: list[Request], after: SystemRun) -> dict[str, Any]:
    by_id = {r.id: r for r in requests}
    sent = [(by_id[s.request_id], s.model) for s in after.served if s.ok and not s.cache_hit]
    small = [r for r, model in sent if model == SMALL]
    return {"model_calls": len(sent), "to_small": len(small),
            "complex_to_small": sum(r.klass == "complex" for r in small),
            "simple_to_large": sum(r.klass == "simple" and model == LARGE for r, model in sent)}


def _compression(requests: list[Request], levers: Levers) -> dict[str, Any]:
    if levers.keep >= 1.0:
        return {"on": False}
    done = [compress_messages(r.messages, levers.keep, ENCODING)[1] for r in requests]
    done = [d for d in done if d is not None]
    before = sum(d.tokens_before for d in done)
    after = sum(d.tokens_after for d in done)
    prompt_before = sum(r.prompt_tokens for r in requests)
    return {"on": True, "context_tokens_before": before, "context_tokens_after": after,
            "context_kept": after / before if before else 1.0,
            "prompt_tokens_saved_share": (before - after) / prompt_before if prompt_before else 0.0}


def _budget(params: Mapping[str, Value], after: SystemRun, seed: int, optimized: float,
            baseline: float) -> dict[str, Any]:
    """Alerts over the day, and a burst at the budget's edge, both ways, on the real Redis."""
    prices = prices_of(params)
    cap = params["max_tokens"]
    billed = [r for r in after.rows if r.outcome == "ok"]
    calls = []
    for index in range(params["burst_requests"]):
        row = billed[index % len(billed)] if billed else None
        if row is None:
            break
        worst_output = cap or profile(row.model).max_output_tokens
        estimate = prices.cost(row.model, row.input_tokens, worst_output)
        calls.append(Call(max(1, micros(float(row.cost))), max(1, ceil_micros(float(estimate))), row.latency_s))
    limit = micros(params["daily_budget_usd"])
    headroom = sum(c.cost_micros for c in calls[: max(1, len(calls) // 4)])
    outcomes = race(calls, limit, max(0, limit - headroom), seed) if calls else {}
    events = [{"strategy": name, **e} for name, o in outcomes.items() for e in o.events]
    return {
        "daily_budget_usd": params["daily_budget_usd"],
        "alert_hours_after": {str(k): v for k, v in alert_hours(optimized, params["daily_budget_usd"]).items()},
        "alert_hours_before": {str(k): v for k, v in alert_hours(baseline, params["daily_budget_usd"]).items()},
        "burst": len(calls), "headroom_usd": headroom / 1e6,
        "smallest_estimate_usd": min((c.estimate_micros for c in calls), default=0) / 1e6,
        "race": {name: {"admitted": o.admitted, "refused": o.refused, "spent_usd": o.spent_micros / 1e6,
                        "overspend_usd": o.overspend_micros / 1e6, "limit_usd": o.limit_micros / 1e6}
                 for name, o in outcomes.items()},
        "estimate_output_tokens": cap or profile(LARGE).max_output_tokens,
        "events": events,
    }


def _price_rows(prices: PriceTable) -> list[dict[str, Any]]:
    return [{"model": model, "input_per_1m": prices[model].input_per_1m, "output_per_1m": prices[model].output_per_1m,
             "list_input_per_1m": list_price(model).input_per_1m, "list_output_per_1m": list_price(model).output_per_1m,
             "book_per_1m": book_price(model).input_per_1m} for model in (LARGE, SMALL)]


def _case_rows(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"metric": field, "book_before": getattr(book.CASE_BEFORE, field), "book_after": getattr(book.CASE_AFTER, field),
             "before": before[field], "after": after[field]} for field in book.CASE_FIELDS]


def _trace(after: SystemRun) -> list[dict[str, Any]]:
    """The first requests of the after run: how each was served."""
    return [{"request": s.request_id, "arrival_s": s.arrival_s, "latency_s": s.latency_s,
             "outcome": "cache_hit" if s.cache_hit else ("ok" if s.ok else "error"), "model": s.model,
             "truncated": s.truncated} for s in after.served[:TRACE_ROWS]]


# English wording of each note; %(name)s placeholders are filled from the note's data.
NOTE_TEXTS = {
    "book_30_4_2": gettext_noop(
        "The chapter says that sending 70%% of requests to gpt-4o-mini saves about 85%%. With its own "
        "prices ($2.50 and $0.15 per million tokens) and requests of equal size, the saving is "
        "70%% × (1 − 0.15 / 2.50) = %(expected).1f%%, and this run saved %(saved).1f%%. An 85%% saving would "
        "need %(needed).0f%% of requests on the small model."),
    "book_prices_input_only": gettext_noop(
        "The chapter's prices are input prices only: today gpt-4o costs $%(large_out).2f and gpt-4o-mini "
        "$%(small_out).2f per million output tokens, four times their input price. The ratio between the "
        "two models is the same for input and output, so the saving in this example does not change."),
    "batching_saves_nothing": gettext_noop(
        "Batching and concurrency saved $0.00: abatch and max_concurrency send one billed call per "
        "request, so they change throughput and latency, never the bill. Only a provider's offline Batch "
        "API is priced lower."),
    "truncated": gettext_noop(
        "max_tokens=%(cap)s cut %(truncated).0f%% of the answers short (finish_reason \"length\"): they "
        "are counted as bad answers, a quality cost the bill does not show."),
    "misrouted": gettext_noop(
        "The 50-character rule sent %(complex)s complex requests to gpt-4o-mini: length says little "
        "about difficulty, and fewer answers were right."),
    "retries_cost": gettext_noop(
        "Retries and fallbacks added $%(extra).2f a day: every request they rescue is billed, and a "
        "fallback from gpt-4o-mini to gpt-4o bills the dearer model."),
    "compression": gettext_noop(
        "Compression kept %(kept).0f%% of the context's tokens, which cut the prompt by %(prompt).0f%% and "
        "the bill by $%(saved).2f a day: the instructions, the question and every output token stay. "
        "Answers rated good went from %(good_before).0f%% to %(good_after).0f%% of requests."),
    "book_30_8_3": gettext_noop(
        "The chapter says compressing to 50%% halves the tokens and the cost. Here it removed %(prompt).0f%% "
        "of the prompt tokens and %(cost).0f%% of the cost: only the context was compressible, and output "
        "tokens, four times dearer, were untouched."),
    "complex_capped": gettext_noop(
        "The complex share was lowered to %(used).2f so that the shares add up to 1."),
    "budget_race": gettext_noop(
        "A burst of %(burst)s requests at the budget's edge: checking the spend and then calling let "
        "%(naive_admitted)s through and overspent by $%(overspend).4f; reserving each call's worst case "
        "atomically in Redis let %(reserve_admitted)s through and ended within the budget."),
    "budget_reserve_none": gettext_noop(
        "No reservation fitted: the room left was $%(room).4f and the smallest worst case $%(smallest).4f "
        "(its prompt plus %(tokens)s output tokens, priced), although the calls really cost less. A "
        "reservation refuses what it cannot rule out; a lower max_tokens brings the estimate closer to the "
        "real cost."),
    "budget_no_cap": gettext_noop(
        "With no max_tokens, the only safe estimate of a call is the model's largest answer "
        "(%(tokens)s tokens), so reservations are large and few requests fit: a cap makes a budget usable."),
    "availability_sample": gettext_noop(
        "Availability is modelled from the %(rate).1f%% error rate and the retry chain; a sample of "
        "%(n)s requests cannot show failures rarer than about one in %(n)s."),
    "calibrated": gettext_noop(
        "Traffic calibrated so that the before system costs $%(target).2f a day: %(per_day).0f requests a day."),
}

# One note per row of the chapter's table (30.9), each saying why the figures differ.
CASE_NOTES = {
    "book_30_9_qps": gettext_noop(
        "Throughput: the chapter has %(book_before)s QPS before and %(book_after)s after; this run has "
        "%(before)s and %(after)s. Here it is capacity by Little's law (requests in service at once over "
        "the mean time in service), so it follows the concurrency and the share of fast cache hits, "
        "not a fixed tenfold."),
    "book_30_9_p95_latency_ms": gettext_noop(
        "P95 latency: the chapter has %(book_before)s before and %(book_after)s after; this run has "
        "%(before)s and %(after)s. The slowest 5%% of requests are cache misses, so P95 is set by model "
        "calls and by the wait for a batch to fill, not by the requests the cache answers in a millisecond."),
    "book_30_9_cost_per_day_usd": gettext_noop(
        "Cost per day: the chapter has %(book_before)s before and %(book_after)s after; this run has "
        "%(before)s and %(after)s. With requests of equal size its levers would give %(equal)s; here "
        "requests differ in size, and the cache saved %(cache_pct).0f%% of the cost, routing %(route_pct).0f%% "
        "of what the cache left."),
    "book_30_9_cache_hit_rate": gettext_noop(
        "Cache hit rate: the chapter has %(book_before)s before and %(book_after)s after; this run has "
        "%(before)s and %(after)s: the cache answers exactly the repeated questions."),
    "book_30_9_availability": gettext_noop(
        "Availability: the chapter has %(book_before)s before and %(book_after)s after; this run models "
        "%(before)s and %(after)s. With independent errors, retries and a fallback make a failure almost "
        "impossible; the chapter's figure needs failures that hit both models at once, such as a "
        "provider outage."),
}


def _fmt(field: str, value: float) -> str:
    if field in ("cache_hit_rate", "availability"):
        return f"{value * 100:.2f}%"
    if field == "cost_per_day_usd":
        return f"${value:.2f}"
    if field == "p95_latency_ms":
        return f"{value / 1000:.2f} s"
    return f"{value:.1f}"


def _shares(baseline: float, saved: Mapping[str, float]) -> dict[str, float]:
    """The cache's saving as a share of the cost before, routing's as a share of what was left for it."""
    left = baseline - saved["cache"] - saved["max_tokens"]
    return {"cache_pct": saved["cache"] / baseline * 100 if baseline else 0.0,
            "route_pct": saved["routing"] / left * 100 if left else 0.0}


def _notes(params: Mapping[str, Value], metrics: Mapping[str, Any], waterfall: list[dict]) -> list[Note]:
    notes: list[Note] = []
    saved = {row["lever"]: row["saved_usd"] for row in waterfall}
    before, after = metrics["before"], metrics["after"]
    if SPEC.matches(params, "book-30.4.2"):
        notes.append(note(NOTE_TEXTS, "book_30_4_2", expected=book.book_routing_saving() * 100,
                          saved=metrics["savings_pct"], needed=book.share_needed(book.CLAIMED_SAVING) * 100))
        notes.append(note(NOTE_TEXTS, "book_prices_input_only", large_out=list_price(LARGE).output_per_1m,
                          small_out=list_price(SMALL).output_per_1m))
    if metrics["calibrated"]:
        notes.append(note(NOTE_TEXTS, "calibrated", target=params["calibrate_usd_per_day"],
                          per_day=metrics["requests_per_day"]))
    if SPEC.matches(params, "book-30.9"):
        for row in _case_rows(before, after):
            field = row["metric"]
            notes.append(note(CASE_NOTES, f"book_30_9_{field}", book_before=_fmt(field, row["book_before"]),
                              book_after=_fmt(field, row["book_after"]), before=_fmt(field, row["before"]),
                              after=_fmt(field, row["after"]), equal=_fmt(field, book.case_study_cost_estimate()),
                              **_shares(metrics["baseline_cost_usd"], saved)))
    if params["simple_share"] + params["complex_share"] > 1.0 + 1e-9:
        notes.append(note(NOTE_TEXTS, "complex_capped", used=1.0 - params["simple_share"]))
    if params["concurrency"] > 0 or params["batch_size"] > 1:
        notes.append(note(NOTE_TEXTS, "batching_saves_nothing"))
    if params["max_tokens"] and after["truncated_rate"] > 0:
        notes.append(note(NOTE_TEXTS, "truncated", cap=params["max_tokens"], truncated=after["truncated_rate"] * 100))
    if params["routing"] == "length" and metrics["routing"]["complex_to_small"]:
        notes.append(note(NOTE_TEXTS, "misrouted", complex=metrics["routing"]["complex_to_small"]))
    if saved["retries_fallbacks"] < 0:
        notes.append(note(NOTE_TEXTS, "retries_cost", extra=-saved["retries_fallbacks"]))
    compression = metrics["compression"]
    if compression["on"] and compression["context_tokens_before"]:
        notes.append(note(NOTE_TEXTS, "compression", kept=compression["context_kept"] * 100,
                          prompt=compression["prompt_tokens_saved_share"] * 100, saved=saved["compression"],
                          good_before=before["good_answer_rate"] * 100, good_after=after["good_answer_rate"] * 100))
        if abs(params["compression"] - book.COMPRESSION_RATE) < 1e-9:
            step_before = metrics["baseline_cost_usd"] - sum(saved[lever] for lever in LEVERS[:3])
            notes.append(note(NOTE_TEXTS, "book_30_8_3", prompt=compression["prompt_tokens_saved_share"] * 100,
                              cost=saved["compression"] / step_before * 100 if step_before else 0.0))
    race_result = metrics["budget"]["race"]
    if race_result:
        notes.append(note(NOTE_TEXTS, "budget_race", burst=metrics["budget"]["burst"],
                          naive_admitted=race_result["naive"]["admitted"],
                          overspend=race_result["naive"]["overspend_usd"],
                          reserve_admitted=race_result["reserve"]["admitted"]))
        if not params["max_tokens"]:
            notes.append(note(NOTE_TEXTS, "budget_no_cap", tokens=metrics["budget"]["estimate_output_tokens"]))
        elif race_result["reserve"]["admitted"] == 0:
            notes.append(note(NOTE_TEXTS, "budget_reserve_none", room=metrics["budget"]["headroom_usd"],
                              smallest=metrics["budget"]["smallest_estimate_usd"],
                              tokens=metrics["budget"]["estimate_output_tokens"]))
    notes.append(note(NOTE_TEXTS, "availability_sample", rate=params["error_rate"] * 100,
                      n=metrics["sample_requests"]))
    return notes


COMPONENT = Component(
    name="cost-dashboard", title=gettext_noop("Cost optimisation dashboard"), section="30.10", spec=SPEC, run=run,
    code=(
        CodeRef(gettext_noop("The optimised call path: fallbacks and a RunnableBranch"), build_pipeline),
        CodeRef(gettext_noop("The callback that prices every call"), CostTracker),
        CodeRef(gettext_noop("Our prompt compressor"), compress),
        CodeRef(gettext_noop("A request under a budget: reserve, call, settle"), reserved_request),
        CodeRef(gettext_noop("Which lever saved what"), steps),
    ),
)
