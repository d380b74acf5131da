"""One system serving a day's sample of requests on the virtual clock.

Requests arrive at their times.  A synchronous service has ``workers`` threads, each
serving one request at a time; an async one keeps up to ``concurrency`` requests in
flight; with batching, arrivals are grouped (``batch_size`` of them, or whatever came
within BATCH_WAIT_S of the first) and each group goes out as one ``abatch`` call,
which returns when its slowest member is done.  Latency is measured from arrival,
so waiting for a worker or for a batch to fill counts, as it does for the user.

Every model call goes through the :class:`CostTracker`; the serving loop adds the
request-level metrics (requests, latency, in flight) to the same Prometheus registry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage
from langchain_core.runnables import Runnable

from ..clock import now, run_virtual
from ..mock_llm import CallRecord
from .compression import compress_messages
from .levers import ROUTING_RULES, Levers, build_pipeline, models
from .metrics import LLMMetrics, Scrape, Scraper
from .pricing import PriceTable
from .tracker import CallRow, CostTracker
from .traffic import ENCODING, Request

BATCH_WAIT_S = 0.5  # how long the first request of a batch waits for others
WARMUP_TRIES = 5


@dataclass(frozen=True)
class Served:
    """One request as its user saw it; times are seconds from the start of traffic."""

    request_id: int
    arrival_s: float
    start_s: float  # a worker, slot or batch took it
    end_s: float
    ok: bool
    cache_hit: bool
    model: str  # the model whose answer came back ('' when it failed)
    truncated: bool  # stopped by max_tokens (finish_reason "length")
    correct: bool

    @property
    def latency_s(self) -> float:
        return self.end_s - self.arrival_s

    @property
    def service_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def good(self) -> bool:
        """Answered, right and complete."""
        return self.ok and self.correct and not self.truncated


@dataclass(frozen=True)
class SystemRun:
    system: str
    levers: Levers
    served: list[Served]
    rows: list[CallRow]  # the tracker's rows for the traffic
    attempts: list[tuple[str, CallRecord]]  # (model, attempt) for every attempt of the traffic
    warmup_rows: list[CallRow]
    scrapes: list[Scrape]
    span_s: float
    slots: int  # requests that can be in service at once


@dataclass(frozen=True)
class Setup:
    seed: int
    error_rate: float
    prices: PriceTable
    workers: int
    equal_sizes: bool
    window_s: float


def prepared(requests: Sequence[Request], levers: Levers) -> list[list]:
    """Each request's messages as sent: the context compressed when the lever is on."""
    return [list(compress_messages(r.messages, levers.keep, ENCODING)[0]) for r in requests]


def run_system(system: str, requests: Sequence[Request], levers: Levers, setup: Setup,
               metrics: LLMMetrics) -> SystemRun:
    """Serve ``requests`` with ``levers``; the registry gets this system's series."""
    tracker = CostTracker(setup.prices, clock=now, metrics=None, system=system)
    large, small = models(levers, seed=setup.seed, error_rate=setup.error_rate, tracker=tracker,
                          equal_sizes=setup.equal_sizes)
    pipeline = build_pipeline(levers, large, small)
    inputs = prepared(requests, levers)
    slots = levers.concurrency or setup.workers

    async def main() -> tuple[list[Served], float, list[Scrape]]:
        if levers.cache:
            await _warm_up(levers, large, small, requests, inputs)
        tracker.metrics = metrics  # the warm-up is not part of the day's traffic on the dashboard
        scraper = Scraper(metrics, setup.window_s)
        done = asyncio.Event()
        scraping = asyncio.get_running_loop().create_task(scraper.run(done))
        origin = now()
        if levers.batch_size > 1:
            served = await _batched(pipeline, requests, inputs, levers, slots, origin, metrics, system)
        else:
            served = await _one_by_one(pipeline, requests, inputs, slots, origin, metrics, system)
        span = now() - origin
        done.set()
        await scraping
        return served, span, scraper.scrapes

    served, span, scrapes = run_virtual(main)
    # Warm-up calls carry string ids ("warmup-..."), traffic calls the request's number.
    traffic_rows = [r for r in tracker.rows if not isinstance(r.request_id, str)]
    warm_rows = [r for r in tracker.rows if isinstance(r.request_id, str)]
    attempts = [(m.model, c) for m in (large, small) for c in m.calls if not isinstance(c.request_id, str)]
    return SystemRun(system, levers, served, traffic_rows, attempts, warm_rows, scrapes, span, slots)


