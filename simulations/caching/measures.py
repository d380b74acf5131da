"""From served requests to the figures a learner compares: hit rates, latency, cost, over time."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .replay import COALESCED, Served, StrategyRun

# Latencies are differences of loop times that grow through the run: rounding to a
# nanosecond drops float noise such as 0.04999999998 ms for a 0.05 ms lookup.
MS_DIGITS = 6
TIME_POINTS = 20  # windows in the hit-rate-over-time series, at most
MIN_WINDOW = 5  # requests per window, at least: fewer make every window 0 % or 100 %
MS = 1000.0


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), interpolating between ranks like numpy's default."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def to_ms(seconds: float) -> float:
    return round(seconds * MS, MS_DIGITS)


def share(served: Sequence[Served], outcomes: frozenset[str] | None = None) -> float:
    """Share of ``served`` that were hits (or had one of ``outcomes``)."""
    if not served:
        return 0.0
    if outcomes is None:
        return sum(s.hit for s in served) / len(served)
    return sum(s.outcome in outcomes for s in served) / len(served)


def window_size(requests: int) -> int:
    return max(MIN_WINDOW, math.ceil(requests / TIME_POINTS))


def strategy_metrics(run: StrategyRun, levels: Sequence[str], restart_at: int) -> dict[str, Any]:
    served = run.served
    latencies = [s.latency_s for s in served]
    coalesced = sum(s.outcome == COALESCED for s in served)
    window = window_size(len(served))
    return {
        "hit_rate": share(served),
        **{f"{level}_hit_rate": share(served, frozenset({level})) for level in levels},
        "wrong_answer_rate": sum(s.wrong for s in served) / len(served) if served else 0.0,
        "right_hit_rate": sum(s.hit and not s.wrong for s in served) / len(served) if served else 0.0,
        "p50_latency_ms": to_ms(percentile(latencies, 50)),
        "p95_latency_ms": to_ms(percentile(latencies, 95)),
        "p99_latency_ms": to_ms(percentile(latencies, 99)),
        "mean_latency_ms": to_ms(sum(latencies) / len(latencies)) if latencies else 0.0,
        "cost_usd": sum(c.cost_usd for c in run.calls),
        "llm_calls": len(run.calls),
        "warmup_llm_calls": run.warmup_calls,
        "coalesced_requests": coalesced,
        # Each coalesced request would have made its own call without single-flight.
        "llm_calls_without_single_flight": len(run.calls) + coalesced,
        "cold_start_hit_rate": share(served[:window]),
        "hit_rate_after_restart": share(served[restart_at:]) if 0 < restart_at < len(served) else None,
    }


def hit_rate_over_time(runs: Sequence[StrategyRun],
                       levels: dict[str, Sequence[str]]) -> dict[str, Any]:
    """Hit rate in consecutive windows of requests, per strategy (and per level where it has them)."""
    requests = len(runs[0].served) if runs else 0
    window = window_size(requests)
    starts = list(range(0, requests, window))

    def rates(served: Sequence[Served], outcomes: frozenset[str] | None) -> list[float]:
        return [share(served[i:i + window], outcomes) for i in starts]

    return {
        "window": window,
        "start_index": starts,
        "strategies": {run.strategy: rates(run.served, None) for run in runs},
        "levels": {run.strategy: {level: rates(run.served, frozenset({level}))
                                  for level in levels[run.strategy]}
                   for run in runs if levels[run.strategy]},
    }


def trace(run: StrategyRun, rows: int) -> list[dict[str, Any]]:
    """The first requests of one strategy: what was asked and how it was answered."""
    return [{"strategy": run.strategy, "request": s.request.id, "text": s.request.text,
             "intent": s.request.intent, "outcome": s.outcome,
             "latency_ms": to_ms(s.latency_s), "wrong": s.wrong}
            for s in run.served[:rows]]
