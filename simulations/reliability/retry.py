"""Retries: langchain-core's ``with_retry``, made reproducible, and what it leaves out.

``runnable.with_retry(...)`` returns a ``RunnableRetry`` that runs each attempt
through tenacity: ``stop_after_attempt(n)`` counts *attempts* (so 3 means two
retries), ``retry_if_exception_type`` decides what is retried (every
``Exception`` unless told otherwise, 400 and 401 included), and
``wait_exponential_jitter`` sleeps ``initial * 2**(n-1) + uniform(0, jitter)``
seconds, capped at ``max``, before retry ``n``.  Passing
``wait_exponential_jitter=False`` does not drop only the jitter: it drops the
wait altogether, and the retries follow each other at once.

Three things are added here, in :class:`SeededRetry` (a ``RunnableRetry``, built
from what ``with_retry`` returns, so the arguments are checked exactly as a
learner's would be):

* tenacity draws its jitter from Python's global ``random``; here each retry layer
  draws from a generator of its own, seeded per run, so a run is reproducible
  and never touches (or depends on) the global generator;
* ``honour_retry_after``: wait what a 429's ``retry-after`` asks, which
  ``with_retry`` ignores (it sleeps its own back-off, possibly too short);
* ``budget``: a :class:`RetryBudget` in the manner of Envoy's, so that retries
  stay a small share of the traffic when everything fails at once.

``batch``/``abatch`` retry each input on its own: langchain-core 1.7's
``RunnableRetry`` retries whole rounds and, when a round ends with successes
before a final failure, can hand one input's answer to another (langchain #35475).

Each attempt carries ``attempt:<layer>`` in its run metadata, so the model's call
records say which layer asked for them.
"""

from __future__ import annotations

import contextvars
import random
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import Runnable
from langchain_core.runnables.retry import RunnableRetry
from langchain_core.runnables.utils import gather_with_concurrency
from pydantic import Field, PrivateAttr
from tenacity import (
    RetryCallState,
    retry_all,
    retry_base,
    retry_if_exception,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
    wait_none,
)
from tenacity.wait import wait_base

# Envoy's retry budget: retries in flight may be at most this share of active
# requests, but never fewer than this many (its defaults: 20 % and 3).
ENVOY_BUDGET_SHARE = 0.2
ENVOY_MIN_RETRY_CONCURRENCY = 3
# Longest retry-after a client waits; a longer one ends the retries (a fallback takes over).
MAX_RETRY_AFTER_S = 60.0


def attempt_key(layer: str) -> str:
    """The run-metadata key under which a retry layer numbers its attempts (1, 2, ...)."""
    return f"attempt:{layer}"


# -- the retry budget ----------------------------------------------------------------


@dataclass
class _Ticket:
    """One request inside a retry layer; ``retrying`` while it holds one of the budget's retries."""

    retrying: bool = False


class RetryBudget:
    """Retries in flight at most ``share`` of the requests in flight (and at least ``min_retries``).

    This is Envoy's retry budget: a request that is being retried counts as one
    active retry until it leaves the layer; a retry that would take the count
    over ``max(min_retries, share * active requests)`` is not made, and the
    request fails with its last error (or moves on to a fallback).  When a few
    requests fail, they all get their retries; when everything fails, the extra
    load on the provider stays near ``share``.
    """

    def __init__(self, share: float = ENVOY_BUDGET_SHARE,
                 min_retries: int = ENVOY_MIN_RETRY_CONCURRENCY) -> None:
        if not 0 <= share <= 1 or min_retries < 0:
            raise ValueError("need 0 <= share <= 1 and min_retries >= 0")
        self.share = share
        self.min_retries = min_retries
        self.active_requests = 0
        self.active_retries = 0
        self.granted = 0
        self.denied = 0

    def enter(self) -> _Ticket:
        self.active_requests += 1
        return _Ticket()

    def leave(self, ticket: _Ticket) -> None:
        self.active_requests -= 1
        self._release(ticket)

    def allow(self, ticket: _Ticket) -> bool:
        """May this request retry now?  Its own previous retry, if any, has ended."""
        self._release(ticket)
        if self.active_retries < max(self.min_retries, self.share * self.active_requests):
            ticket.retrying = True
            self.active_retries += 1
            self.granted += 1
            return True
        self.denied += 1
        return False

    def _release(self, ticket: _Ticket) -> None:
        if ticket.retrying:
            ticket.retrying = False
            self.active_retries -= 1


