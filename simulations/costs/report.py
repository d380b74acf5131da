"""What one system's run amounts to over a day: throughput, latency, cost, hits, availability.

Costs are the sample's, scaled by requests per day over sampled requests.  Latency
percentiles are exact over the sample (and, beside them, what the Prometheus
histogram estimates).  Throughput is the capacity the run implies by Little's law:
requests in service at once divided by the mean time each spends in service.
Availability is modelled from the per-attempt error rate and the retry and
fallback chain, because 0.05% of failures cannot be seen in a sample of a hundred
requests; the sample's own share is reported beside it.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from statistics import fmean
from typing import Any

from .metrics import LLMMetrics, exact_quantile, whole_run_quantiles
from .pricing import MODELS, usd
from .serving import SystemRun

MS = 1000.0


def modelled_availability(error_rate: float, retries: int, fallback: bool, hit_rate: float) -> float:
    """Share of requests answered: a miss fails only if every attempt on its model (and the fallback's) fails."""
    fails = error_rate ** (retries + 1)
    if fallback:
        fails *= error_rate ** (retries + 1)
    return 1.0 - (1.0 - hit_rate) * fails


def capacity_qps(run: SystemRun) -> float:
    """Little's law: slots in service at once over the mean time a request holds one."""
    service = fmean(s.service_s for s in run.served) if run.served else 0.0
    return run.slots / service if service > 0 else 0.0


def system_metrics(run: SystemRun, metrics: LLMMetrics, scale: Fraction, error_rate: float,
                   cost_per_day: Decimal) -> dict[str, Any]:
    served = run.served
    n = len(served) or 1
    latencies = [s.latency_s for s in served]
    hits = sum(s.cache_hit for s in served) / n
    billed = [r for r in run.rows if r.outcome == "ok"]
    estimated = whole_run_quantiles(metrics, run.system)
    levers = run.levers
    return {
        "qps": capacity_qps(run),
        "p50_latency_ms": exact_quantile(latencies, 0.50) * MS,
        "p95_latency_ms": exact_quantile(latencies, 0.95) * MS,
        "p99_latency_ms": exact_quantile(latencies, 0.99) * MS,
        "p95_histogram_ms": (estimated[0.95] or 0.0) * MS,
        "p99_histogram_ms": (estimated[0.99] or 0.0) * MS,
        "cost_per_day_usd": float(cost_per_day),
        "cache_hit_rate": hits,
        "availability": modelled_availability(error_rate, levers.retries, levers.fallback, hits),
        "availability_sample": sum(s.ok for s in served) / n,
        "good_answer_rate": sum(s.good for s in served) / n,
        "truncated_rate": sum(s.truncated for s in served) / n,
        "model_calls": len(run.rows),
        "model_errors": sum(r.outcome == "error" for r in run.rows),
        "input_tokens_per_day": float(sum(r.input_tokens for r in billed) * scale),
        "output_tokens_per_day": float(sum(r.output_tokens for r in billed) * scale),
        "cost_by_model": {m: float(usd(sum((r.cost for r in billed if r.model == m), Fraction(0)) * scale))
                          for m in MODELS},
        "answered_by": {m: sum(s.ok and not s.cache_hit and s.model == m for s in served) / n for m in MODELS},
    }
