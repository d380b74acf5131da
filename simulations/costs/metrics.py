"""The Prometheus metrics of a run, and what a dashboard reads from them.

A real ``prometheus_client.CollectorRegistry`` per run holds a counter, histogram
and gauge set that the callback handler (:mod:`.tracker`) and the serving loop
fill as requests go through, in simulated time.  :class:`Scraper` reads the
registry every few simulated seconds, as Prometheus does, and the panels are
computed from those scrapes the way PromQL computes them: ``rate()`` over a window
and ``histogram_quantile()`` with linear interpolation inside a bucket.  So the
percentiles a dashboard shows are estimates whose accuracy depends on the bucket
bounds, and this module can show how far they are from the exact ones.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# ``*_created`` samples carry the wall-clock time a series was created; a run must
# print the same text every time, so this process leaves them out (Prometheus does
# not need them).
prometheus_client.disable_created_metrics()

# Seconds.  An LLM call takes from milliseconds (a cache hit) to tens of seconds;
# the client's default buckets stop at 10 s, past which every p99 reads as "10".
LATENCY_BUCKETS = (0.005, 0.025, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 34.0)
NICE_WINDOWS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
WINDOWS_WANTED = 8


class LLMMetrics:
    """The metric families of one run, each labelled by ``system`` (before, after)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.calls = Counter("llm_calls", "Model calls by outcome (ok, error, cache_hit).",
                             ["system", "model", "outcome"], registry=r)
        self.tokens = Counter("llm_tokens", "Billed tokens by kind (input, output).",
                              ["system", "model", "kind"], registry=r)
        self.cost = Counter("llm_cost_usd", "Cost of billed tokens, in US dollars.",
                            ["system", "model"], registry=r)
        self.call_seconds = Histogram("llm_call_duration_seconds", "Time from a model call's start to its end.",
                                      ["system", "model"], buckets=LATENCY_BUCKETS, registry=r)
        self.requests = Counter("app_requests", "Requests served by outcome (ok, error).",
                                ["system", "outcome"], registry=r)
        self.request_seconds = Histogram("app_request_duration_seconds",
                                         "Time from a request's arrival to its answer.",
                                         ["system"], buckets=LATENCY_BUCKETS, registry=r)
        self.in_flight = Gauge("app_requests_in_flight", "Requests being served right now.",
                               ["system"], registry=r)

    def exposition(self) -> str:
        """The registry in Prometheus text format, as ``/metrics`` would serve it."""
        return generate_latest(self.registry).decode("utf-8")

    def sums(self) -> dict[tuple[str, str, str], float]:
        """What a dashboard adds up, now: (system, sample name, outcome, kind or bucket bound) -> value.

        The key with an empty third part sums over every outcome, kind or bucket;
        the per-call latency histogram is left out (the panels do not read it).
        """
        out: dict[tuple[str, str, str], float] = {}
        for metric in (self.calls, self.tokens, self.cost, self.requests, self.request_seconds, self.in_flight):
            for family in metric.collect():
                for sample in family.samples:
                    labels = sample.labels
                    system = labels.get("system", "")
                    key = (system, sample.name, "")
                    out[key] = out.get(key, 0.0) + sample.value
                    part = labels.get("outcome") or labels.get("kind") or labels.get("le")
                    if part:
                        key = (system, sample.name, part)
                        out[key] = out.get(key, 0.0) + sample.value
        return out


@dataclass
class Scrape:
    t_s: float
    sums: dict[tuple[str, str, str], float]


@dataclass
class Scraper:
    """Reads the registry every ``interval_s`` of simulated time while a run lasts."""

    metrics: LLMMetrics
    interval_s: float
    scrapes: list[Scrape] = field(default_factory=list)

    async def run(self, done: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        origin = loop.time()
        self.scrapes.append(Scrape(0.0, self.metrics.sums()))
        while not done.is_set():
            await asyncio.sleep(self.interval_s)
            self.scrapes.append(Scrape(loop.time() - origin, self.metrics.sums()))


def window_for(span_s: float) -> int:
    """A round scrape interval giving about WINDOWS_WANTED windows over ``span_s``."""
    target = max(span_s, 1.0) / WINDOWS_WANTED
    return min((w for w in NICE_WINDOWS_S if w >= target), default=NICE_WINDOWS_S[-1])


def histogram_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float | None:
    """PromQL's histogram_quantile: ``buckets`` are (upper bound, cumulative count), +Inf last.

    The rank q * count falls in some bucket; the estimate interpolates linearly
    between that bucket's bounds.  A rank in the +Inf bucket gives the highest
    finite bound: the histogram cannot say more.  None for an empty histogram.
    """
    buckets = sorted(buckets)
    count = buckets[-1][1] if buckets else 0.0
    if count <= 0:
        return None
    rank = q * count
    lower_bound, lower_count = 0.0, 0.0
    for bound, cumulative in buckets:
        if cumulative >= rank:
            if math.isinf(bound):
                return lower_bound
            if cumulative == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (cumulative - lower_count)
        lower_bound, lower_count = bound, cumulative
    return lower_bound


HISTOGRAM = "app_request_duration_seconds_bucket"


def _buckets(later: Scrape, earlier: Scrape | None, system: str) -> list[tuple[float, float]]:
    """(le, increase) of the request-latency histogram between two scrapes."""
    before = earlier.sums if earlier is not None else {}
    return sorted((float(le), value - before.get((sys_, name, le), 0.0))
                  for (sys_, name, le), value in later.sums.items() if sys_ == system and name == HISTOGRAM and le)


def panel_rows(scrapes: Sequence[Scrape], system: str) -> list[dict[str, float | None]]:
    """One row per scrape window: what a Grafana panel plots for ``system``."""
    rows = []
    for earlier, later in zip(scrapes, scrapes[1:]):
        width = later.t_s - earlier.t_s
        if width <= 0:
            continue

        def delta(name: str, part: str = "") -> float:
            key = (system, name, part)
            return later.sums.get(key, 0.0) - earlier.sums.get(key, 0.0)

        served = delta("app_requests_total")
        calls = delta("llm_calls_total")
        buckets = _buckets(later, earlier, system)
        rows.append({
            "t_s": later.t_s, "window_s": width,
            "requests_per_min": served / width * 60,
            "error_rate": delta("app_requests_total", "error") / served if served else 0.0,
            "call_error_rate": delta("llm_calls_total", "error") / calls if calls else 0.0,
            "cache_hit_ratio": delta("llm_calls_total", "cache_hit") / calls if calls else 0.0,
            "input_tokens_per_min": delta("llm_tokens_total", "input") / width * 60,
            "output_tokens_per_min": delta("llm_tokens_total", "output") / width * 60,
            "cost_per_min_usd": delta("llm_cost_usd_total") / width * 60,
            "p50_s": histogram_quantile(0.5, buckets), "p95_s": histogram_quantile(0.95, buckets),
            "p99_s": histogram_quantile(0.99, buckets),
            "in_flight": later.sums.get((system, "app_requests_in_flight", ""), 0.0),
        })
    return rows


def whole_run_quantiles(metrics: LLMMetrics, system: str,
                        quantiles: Iterable[float] = (0.5, 0.95, 0.99)) -> dict[float, float | None]:
    """Percentiles of the whole run estimated from the histogram, as a dashboard's big number shows them."""
    buckets = _buckets(Scrape(0.0, metrics.sums()), None, system)
    return {q: histogram_quantile(q, buckets) for q in quantiles}


def exact_quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile of ``values`` with linear interpolation (numpy's default method)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