async def _warm_up(levers: Levers, large: Runnable, small: Runnable, requests: Sequence[Request],
                   inputs: list[list]) -> None:
    """Ask each repeated question once, of the model its route picks, before traffic.

    Mid-day, the cache already holds the popular questions; the first asks of the
    day are a handful of calls among thousands, left out of the day's cost.
    """
    rule = ROUTING_RULES.get(levers.routing)
    seen: set[str] = set()
    for request, messages in zip(requests, inputs):
        if not request.repeated or request.question in seen:
            continue
        seen.add(request.question)
        model = small if rule is not None and rule(messages) else large
        for attempt in range(WARMUP_TRIES):
            try:
                await model.ainvoke(messages, config=_config(f"warmup-{request.id}-{attempt}"))
                break
            except Exception:  # noqa: BLE001 - a failed warm-up call leaves the entry empty, as it would
                continue


def _config(request_id: Any, max_concurrency: int | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {"metadata": {"request_id": request_id}}
    if max_concurrency is not None:
        config["max_concurrency"] = max_concurrency
    return config


async def _one_by_one(pipeline: Runnable, requests: Sequence[Request], inputs: list[list], slots: int,
                      origin: float, metrics: LLMMetrics, system: str) -> list[Served]:
    limit = asyncio.Semaphore(slots)
    in_flight = metrics.in_flight.labels(system=system)

    async def serve(request: Request, messages: list) -> Served:
        await asyncio.sleep(max(0.0, origin + request.arrival_s - now()))
        async with limit:
            start = now()
            in_flight.inc()
            try:
                answer: Any = await pipeline.ainvoke(messages, config=_config(request.id))
            except Exception as error:  # noqa: BLE001 - a failed request is an outcome, not a crash
                answer = error
            in_flight.dec()
            return _served(request, answer, start - origin, now() - origin, metrics, system)

    return list(await asyncio.gather(*(serve(r, m) for r, m in zip(requests, inputs))))


def batches(requests: Sequence[Request], size: int) -> list[tuple[float, list[int]]]:
    """(flush time, member indexes): full batches go at once, others BATCH_WAIT_S after their first."""
    out: list[tuple[float, list[int]]] = []
    index = 0
    while index < len(requests):
        first = requests[index].arrival_s
        members = [index]
        index += 1
        while (index < len(requests) and len(members) < size
               and requests[index].arrival_s <= first + BATCH_WAIT_S):
            members.append(index)
            index += 1
        flush = requests[members[-1]].arrival_s if len(members) == size else first + BATCH_WAIT_S
        out.append((flush, members))
    return out


async def _batched(pipeline: Runnable, requests: Sequence[Request], inputs: list[list], levers: Levers,
                   slots: int, origin: float, metrics: LLMMetrics, system: str) -> list[Served]:
    limit = asyncio.Semaphore(max(1, slots // levers.batch_size))
    served: dict[int, Served] = {}

    async def send(flush_s: float, members: list[int]) -> None:
        await asyncio.sleep(max(0.0, origin + flush_s - now()))
        async with limit:
            start = now()
            gauge = metrics.in_flight.labels(system=system)
            gauge.inc(len(members))
            configs = [_config(requests[i].id, levers.batch_size) for i in members]
            answers = await pipeline.abatch([inputs[i] for i in members], configs, return_exceptions=True)
            gauge.dec(len(members))
            end = now()
        for i, answer in zip(members, answers):
            served[i] = _served(requests[i], answer, start - origin, end - origin, metrics, system)

    await asyncio.gather(*(send(flush, members) for flush, members in batches(requests, levers.batch_size)))
    return [served[i] for i in range(len(requests))]


def _served(request: Request, answer: Any, start_s: float, end_s: float, metrics: LLMMetrics,
            system: str) -> Served:
    ok = isinstance(answer, AIMessage)
    meta = answer.response_metadata if ok else {}
    usage = (answer.usage_metadata or {}) if ok else {}
    metrics.requests.labels(system, "ok" if ok else "error").inc()
    metrics.request_seconds.labels(system).observe(end_s - request.arrival_s)
    return Served(request.id, request.arrival_s, start_s, end_s, ok,
                  cache_hit=ok and usage.get("total_cost") == 0, model=meta.get("model_name", ""),
                  truncated=meta.get("finish_reason") == "length", correct=bool(meta.get("correct")))
