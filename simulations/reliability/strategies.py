"""One seeded stream of requests, replayed through each reliability strategy.

Every strategy gets fresh models with the same seed and ``keyed_draws``: request
17's first call to the primary meets the same fault in every strategy, its
second call (a retry) the same fault wherever a second call is made, and the
outage window covers the same seconds.  The strategies differ only in what they
do about it:

* ``no_retry``: the primary model alone, no retries anywhere;
* ``retry``: langchain-core's ``with_retry`` (the chain layer), optionally inside
  a gateway that retries too, over a client that may retry as well (the SDK
  layer, ``max_retries``): the layers multiply;
* ``retry_after``: the same ``with_retry`` layer, waiting what a 429's
  ``retry-after`` asks instead of its own back-off (no gateway);
* ``fallback``: ``with_fallbacks``: the primary, the backup models, the cache,
  the default answer, each model with its own timeout;
* ``breaker``: the same chain with a circuit breaker in front of the primary;
* ``full``: a retry that honours ``retry-after`` (transient errors only), inside
  the breaker, then the backups, the cache and the default answer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage
from langchain_core.runnables import Runnable

from ..clock import now, run_virtual
from ..mock_llm import CallRecord, FaultMix, MockChatModel
from ..profiles import PROFILES
from ..workload import Request
from .breaker import CircuitBreaker
from .errors import RETRY_ON, TRANSIENT_ERRORS, error_class
from .fallback import CACHE, DEFAULT, AnswerCache, fallback_chain, served_by
from .retry import RetryBudget, SeededRetry, attempt_key, retrying

STRATEGIES = ("no_retry", "retry", "retry_after", "fallback", "breaker", "full")
WITH_FALLBACKS = ("fallback", "breaker", "full")
WITH_BREAKER = ("breaker", "full")
LAYERS = ("chain", "gateway")  # retry layers of ours; the SDK layer is the model client's max_retries
RECORDED = tuple(attempt_key(layer) for layer in LAYERS)
FAILED = "error"


@dataclass(frozen=True)
class Setup:
    """Everything a replay needs besides the requests: the failures and every strategy's knobs."""

    primary: str
    backups: tuple[str, ...]
    faults: FaultMix
    outage: tuple[float, float] | None  # [start, end) in seconds, or None
    outage_scope: str  # "model": the primary only; "provider": every model of its provider
    primary_timeout_s: float
    backup_timeout_s: float
    sdk_retries: int
    attempts: int
    retry_on: str
    base_s: float
    cap_s: float
    jitter_s: float
    gateway_attempts: int
    budget_share: float  # 0: no retry budget
    cache: bool
    default: bool
    breaker_failures: int
    breaker_cooldown_s: float
    seed: int

    @property
    def provider(self) -> str:
        """The primary's provider: the one that fails."""
        return PROFILES[self.primary].provider

    @property
    def max_calls_per_request(self) -> int:
        """What the retry layers allow at most: gateway attempts x chain attempts x SDK attempts."""
        return self.gateway_attempts * self.attempts * (self.sdk_retries + 1)


@dataclass(frozen=True)
class Served:
    """What one request got."""

    request: int
    arrival_s: float
    latency_s: float
    served_by: str  # a model's name, "cache", "default" or "error"
    error: str | None  # the error class that reached the user, if one did
    correct: bool | None  # whether the answer was right (None for the default answer and errors)


@dataclass
class StrategyRun:
    name: str
    served: list[Served]
    calls: list[tuple[str, CallRecord]]  # (model, attempt) for every call made to any model
    end_s: float
    breaker: CircuitBreaker | None = None
    retries: dict[str, int] = field(default_factory=dict)  # retries made, by layer of ours
    budget_denied: int = 0
    cache_hits: int = 0


def models_for(strategy: str, setup: Setup) -> dict[str, MockChatModel]:
    """Fresh models for one strategy: the primary first, then the backups it uses."""
    sdk = 0 if strategy == "no_retry" else setup.sdk_retries
    window = (setup.outage,) if setup.outage else ()
    common = {"seed": setup.seed, "keyed_draws": True, "record_metadata": RECORDED, "max_retries": sdk}
    models = {setup.primary: MockChatModel(model=setup.primary, faults=setup.faults, outages=window,
                                           timeout_s=setup.primary_timeout_s, **common)}
    if strategy in WITH_FALLBACKS:
        for name in setup.backups:
            shares_outage = setup.outage_scope == "provider" and PROFILES[name].provider == setup.provider
            models[name] = MockChatModel(model=name, outages=window if shares_outage else (),
                                         timeout_s=setup.backup_timeout_s, **common)
    return models


