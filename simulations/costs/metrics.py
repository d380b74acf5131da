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
from collections.abc import Iterable, Mapping, Sequence
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

    def values(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Every sample now: (name, sorted labels) -> value; one pass over the registry."""
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in self.registry.collect() for s in family.samples}


@dataclass
class Scrape:
    t_s: float
    values: dict[tuple[str, tuple[tuple[str, str], ...]], float]


@dataclass
class Scraper:
    """Reads the registry every ``interval_s`` of simulated time while a run lasts."""

    metrics: LLMMetrics
    interval_s: float
    scrapes: list[Scrape] = field(default_factory=list)

    async def run(self, done: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        origin = loop.time()
        self.scrapes.append(Scrape(0.0, self.metrics.values()))
        while not done.is_set():
            await asyncio.sleep(self.interval_s)
            self.scrapes.append(Scrape(loop.time() - origin, self.metrics.values()))


def window_for(span_s: float) -> int:
    """A round scrape interval giving about WINDOWS_WANTED windows over ``span_s``."""
    target = max(span_s, 1.0) / WINDOWS_WANTED
    return min((w for w in NICE_WINDOWS_S if w >= target), default=NICE_WINDOWS_S[-1])


def total(scrape: Scrape, name: str, **labels: str) -> float:
    """Sum of the samples called ``name`` whose labels include ``labels`` (PromQL ``sum``)."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in scrape.values.items() if n == name and wanted <= set(ls))


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


def bucket_deltas(later: Scrape, earlier: Scrape | None, name: str, **labels: str) -> list[tuple[float, float]]:
    """(le, increase) of a histogram between two scrapes, summed over the other labels."""
    out: dict[float, float] = {}
    wanted = set(labels.items())
    for (n, ls), value in later.values.items():
        if n != name + "_bucket" or not wanted <= set(ls):
            continue
        le = float(dict(ls)["le"])
        before = earlier.values.get((n, ls), 0.0) if earlier else 0.0
        out[le] = out.get(le, 0.0) + value - before
    return sorted(out.items())


def _sums(scrape: Scrape, system: str) -> dict[tuple[str, str], float]:
    """One pass over a scrape: per metric name, the sum for ``system`` overall and per outcome or kind."""
    out: dict[tuple[str, str], float] = {}
    for (name, labels), value in scrape.values.items():
        found = dict(labels)
        if found.get("system") != system:
            continue
        out[(name, "")] = out.get((name, ""), 0.0) + value
        for label in ("outcome", "kind", "le"):
            if label in found:
                out[(name, found[label])] = out.get((name, found[label]), 0.0) + value
    return out


def panel_rows(scrapes: Sequence[Scrape], system: str) -> list[dict[str, float | None]]:
    """One row per scrape window: what a Grafana panel plots for ``system``."""
    sums = [_sums(s, system) for s in scrapes]
    rows = []
    for k in range(1, len(scrapes)):
        width = scrapes[k].t_s - scrapes[k - 1].t_s
        if width <= 0:
            continue
        later, earlier = sums[k], sums[k - 1]

        def delta(name: str, key: str = "") -> float:
            return later.get((name, key), 0.0) - earlier.get((name, key), 0.0)

        served = delta("app_requests_total")
        calls = delta("llm_calls_total")
        buckets = sorted((float(le), delta("app_request_duration_seconds_bucket", le))
                         for (name, le) in later if name == "app_request_duration_seconds_bucket" and le)
        rows.append({
            "t_s": scrapes[k].t_s, "window_s": width,
            "requests_per_min": served / width * 60,
            "error_rate": delta("app_requests_total", "error") / served if served else 0.0,
            "cache_hit_ratio": delta("llm_calls_total", "cache_hit") / calls if calls else 0.0,
            "input_tokens_per_min": delta("llm_tokens_total", "input") / width * 60,
            "output_tokens_per_min": delta("llm_tokens_total", "output") / width * 60,
            "cost_per_min_usd": delta("llm_cost_usd_total") / width * 60,
            "p50_s": histogram_quantile(0.5, buckets), "p95_s": histogram_quantile(0.95, buckets),
            "p99_s": histogram_quantile(0.99, buckets),
            "in_flight": later.get(("app_requests_in_flight", ""), 0.0),
        })
    return rows


def whole_run_quantiles(metrics: LLMMetrics, system: str,
                        quantiles: Iterable[float] = (0.5, 0.95, 0.99)) -> dict[float, float | None]:
    """Percentiles of the whole run estimated from the histogram, as a dashboard's big number shows them."""
    now = Scrape(0.0, metrics.values())
    buckets = bucket_deltas(now, None, "app_request_duration_seconds", system=system)
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


def labels_of(mapping: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(mapping.items()))
