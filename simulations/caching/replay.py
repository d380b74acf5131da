"""One strategy serving the scenario's traffic: warm-up, arrivals, restart, single-flight.

The service starts (cache opened, optional warm-up), then serves every request at
its arrival time with at most ``concurrency`` in flight.  At ``restart_at`` it
drains what is in flight, stops, and starts again: a new process, so a new model
client and new cache objects over the same files and Redis namespaces.  Latency
is measured from the moment a request gets a slot: the cache's (modelled) cost,
plus the model's time on a miss.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from ..caches import SingleFlight
from ..clock import now
from ..mock_llm import CallRecord, MockChatModel
from ..workload import Request
from .observed import HIT_OUTCOMES, MISS, Lookup, ObservedCache, recording_lookups
from .strategies import RunStores, Strategy, shut_down

# A request that joined an identical call already in flight (single-flight) and
# shared its answer: no model call of its own, but no cache hit either.
COALESCED = "coalesced"


@dataclass(frozen=True)
class Question:
    text: str
    topic: str


@dataclass(frozen=True)
class Scenario:
    requests: Sequence[Request]
    warmup: Sequence[Question]  # asked at every start, before traffic; empty = no warm-up
    restart_at: int  # request index before which the service restarts; 0 or past the end = never
    concurrency: int
    model: str
    seed: int
    topic_in_prompt: bool  # send the topic as a system message (the semantic filter reads it)

    def phases(self) -> list[Sequence[Request]]:
        if 0 < self.restart_at < len(self.requests):
            return [self.requests[:self.restart_at], self.requests[self.restart_at:]]
        return [self.requests]

    def messages(self, question: Question) -> list[BaseMessage]:
        human = HumanMessage(question.text)
        if self.topic_in_prompt:
            return [SystemMessage(f"Support topic: {question.topic}"), human]
        return [human]


@dataclass(frozen=True)
class Served:
    """One traffic request as it was served; times are seconds since the strategy started."""

    request: Request
    phase: int  # 0 before the restart, 1 after
    start_s: float
    end_s: float
    outcome: str  # hit, l1, l2, miss or coalesced
    wrong: bool  # the answer belongs to another intent
    lookup: Lookup | None  # this request's own lookup; None without a cache or when it joined

    @property
    def latency_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def hit(self) -> bool:
        return self.outcome in HIT_OUTCOMES


@dataclass(frozen=True)
class StrategyRun:
    strategy: str
    served: list[Served]  # traffic only, in request order
    calls: list[CallRecord]  # every model call, warm-up included
    warmup_calls: int


class Service:
    """One process of the app: a model client with the strategy's cache attached."""

    def __init__(self, strategy: Strategy, scenario: Scenario, stores: RunStores,
                 phase: int) -> None:
        self.scenario = scenario
        self.cache = strategy.open(stores) if strategy.open is not None else None
        attached = (ObservedCache(self.cache, strategy.probe, strategy.cost)
                    if self.cache is not None else False)  # False: never langchain's global cache
        self.model = MockChatModel(
            model=scenario.model, seed=scenario.seed + phase, cache=attached,
            # Errors and hangs belong to the reliability lessons; here they would only add noise.
            failure_rate=0.0, timeout_rate=0.0,
        )
        # Caches get single-flight in front; the baseline stays a bare model.
        self.flight: SingleFlight | None = SingleFlight() if self.cache is not None else None
        self.slots = asyncio.Semaphore(scenario.concurrency)

    async def warm_up(self) -> int:
        """Ask the warm-up questions; returns how many model calls that took."""
        if self.cache is None or not self.scenario.warmup:
            return 0
        await asyncio.gather(*(self._ask_with_slot(q) for q in self.scenario.warmup))
        return len(self.model.calls)

    async def serve(self, request: Request, arrives_at: float, origin: float,
                    phase: int) -> Served:
        await asyncio.sleep(max(0.0, arrives_at - now()))
        async with self.slots:
            start = now()
            message, lookup, joined = await self.ask(Question(request.text, request.topic))
            end = now()
        return Served(request, phase, start - origin, end - origin, _outcome(lookup, joined),
                      wrong=message.response_metadata["intent"] != request.intent,
                      lookup=None if joined else lookup)

    async def ask(self, question: Question) -> tuple[AIMessage, Lookup | None, bool]:
        """(answer, the lookup behind it, whether this request joined another's call)."""
        messages = self.scenario.messages(question)
        if self.flight is None:
            return await self.model.ainvoke(messages), None, False
        with recording_lookups() as mine:
            message, lookups = await self.flight.do(
                (question.topic if self.scenario.topic_in_prompt else "", question.text),
                lambda: self._invoke(messages, mine))
        return message, (lookups[0] if lookups else None), lookups is not mine

    async def _invoke(self, messages: list[BaseMessage],
                      lookups: list[Lookup]) -> tuple[AIMessage, list[Lookup]]:
        # Handing back the leader's lookups lets a joiner tell a shared hit from a shared miss.
        return await self.model.ainvoke(messages), lookups

    async def _ask_with_slot(self, question: Question) -> None:
        async with self.slots:
            await self.ask(question)

    def stop(self) -> None:
        if self.cache is not None:
            shut_down(self.cache)


def _outcome(lookup: Lookup | None, joined: bool) -> str:
    if lookup is None:
        return MISS
    if joined and not lookup.hit:
        return COALESCED
    return lookup.outcome


async def replay(strategy: Strategy, scenario: Scenario, stores: RunStores) -> StrategyRun:
    """Serve the whole scenario with ``strategy``, restart included."""
    origin = now()
    traffic_start: float | None = None
    served: list[Served] = []
    calls: list[CallRecord] = []
    warmup_calls = 0
    for phase, requests in enumerate(scenario.phases()):
        service = Service(strategy, scenario, stores, phase)
        try:
            warmup_calls += await service.warm_up()
            if traffic_start is None:
                traffic_start = now()
            served += await asyncio.gather(*(
                service.serve(r, traffic_start + r.arrival_s, origin, phase) for r in requests))
        finally:
            service.stop()
        calls += service.model.calls
    return StrategyRun(strategy.name, served, calls, warmup_calls)
