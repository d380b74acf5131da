"""Small helpers to summarise timings."""

from __future__ import annotations

import statistics


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def describe_ms(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1000:7.2f} ms   p95 {p95(samples) * 1000:7.2f} ms   (n={len(samples)})"