# The ticket of the request a retry layer is serving (each layer sets its own).
_TICKET: contextvars.ContextVar[_Ticket | None] = contextvars.ContextVar("retry_ticket", default=None)


class _BudgetAllows(retry_base):
    """tenacity's retry condition for the budget, consulted only once the error is retryable."""

    def __init__(self, budget: RetryBudget, ticket: _Ticket, max_attempts: int) -> None:
        self.budget, self.ticket, self.max_attempts = budget, ticket, max_attempts

    def __call__(self, retry_state: RetryCallState) -> bool:
        if self.max_attempts and retry_state.attempt_number >= self.max_attempts:
            return True  # the stop condition ends it; no retry is taken from the budget
        return self.budget.allow(self.ticket)


# -- waits --------------------------------------------------------------------------


class SeededExponentialJitter(wait_exponential_jitter):
    """tenacity's ``wait_exponential_jitter``, drawing its jitter from ``rng`` instead of the global ``random``.

    The formula is tenacity's own (tenacity 9.2, ``wait.py``):
    ``max(min, min(multiplier * exp_base**(n - 1) + uniform(0, jitter), max))``.
    """

    def __init__(self, rng: random.Random, **params: float) -> None:
        # langchain-core's ExponentialJitterParams still says "initial"; tenacity 9
        # renamed it "multiplier" and warns about the old name.
        if "initial" in params:
            params["multiplier"] = params.pop("initial")
        super().__init__(**params)
        self.rng = rng

    def __call__(self, retry_state: RetryCallState) -> float:
        jitter = self.rng.uniform(0, self.jitter)
        try:
            exp = self.exp_base ** (retry_state.attempt_number - 1)
            result = self.multiplier * exp + jitter
        except OverflowError:
            result = self.max
        return max(max(0, self.min), min(result, self.max))


class RetryAfterWait(wait_base):
    """Wait what the error's ``retry_after_s`` asks for; otherwise the usual back-off."""

    def __init__(self, otherwise: wait_base, longest_s: float = MAX_RETRY_AFTER_S) -> None:
        self.otherwise = otherwise
        self.longest_s = longest_s

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None and outcome.failed else None
        asked = getattr(error, "retry_after_s", None)
        if asked is not None and asked <= self.longest_s:
            return asked
        return self.otherwise(retry_state)


def _not_too_long(longest_s: float):
    return lambda error: getattr(error, "retry_after_s", 0.0) <= longest_s


# -- the retrying runnable --------------------------------------------------------------