def _budget(setup: Setup) -> RetryBudget | None:
    return RetryBudget(setup.budget_share) if setup.budget_share > 0 else None


def _retry(runnable: Runnable, setup: Setup, layer: str, attempts: int, retry_on: tuple,
           honour_retry_after: bool = False) -> SeededRetry:
    return retrying(runnable, attempts=attempts, retry_on=retry_on, base_s=setup.base_s,
                    cap_s=setup.cap_s, jitter_s=setup.jitter_s, seed=setup.seed, layer=layer,
                    honour_retry_after=honour_retry_after, budget=_budget(setup))


def build(strategy: str, setup: Setup, models: dict[str, MockChatModel], cache: AnswerCache,
          breaker: CircuitBreaker | None) -> tuple[Runnable, list[SeededRetry]]:
    """The runnable a strategy sends each request through, and its retry layers (to count them)."""
    primary = models[setup.primary]
    backups = [models[name] for name in setup.backups if name in models]
    if strategy == "no_retry":
        return primary, []
    if strategy == "retry":
        chain = _retry(primary, setup, "chain", setup.attempts, RETRY_ON[setup.retry_on])
        if setup.gateway_attempts < 2:
            return chain, [chain]
        gateway = _retry(chain, setup, "gateway", setup.gateway_attempts, RETRY_ON[setup.retry_on])
        return gateway, [chain, gateway]
    if strategy == "retry_after":
        chain = _retry(primary, setup, "chain", setup.attempts, RETRY_ON[setup.retry_on], honour_retry_after=True)
        return chain, [chain]
    keep = cache if setup.cache or strategy == "full" else None
    if strategy == "fallback":
        return fallback_chain(primary, backups, cache=keep, default=setup.default), []
    guarded = breaker.guard(primary)
    if strategy == "breaker":
        return fallback_chain(guarded, backups, cache=keep, default=setup.default), []
    if strategy == "full":
        chain = _retry(guarded, setup, "chain", setup.attempts, TRANSIENT_ERRORS, honour_retry_after=True)
        return fallback_chain(chain, backups, cache=keep, default=True), [chain]
    raise ValueError(f"unknown strategy {strategy!r}")


def replay(strategy: str, setup: Setup, requests: list[Request]) -> StrategyRun:
    """Send every request at its arrival time through ``strategy``, on a fresh virtual clock."""
    models = models_for(strategy, setup)
    cache = AnswerCache()
    breaker = (CircuitBreaker(setup.breaker_failures, setup.breaker_cooldown_s)
               if strategy in WITH_BREAKER else None)
    runnable, layers = build(strategy, setup, models, cache, breaker)
    served: list[Served] = []

    async def serve(request: Request) -> None:
        await asyncio.sleep(request.arrival_s - now())
        start = now()
        config: Any = {"metadata": {"request_id": request.id}}
        try:
            message: AIMessage = await runnable.ainvoke(request.text, config)
        except Exception as error:
            served.append(Served(request.id, start, now() - start, FAILED, error_class(error), None))
            return
        who = served_by(message)
        if who not in (CACHE, DEFAULT):
            cache.remember(request.text, message)
        correct = message.response_metadata.get("correct") if who != DEFAULT else None
        served.append(Served(request.id, start, now() - start, who, None, correct))

    async def main() -> float:
        await asyncio.gather(*(serve(r) for r in requests))
        return now()

    end_s = run_virtual(main)
    served.sort(key=lambda s: s.request)
    return StrategyRun(
        name=strategy, served=served, end_s=end_s, breaker=breaker,
        calls=[(name, call) for name, model in models.items() for call in model.calls],
        retries={layer.layer: layer.retries for layer in layers},
        budget_denied=sum(layer.budget.denied for layer in layers if layer.budget is not None),
        cache_hits=cache.hits,
    )


def replay_all(setup: Setup, requests: list[Request]) -> dict[str, StrategyRun]:
    return {name: replay(name, setup, requests) for name in STRATEGIES}
