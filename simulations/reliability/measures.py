"""From replayed strategies to the figures a learner compares.

Availability counts answers (a model's or the cache's); the default answer keeps
the page from showing an error but is not an answer, so it is counted apart.
Latency is what the user waited, failures included.  "Provider calls per
request" counts the calls that reached the failing provider (the primary's),
split by the layer that made them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ..caching.measures import percentile, to_ms
from ..mock_llm import REJECT_AFTER_S, CallRecord
from ..profiles import PROFILES
from .breaker import OPEN
from .fallback import CACHE, DEFAULT
from .retry import attempt_key
from .strategies import FAILED, Served, Setup, StrategyRun

CALL_LAYERS = ("first", "sdk_retry", "chain_retry", "gateway_retry", "fallback")
PERMANENT_STATUS = (400, 401)
MAX_BUCKETS = 30  # bars in the served-per-second chart, at most


def call_layer(model: str, call: CallRecord, primary: str) -> str:
    """Which layer asked for this call: the request's first try, a retry of some layer, a fallback."""
    if model != primary:
        return "fallback"
    if call.attempt > 0:
        return "sdk_retry"
    metadata = dict(call.metadata)
    if metadata.get(attempt_key("chain"), 1) > 1:
        return "chain_retry"
    if metadata.get(attempt_key("gateway"), 1) > 1:
        return "gateway_retry"
    return "first"


def provider_calls(run: StrategyRun, setup: Setup) -> list[tuple[str, CallRecord]]:
    """The calls that reached the failing provider (the primary's)."""
    return [(model, call) for model, call in run.calls if PROFILES[model].provider == setup.provider]


def calls_by_layer(run: StrategyRun, setup: Setup, requests: int) -> dict[str, float]:
    """Calls reaching the failing provider per user request, by layer."""
    counts = dict.fromkeys(CALL_LAYERS, 0)
    for model, call in provider_calls(run, setup):
        counts[call_layer(model, call, setup.primary)] += 1
    return {layer: count / requests if requests else 0.0 for layer, count in counts.items()}


def most_calls_for_one_request(run: StrategyRun, setup: Setup) -> int:
    per_request: dict[Any, int] = defaultdict(int)
    for _, call in provider_calls(run, setup):
        per_request[call.request_id] += 1
    return max(per_request.values(), default=0)


def early_retries(run: StrategyRun, setup: Setup) -> int:
    """Calls refused with 429 because they came back before the retry-after they had been given."""
    calls = sorted((c for m, c in run.calls if m == setup.primary), key=lambda c: (c.request_id, c.start_s))
    refused = 0
    until: dict[Any, float] = {}
    for call in calls:
        waited_until = until.get(call.request_id)
        if waited_until is not None and call.start_s + REJECT_AFTER_S < waited_until:
            refused += 1  # the mock refuses exactly these (see MockChatModel._mixed_fault)
        elif call.outcome == "rate_limited":
            until[call.request_id] = call.end_s + setup.faults.retry_after_s
    return refused


def permanent_retries(run: StrategyRun, setup: Setup) -> int:
    """Calls that repeated a request after a 400 or 401: they could only fail again."""
    seen_permanent: set[Any] = set()
    wasted = 0
    for model, call in sorted(run.calls, key=lambda mc: (mc[1].start_s, mc[1].call)):
        if model != setup.primary:
            continue
        if call.request_id in seen_permanent:
            wasted += 1
        if call.status_code in PERMANENT_STATUS:
            seen_permanent.add(call.request_id)
    return wasted


def _share(served: Sequence[Served], who: set[str] | None = None, *, answered: bool = False) -> float:
    if not served:
        return 0.0
    if answered:
        return sum(s.served_by not in (DEFAULT, FAILED) for s in served) / len(served)
    return sum(s.served_by in who for s in served) / len(served)


def strategy_metrics(run: StrategyRun, setup: Setup) -> dict[str, Any]:
    served = run.served
    requests = len(served)
    latencies = [s.latency_s for s in served]
    by_layer = calls_by_layer(run, setup, requests)
    answered = [s for s in served if s.served_by not in (DEFAULT, FAILED)]
    breaker = run.breaker
    return {
        "availability": _share(served, answered=True),
        "default_rate": _share(served, {DEFAULT}),
        "error_rate": _share(served, {FAILED}),
        "cache_rate": _share(served, {CACHE}),
        "fallback_rate": _share(served, {name for name in setup.backups}),
        "p50_latency_ms": to_ms(percentile(latencies, 50)),
        "p95_latency_ms": to_ms(percentile(latencies, 95)),
        "max_latency_ms": to_ms(max(latencies, default=0.0)),
        "cost_usd": sum(call.cost_usd for _, call in run.calls),
        "provider_calls_per_request": sum(by_layer.values()),
        "provider_calls_by_layer": by_layer,
        "calls_per_request": len(run.calls) / requests if requests else 0.0,
        "most_calls_for_one_request": most_calls_for_one_request(run, setup),
        "correct_rate": sum(bool(s.correct) for s in answered) / len(answered) if answered else 0.0,
        "retries": dict(run.retries),
        "early_retries": early_retries(run, setup),
        "permanent_retries": permanent_retries(run, setup),
        "budget_denied": run.budget_denied,
        "breaker_opened": sum(state == OPEN for _, state in breaker.history) if breaker else 0,
        "breaker_rejected": breaker.rejected if breaker else 0,
        "breaker_open_s": breaker.time_in(OPEN, run.end_s) if breaker else 0.0,
    }


def bucket_s(duration_s: float) -> float:
    """Seconds per bar: one second, or more when the run is long."""
    return float(max(1, math.ceil(duration_s / MAX_BUCKETS)))


def served_per_second(run: StrategyRun, width_s: float, servers: Sequence[str]) -> list[dict[str, Any]]:
    """Requests by arrival second and by who served them (models, cache, default, error)."""
    if not run.served:
        return []
    buckets = int(max(s.arrival_s for s in run.served) // width_s) + 1
    rows = [{"t_s": i * width_s, **dict.fromkeys(servers, 0)} for i in range(buckets)]
    for s in run.served:
        rows[int(s.arrival_s // width_s)][s.served_by] += 1
    return rows


def breaker_series(run: StrategyRun) -> list[list[Any]]:
    """``[t_seconds, state]`` at the start and at every change, ending at the run's end."""
    if run.breaker is None:
        return []
    points = [[t, state] for t, state in run.breaker.history]
    points.append([max(run.end_s, points[-1][0]), points[-1][1]])
    return points