class SeededRetry(RunnableRetry):
    """``RunnableRetry`` with its own jitter generator, optional retry-after, a budget, per-input batches."""

    layer: str = "chain"
    jitter_seed: int = 0
    honour_retry_after: bool = False
    max_retry_after_s: float = MAX_RETRY_AFTER_S
    budget: RetryBudget | None = Field(default=None, exclude=True)

    _jitter: random.Random = PrivateAttr()
    _retries: int = PrivateAttr(default=0)

    def model_post_init(self, context: Any, /) -> None:
        super().model_post_init(context)
        self._jitter = random.Random(f"jitter|{self.layer}|{self.jitter_seed}")

    @classmethod
    def from_retry(cls, retry: RunnableRetry, **extra: Any) -> SeededRetry:
        """The same retry (what ``with_retry`` built), with the additions of this class."""
        return cls(**{name: getattr(retry, name) for name in RunnableRetry.model_fields}, **extra)

    @property
    def retries(self) -> int:
        """Retries this layer has made (sleeps before a new attempt)."""
        return self._retries

    @property
    def _kwargs_retrying(self) -> dict[str, Any]:
        # As RunnableRetry._kwargs_retrying builds them, with the wait and the
        # retry condition extended.  Evaluated once per request, in its own context.
        kwargs: dict[str, Any] = {}
        if self.max_attempt_number:
            kwargs["stop"] = stop_after_attempt(self.max_attempt_number)
        wait: wait_base = wait_none()
        if self.wait_exponential_jitter:
            wait = SeededExponentialJitter(self._jitter, **dict(self.exponential_jitter_params or {}))
        if self.honour_retry_after:
            wait = RetryAfterWait(wait, self.max_retry_after_s)
        kwargs["wait"] = wait
        if callable(self.retry_exception_types):
            checks: list[retry_base] = [retry_if_exception(self.retry_exception_types)]
        else:
            checks = [retry_if_exception_type(self.retry_exception_types)]
        if self.honour_retry_after:
            checks.append(retry_if_exception(_not_too_long(self.max_retry_after_s)))
        ticket = _TICKET.get()
        if self.budget is not None and ticket is not None:
            checks.append(_BudgetAllows(self.budget, ticket, self.max_attempt_number))
        kwargs["retry"] = retry_all(*checks)
        kwargs["before_sleep"] = self._count_retry
        return kwargs

    def _count_retry(self, retry_state: RetryCallState) -> None:
        self._retries += 1

    def _patch_config(self, config: Any, run_manager: Any, retry_state: RetryCallState) -> Any:
        patched = RunnableRetry._patch_config(config, run_manager, retry_state)
        patched["metadata"] = {**(patched.get("metadata") or {}),
                               attempt_key(self.layer): retry_state.attempt_number}
        return patched

    def _invoke(self, input_: Any, run_manager: Any, config: Any, **kwargs: Any) -> Any:
        ticket = self.budget.enter() if self.budget is not None else None
        token = _TICKET.set(ticket)
        try:
            return super()._invoke(input_, run_manager, config, **kwargs)
        finally:
            _TICKET.reset(token)
            if ticket is not None:
                self.budget.leave(ticket)

    async def _ainvoke(self, input_: Any, run_manager: Any, config: Any, **kwargs: Any) -> Any:
        ticket = self.budget.enter() if self.budget is not None else None
        token = _TICKET.set(ticket)
        try:
            return await super()._ainvoke(input_, run_manager, config, **kwargs)
        finally:
            _TICKET.reset(token)
            if ticket is not None:
                self.budget.leave(ticket)

    def _batch(self, inputs: list[Any], run_manager: list[Any], config: list[Any],
               **kwargs: Any) -> list[Any]:
        outputs: list[Any] = []
        for input_, manager, one_config in zip(inputs, run_manager, config, strict=True):
            try:
                outputs.append(self._invoke(input_, manager, one_config, **kwargs))
            except Exception as error:
                outputs.append(error)
        return outputs

    async def _abatch(self, inputs: list[Any], run_manager: list[Any], config: list[Any],
                      **kwargs: Any) -> list[Any]:
        async def one(index: int) -> Any:
            try:
                return await self._ainvoke(inputs[index], run_manager[index], config[index], **kwargs)
            except Exception as error:
                return error

        limit = config[0].get("max_concurrency") if config else None
        return list(await gather_with_concurrency(limit, *(one(i) for i in range(len(inputs)))))


def retrying(runnable: Runnable, *, attempts: int, retry_on: tuple[type[BaseException], ...],
             base_s: float, cap_s: float, jitter_s: float, seed: int, layer: str = "chain",
             honour_retry_after: bool = False, budget: RetryBudget | None = None) -> SeededRetry:
    """``runnable.with_retry(...)`` as a learner writes it, made reproducible (and extended)."""
    standard = runnable.with_retry(
        retry_if_exception_type=retry_on,
        stop_after_attempt=attempts,
        exponential_jitter_params={"initial": base_s, "max": cap_s, "jitter": jitter_s},
    )
    return SeededRetry.from_retry(standard, layer=layer, jitter_seed=seed,
                                  honour_retry_after=honour_retry_after, budget=budget)
