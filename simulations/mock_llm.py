"""A langchain-core chat model that behaves like a hosted LLM: latency, price, errors, quality.

Everything slow is an ``asyncio.sleep``, so on the virtual clock (``clock.run_virtual``)
a two-second call costs no real time, and on an ordinary loop it waits for real.
The model never hands work to a thread: langchain's default ``_agenerate`` would
run ``_generate`` in an executor, which the virtual clock cannot see through.

One attempt, as seen from the client:

* a prompt longer than the context window fails at once with 400;
* a request over the :class:`Provider`'s limits fails at once with 429;
* a request inside an outage window fails with 503 after the time to first token;
* otherwise the profile's error rates (or ``failure_rate`` / ``timeout_rate``)
  decide: 500 after the time to first token, or a hang that ends when the
  client's timeout (``timeout_s``, else the OpenAI client's 600 s) runs out;
* a successful reply's first token arrives after ``ttft`` (the profile's median
  times a lognormal spread) and each next token ``1 / tokens_per_s`` later, so a
  reply of ``n`` tokens takes ``ttft + (n - 1) / tokens_per_s``;
* with ``timeout_s`` set, a reply (or for streaming, a first token) later than
  that fails with :class:`ModelTimeoutError` after ``timeout_s``;
* with ``max_retries`` set, the client retries 429s, 5xx and timeouts itself, as
  the OpenAI SDK under ``ChatOpenAI`` does (its default is 2; here it is 0 so
  every failure reaches the caller unless asked for).

Answers (see answers.py) are fixed per (intent, model), so a cached answer given to a different
question is visible in ``response_metadata["intent"]``.  Random draws come from
one seeded generator per model instance, three per call in call order.
``reply_tokens`` makes every reply the same length.

A compressed prompt (30.8.3) may have lost words the answer needed: a message whose
``additional_kwargs[COMPRESSION_KEPT]`` says what share of its tokens a compressor
kept lowers the chance of a correct answer (see :func:`compression_quality`).

Opt-in, for the reliability lab (nothing below changes a model that does not ask for it):

* ``faults`` (a :class:`FaultMix`) replaces the profile's error rates with a rate
  per error class: 400, 401, 429 with a retry-after, 500, 503, a hang, a reply
  cut off halfway, plus latency spikes.  A request that got a 429 is refused
  again until its retry-after has passed, as a provider refuses a client that
  does not wait; a request that got a 400 or 401 gets it again every time.
* ``keyed_draws`` draws each attempt's randomness from (seed, model, request id,
  n-th call of that request on this model) instead of from the call order, so
  the same traffic replayed through different retry or fallback strategies meets
  the same faults request by request.
* ``record_metadata`` copies the named run-metadata keys into each CallRecord,
  so a caller can tell which retry layer made an attempt.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections import deque
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field, PrivateAttr, field_validator

from . import answers
from .profiles import PROFILES, ModelProfile, profile
from .tokens import count_chat_tokens

# The OpenAI Python client gives up on a silent server after ten minutes.
DEFAULT_CLIENT_TIMEOUT_S = 600.0
RATE_WINDOW_S = 60.0
# A 429's retry-after is never zero, so a client that honours it cannot spin.
MIN_RETRY_AFTER_S = 0.001
# The OpenAI SDK's back-off when the server sends no usable retry-after:
# 0.5 s doubling up to 8 s, shortened by up to a quarter at random.
SDK_FIRST_BACKOFF_S = 0.5
SDK_MAX_BACKOFF_S = 8.0
SDK_BACKOFF_JITTER = 0.25
SDK_MAX_RETRY_AFTER_S = 60.0
# Metadata key (in the run's config) copied into each CallRecord, to tie attempts to requests.
REQUEST_ID_KEY = "request_id"
# A message's additional_kwargs key: the share of its tokens a prompt compressor kept.
COMPRESSION_KEPT = "compression_kept_share"
# How much a compressed prompt costs in answer quality: the chance of a correct
# answer is multiplied by 1 - COMPRESSION_QUALITY_LOSS * dropped**2, where dropped is
# the share of the prompt's compressible tokens removed.  Light compression drops
# filler and costs little; heavy compression drops facts.  Illustrative, not measured.
COMPRESSION_QUALITY_LOSS = 0.6
# How long an injected 400, 401 or 429 takes to come back: the provider refuses before any work.
REJECT_AFTER_S = 0.05


class MockLLMError(Exception):
    """A failed call; ``status_code`` is the HTTP status a real API would answer."""

    status_code = 500


class RateLimitError(MockLLMError):
    status_code = 429

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"429 rate limit reached, retry after {retry_after_s:.3f} s")
        self.retry_after_s = retry_after_s


class ServerError(MockLLMError):
    def __init__(self, status: int = 500) -> None:
        super().__init__(f"{status} server error")
        self.status_code = status


class ModelTimeoutError(MockLLMError):
    status_code = 504

    def __init__(self, timeout_s: float) -> None:
        super().__init__(f"no reply within {timeout_s:g} s")
        self.timeout_s = timeout_s


class ContextLengthError(MockLLMError):
    status_code = 400

    def __init__(self, tokens: int, limit: int) -> None:
        super().__init__(f"400 prompt of {tokens} tokens exceeds the {limit}-token context")


class BadRequestError(MockLLMError):
    """400: the request itself is wrong; sending it again gives the same answer."""

    status_code = 400

    def __init__(self) -> None:
        super().__init__("400 invalid request")


class AuthenticationError(MockLLMError):
    """401: the API key is missing, wrong or revoked."""

    status_code = 401

    def __init__(self) -> None:
        super().__init__("401 invalid API key")


class ConnectionCutError(MockLLMError):
    """The connection dropped after part of the reply (what a proxy logs as 502)."""

    status_code = 502

    def __init__(self, tokens_sent: int) -> None:
        super().__init__(f"connection dropped after {tokens_sent} tokens")
        self.tokens_sent = tokens_sent


FAULT_CLASSES = ("bad_request", "unauthorized", "rate_limited", "server_error", "unavailable",
                 "timeout", "cut")


@dataclass(frozen=True)
class FaultMix:
    """Error rates by class for one model; they replace its profile's rates.

    Each rate is the share of attempts that fail that way, drawn with one roll per
    attempt (the classes take consecutive slices of [0, 1) in FAULT_CLASSES order).
    A 429 carries ``retry_after_s``.  A spike multiplies an attempt's time to first
    token (and so its whole reply) by ``spike_factor``; with a client timeout it may
    become a timeout.
    """

    bad_request: float = 0.0  # 400, after REJECT_AFTER_S
    unauthorized: float = 0.0  # 401, after REJECT_AFTER_S
    rate_limited: float = 0.0  # 429, after REJECT_AFTER_S, with retry_after_s
    server_error: float = 0.0  # 500, after the time to first token
    unavailable: float = 0.0  # 503, after the time to first token
    timeout: float = 0.0  # hangs until the client's timeout
    cut: float = 0.0  # the reply stops halfway: a stream gets half its tokens, then an error
    retry_after_s: float = 1.0
    spike_rate: float = 0.0
    spike_factor: float = 1.0

    def __post_init__(self) -> None:
        rates = [getattr(self, name) for name in FAULT_CLASSES]
        if min(rates) < 0 or sum(rates) > 1 + 1e-9:
            raise ValueError(f"fault rates must be at least 0 and add up to at most 1, got {rates}")
        if not 0 <= self.spike_rate <= 1 or self.spike_factor < 1 or self.retry_after_s <= 0:
            raise ValueError("need 0 <= spike_rate <= 1, spike_factor >= 1 and retry_after_s > 0")

    def kind(self, roll: float) -> str | None:
        """The error class a roll in [0, 1) falls into, None for no error."""
        edge = 0.0
        for name in FAULT_CLASSES:
            edge += getattr(self, name)
            if roll < edge:
                return name
        return None


class Provider:
    """A provider's limits, shared by every model that points at it.

    ``requests_per_minute`` counts admitted requests in a sliding 60 s window of
    loop time (rejected ones do not count); ``max_concurrent`` caps requests in
    flight.  Either may be None.  A sliding minute lets a burst of the whole
    minute's allowance through at once, so short runs can beat ``rpm / 60``.
    """

    def __init__(
        self, requests_per_minute: int | None = None, max_concurrent: int | None = None
    ) -> None:
        for name, limit in (("requests_per_minute", requests_per_minute),
                            ("max_concurrent", max_concurrent)):
            if limit is not None and limit < 1:
                raise ValueError(f"{name} must be at least 1 or None, got {limit}")
        self.requests_per_minute = requests_per_minute
        self.max_concurrent = max_concurrent
        self.rejected = 0
        self._admitted_at: deque[float] = deque()
        self._planned_ends: list[float] = []

    def admit(self, planned_s: float) -> float:
        """Let a request in, or raise RateLimitError.  Returns the slot to :meth:`release`.

        ``planned_s`` is how long the request will hold its slot, which lets a
        concurrency rejection say when the first slot frees up.
        """
        now = asyncio.get_running_loop().time()
        while self._admitted_at and self._admitted_at[0] <= now - RATE_WINDOW_S:
            self._admitted_at.popleft()
        waits = self._waits(now)
        if waits:
            self.rejected += 1
            raise RateLimitError(max(MIN_RETRY_AFTER_S, *waits))
        self._admitted_at.append(now)
        slot = now + planned_s
        self._planned_ends.append(slot)
        return slot

    def release(self, slot: float) -> None:
        self._planned_ends.remove(slot)

    def _waits(self, now: float) -> list[float]:
        waits = []
        rpm = self.requests_per_minute
        if rpm is not None and len(self._admitted_at) >= rpm:
            waits.append(self._admitted_at[0] + RATE_WINDOW_S - now)
        cap = self.max_concurrent
        if cap is not None and len(self._planned_ends) >= cap:
            waits.append(min(self._planned_ends) - now)
        return waits


@dataclass(frozen=True)
class CallRecord:
    """One attempt as the model saw it; times are loop time in seconds."""

    call: int  # 0, 1, 2 ... in the order this model instance was called
    request_id: Any  # config["metadata"]["request_id"] of the run, if given
    attempt: int  # 0 for the first try, 1.. for the client's own retries (max_retries)
    intent: str
    start_s: float
    end_s: float
    outcome: str  # ok, rate_limited, server_error, outage, timeout, too_long, cancelled;
    #               with a FaultMix also bad_request, unauthorized, unavailable, cut
    status_code: int
    input_tokens: int
    output_tokens: int
    cost_usd: float  # failed attempts are not billed (a cut reply bills the tokens it sent)
    # (key, value) of the run-metadata keys the model was asked to record (record_metadata)
    metadata: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class _Plan:
    """Everything about one attempt, decided before any time passes."""

    intent: str
    pieces: tuple[str, ...]  # the reply's tokens, already cut to the output limit
    finish_reason: str
    input_tokens: int
    ttft_s: float
    duration_s: float  # how long the attempt takes, whatever its outcome
    outcome: str
    error: MockLLMError | None
    correct: bool
    cost_usd: float
    draws: random.Random | None = None  # the generator this attempt drew from (client back-off jitter too)
    metadata: tuple[tuple[str, Any], ...] = ()

    @property
    def output_tokens(self) -> int:
        return len(self.pieces)


_OUTAGE_ERROR_STATUS = 503
_STATUS_OF_OUTCOME = {"ok": 200, "rate_limited": 429, "server_error": 500,
                      "outage": _OUTAGE_ERROR_STATUS, "timeout": 504, "too_long": 400,
                      "cancelled": 499, "bad_request": 400, "unauthorized": 401,
                      "unavailable": 503, "cut": 502}
_BILLED_OUTCOMES = ("ok", "cut")


class MockChatModel(BaseChatModel):
    """A chat model with a :mod:`profiles` entry's prices, speed, errors and quality."""

    model: str = "gpt-4o-mini"
    seed: int = 0
    provider: Provider | None = Field(default=None, exclude=True)
    failure_rate: float | None = Field(default=None, ge=0.0, le=1.0)  # replaces the 500 rate
    timeout_rate: float | None = Field(default=None, ge=0.0, le=1.0)  # replaces the hang rate
    timeout_s: float | None = Field(default=None, gt=0.0)
    max_tokens: int | None = Field(default=None, ge=1)
    max_retries: int = Field(default=0, ge=0, le=20)
    outages: tuple[tuple[float, float], ...] = ()  # [start, end) windows of loop time: 503
    faults: FaultMix | None = Field(default=None, exclude=True)  # replaces the profile's error rates
    keyed_draws: bool = False  # draw per (request id, n-th call of it) rather than in call order
    record_metadata: tuple[str, ...] = ()  # run-metadata keys copied into each CallRecord
    reply_tokens: int | None = Field(default=None, ge=1)  # every reply this long (equal sizes)

    _spec: ModelProfile = PrivateAttr()
    _rng: random.Random = PrivateAttr()
    _calls: list[CallRecord] = PrivateAttr(default_factory=list)
    _calls_per_request: dict[Any, int] = PrivateAttr(default_factory=dict)
    _refused_until: dict[Any, float] = PrivateAttr(default_factory=dict)  # request id -> end of its 429 wait
    _refused_for_good: dict[Any, str] = PrivateAttr(default_factory=dict)  # request id -> its 400 or 401

    @field_validator("model")
    @classmethod
    def _known_model(cls, name: str) -> str:
        profile(name)
        return name

    @field_validator("outages")
    @classmethod
    def _ordered_windows(cls, windows: tuple[tuple[float, float], ...]) -> tuple:
        for start, end in windows:
            if not start < end:
                raise ValueError(f"outage window ({start}, {end}) must start before it ends")
        return windows

    def model_post_init(self, context: Any, /) -> None:
        super().model_post_init(context)
        if self.faults is not None and (self.failure_rate is not None or self.timeout_rate is not None):
            raise ValueError("give either faults or failure_rate / timeout_rate, not both")
        self._spec = PROFILES[self.model]
        self._rng = random.Random(self.seed)

    @property
    def _llm_type(self) -> str:
        return "mock-chat"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        # What decides the reply's text; the cache key of langchain's LLM caches.
        params = {"model_name": self.model, "max_tokens": self.max_tokens}
        if self.reply_tokens is not None:
            params["reply_tokens"] = self.reply_tokens
        return params

    def _resolve_model_profile(self) -> dict[str, int]:
        # langchain's own capability record (runs before model_post_init sets _spec).
        spec = PROFILES[self.model]
        return {"max_input_tokens": spec.context_window, "max_output_tokens": spec.max_output_tokens}

    @property
    def spec(self) -> ModelProfile:
        """This model's entry in :data:`profiles.PROFILES`."""
        return self._spec

    @property
    def calls(self) -> tuple[CallRecord, ...]:
        """Every attempt so far, in the order they started."""
        return tuple(self._calls)

    # -- langchain entry points -------------------------------------------------

    async def _agenerate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                         run_manager: Any = None, **kwargs: Any) -> ChatResult:
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        request_id = _request_id(run_manager)
        attempt = 0
        while True:
            plan = self._plan(messages, max_tokens, streaming=False, run_manager=run_manager)
            failure = await self._wait_out(plan, request_id, attempt)
            if failure is None:
                return self._result(plan)
            await self._back_off(failure, attempt, plan.draws)
            attempt += 1

    async def _astream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                       run_manager: Any = None, **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        request_id = _request_id(run_manager)
        attempt = 0
        while True:
            plan = self._plan(messages, max_tokens, streaming=True, run_manager=run_manager)
            if plan.error is None or plan.outcome == "cut":
                try:
                    with self._attempt(plan, request_id, attempt):
                        async for chunk in self._chunks(plan):
                            yield chunk
                        if plan.error is not None:  # the connection drops where the next token was due
                            await asyncio.sleep(1.0 / self._spec.tokens_per_s)
                except RateLimitError as rejected:
                    failure: MockLLMError = rejected
                else:
                    if plan.error is not None:
                        raise plan.error  # tokens have been sent: no client retries a half-read stream
                    return
            else:
                failure = await self._wait_out(plan, request_id, attempt)
            await self._back_off(failure, attempt, plan.draws)
            attempt += 1

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        # Synchronous use outside any event loop: latency is waited for in real time.
        return asyncio.run(self._agenerate(messages, stop, run_manager, **kwargs))

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: Any = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        yield from _drain_on_new_loop(self._astream(messages, stop, run_manager, **kwargs))

    # -- one attempt ----------------------------------------------------------------

    def _plan(self, messages: Sequence[BaseMessage], max_tokens: int | None,
              streaming: bool, run_manager: Any = None) -> _Plan:
        spec = self._spec
        request_id = _request_id(run_manager)
        rng = self._draws(request_id)
        # Every call draws the same three values, whatever its outcome, so one
        # call's fault never shifts the draws of the calls after it.
        ttft = spec.ttft_s * rng.lognormvariate(0.0, spec.latency_spread)
        fault_roll = rng.random()
        correct_roll = rng.random()
        faults = self.faults
        if faults is not None and faults.spike_rate and rng.random() < faults.spike_rate:
            ttft *= faults.spike_factor  # a fourth draw, only for a model configured with spikes

        intent_id, lead, complexity = answers.intent(_question(messages))
        input_tokens = count_chat_tokens([m.text for m in messages], spec.encoding)
        room = spec.context_window - input_tokens
        limit = min(spec.max_output_tokens, room, max_tokens or room)
        answer = answers.reply_tokens(intent_id, lead, complexity, self.model, spec.encoding)
        if self.reply_tokens is not None:
            answer = _to_length(answer, self.reply_tokens)
        pieces = answer[:max(limit, 0)]
        reply_s = ttft + (len(pieces) - 1) / spec.tokens_per_s
        sent = len(pieces)
        if faults is None:
            outcome, duration, error = self._fault(fault_roll, ttft, reply_s, streaming)
        else:
            outcome, duration, error, sent = self._mixed_fault(
                fault_roll, ttft, reply_s, streaming, len(pieces), request_id)
        if room <= 0:
            error = ContextLengthError(input_tokens, spec.context_window)
            outcome, duration = "too_long", 0.0
        ok = error is None
        billed = len(pieces) if ok else sent if outcome == "cut" else 0
        return _Plan(
            intent=intent_id, pieces=pieces[:billed],
            finish_reason="length" if len(pieces) < len(answer) else "stop",
            input_tokens=input_tokens, ttft_s=ttft, duration_s=duration,
            outcome=outcome, error=error,
            correct=ok and correct_roll < spec.p_correct(complexity) * compression_quality(messages),
            cost_usd=spec.cost(input_tokens, billed) if ok or billed else 0.0,
            draws=rng, metadata=self._metadata_of(run_manager),
        )

    def _draws(self, request_id: Any) -> random.Random:
        """The generator for this attempt: the model's own, or one keyed to the request."""
        if not self.keyed_draws or request_id is None:
            return self._rng
        nth = self._calls_per_request.get(request_id, 0)
        self._calls_per_request[request_id] = nth + 1
        # A digest of the key, not hash(): the same on every run and machine.
        key = f"{self.seed}|{self.model}|{request_id}|{nth}".encode()
        return random.Random(int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big"))

    def _metadata_of(self, run_manager: Any) -> tuple[tuple[str, Any], ...]:
        if not self.record_metadata or run_manager is None:
            return ()
        found = run_manager.metadata
        return tuple((key, found[key]) for key in self.record_metadata if key in found)

    def _mixed_fault(self, roll: float, ttft: float, reply_s: float, streaming: bool, pieces: int,
                     request_id: Any) -> tuple[str, float, MockLLMError | None, int]:
        """As :meth:`_fault`, for a model with a :class:`FaultMix`; also how many tokens a cut reply sends."""
        faults = self.faults
        now = asyncio.get_running_loop().time()
        sent = 0
        refused_until = self._refused_until.get(request_id)
        permanent = self._refused_for_good.get(request_id)
        if permanent is not None:  # the same request, the same 400 or 401
            outcome, ends_at, error = permanent, REJECT_AFTER_S, _PERMANENT_ERRORS[permanent]()
        elif self._in_outage():
            outcome, ends_at, error = "outage", ttft, ServerError(_OUTAGE_ERROR_STATUS)
        elif refused_until is not None and now + REJECT_AFTER_S < refused_until:
            # Retried before the retry-after it was given: refused again, told how long is left.
            left = refused_until - now - REJECT_AFTER_S
            outcome, ends_at, error = "rate_limited", REJECT_AFTER_S, RateLimitError(max(MIN_RETRY_AFTER_S, left))
        else:
            kind = faults.kind(roll)
            if kind in _PERMANENT_ERRORS:
                outcome, ends_at, error = kind, REJECT_AFTER_S, _PERMANENT_ERRORS[kind]()
                if request_id is not None:
                    self._refused_for_good[request_id] = kind
            elif kind == "rate_limited":
                outcome, ends_at, error = kind, REJECT_AFTER_S, RateLimitError(faults.retry_after_s)
                if request_id is not None:
                    self._refused_until[request_id] = now + REJECT_AFTER_S + faults.retry_after_s
            elif kind == "server_error":
                outcome, ends_at, error = kind, ttft, ServerError(500)
            elif kind == "unavailable":
                outcome, ends_at, error = kind, ttft, ServerError(503)
            elif kind == "timeout":
                outcome, ends_at, error = kind, float("inf"), None
            elif kind == "cut" and pieces > 1:
                sent = pieces // 2
                outcome, ends_at, error = kind, ttft + sent / self._spec.tokens_per_s, ConnectionCutError(sent)
            else:
                outcome, ends_at, error = "ok", reply_s, None
        timeout = self.timeout_s or DEFAULT_CLIENT_TIMEOUT_S
        waited = ttft if streaming and outcome in ("ok", "cut") else ends_at
        if waited > timeout:
            return "timeout", timeout, ModelTimeoutError(timeout), 0
        return outcome, ends_at, error, sent

    def _fault(self, roll: float, ttft: float, reply_s: float,
               streaming: bool) -> tuple[str, float, MockLLMError | None]:
        """(outcome, seconds until the client learns it, error) for one attempt."""
        spec = self._spec
        server_error_rate = _override(self.failure_rate, spec.server_error_rate)
        hang_rate = _override(self.timeout_rate, spec.timeout_rate)
        if self._in_outage():
            outcome, ends_at, error = "outage", ttft, ServerError(_OUTAGE_ERROR_STATUS)
        elif roll < server_error_rate:
            outcome, ends_at, error = "server_error", ttft, ServerError(500)
        elif roll < server_error_rate + hang_rate:
            outcome, ends_at, error = "timeout", float("inf"), None
        else:
            outcome, ends_at, error = "ok", reply_s, None
        timeout = self.timeout_s or DEFAULT_CLIENT_TIMEOUT_S
        # A stream's timeout is a wait for the first token; a plain call waits for all of it.
        waited = ttft if streaming and outcome == "ok" else ends_at
        if waited > timeout:
            return "timeout", timeout, ModelTimeoutError(timeout)
        return outcome, ends_at, error

    def _in_outage(self) -> bool:
        if not self.outages:
            return False
        now = asyncio.get_running_loop().time()
        return any(start <= now < end for start, end in self.outages)

    async def _wait_out(self, plan: _Plan, request_id: Any, attempt: int) -> MockLLMError | None:
        """Spend the attempt's time; its error (or the provider's 429), None if it succeeded."""
        try:
            with self._attempt(plan, request_id, attempt):
                await asyncio.sleep(plan.duration_s)
        except RateLimitError as rejected:
            return rejected
        return plan.error

    async def _back_off(self, failure: MockLLMError, attempt: int,
                        draws: random.Random | None = None) -> None:
        """Wait before the client's next retry, or raise ``failure`` if there is none."""
        if attempt >= self.max_retries or isinstance(failure, _NOT_RETRIED_BY_CLIENT):
            raise failure
        retry_after = getattr(failure, "retry_after_s", None)
        if retry_after is not None and retry_after <= SDK_MAX_RETRY_AFTER_S:
            await asyncio.sleep(retry_after)
            return
        backoff = min(SDK_FIRST_BACKOFF_S * 2 ** attempt, SDK_MAX_BACKOFF_S)
        await asyncio.sleep(backoff * (1.0 - SDK_BACKOFF_JITTER * (draws or self._rng).random()))

    @contextmanager
    def _attempt(self, plan: _Plan, request_id: Any, attempt: int) -> Iterator[None]:
        """Hold a provider slot for the attempt and record it, however it ends."""
        clock = asyncio.get_running_loop().time
        start = clock()
        slot = None
        if self.provider is not None and plan.outcome != "too_long":
            try:
                slot = self.provider.admit(plan.duration_s)
            except RateLimitError:
                self._record(plan, request_id, attempt, start, start, "rate_limited")
                raise
        outcome = "cancelled"
        try:
            yield
            outcome = plan.outcome
        finally:
            if slot is not None:
                self.provider.release(slot)
            self._record(plan, request_id, attempt, start, clock(), outcome)

    def _record(self, plan: _Plan, request_id: Any, attempt: int, start: float, end: float,
                outcome: str) -> None:
        billed = outcome in _BILLED_OUTCOMES
        self._calls.append(CallRecord(
            call=len(self._calls), request_id=request_id, attempt=attempt, intent=plan.intent,
            start_s=start, end_s=end, outcome=outcome, status_code=_STATUS_OF_OUTCOME[outcome],
            input_tokens=plan.input_tokens, output_tokens=plan.output_tokens if billed else 0,
            cost_usd=plan.cost_usd if billed else 0.0, metadata=plan.metadata,
        ))

    async def _chunks(self, plan: _Plan) -> AsyncIterator[ChatGenerationChunk]:
        """One chunk per token: the first after ttft, then one every 1 / tokens_per_s."""
        gap = 1.0 / self._spec.tokens_per_s
        last = len(plan.pieces) - 1 if plan.error is None else len(plan.pieces)  # a cut reply never ends
        await asyncio.sleep(plan.ttft_s)
        for index, piece in enumerate(plan.pieces):
            if index:
                await asyncio.sleep(gap)
            if index < last:
                yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
            else:
                yield ChatGenerationChunk(message=AIMessageChunk(
                    content=piece, usage_metadata=_usage(plan),
                    response_metadata=self._metadata(plan), chunk_position="last"))

    def _result(self, plan: _Plan) -> ChatResult:
        message = AIMessage(content="".join(plan.pieces), usage_metadata=_usage(plan),
                            response_metadata=self._metadata(plan))
        return ChatResult(generations=[ChatGeneration(message=message)],
                          llm_output={"token_usage": _openai_usage(plan), "model_name": self.model})

    def _metadata(self, plan: _Plan) -> dict[str, Any]:
        return {"model_name": self.model, "intent": plan.intent,
                "finish_reason": plan.finish_reason, "cost_usd": plan.cost_usd,
                "latency_s": plan.duration_s, "ttft_s": plan.ttft_s, "correct": plan.correct}


def compression_quality(messages: Sequence[BaseMessage]) -> float:
    """The factor on P(correct) for a prompt whose messages a compressor shortened (1.0 if none)."""
    factor = 1.0
    for message in messages:
        kept = message.additional_kwargs.get(COMPRESSION_KEPT)
        if kept is not None:
            dropped = min(1.0, max(0.0, 1.0 - float(kept)))
            factor *= 1.0 - COMPRESSION_QUALITY_LOSS * dropped * dropped
    return factor


def _to_length(pieces: tuple[str, ...], length: int) -> tuple[str, ...]:
    """``pieces`` repeated or cut to exactly ``length`` tokens."""
    if not pieces:
        return pieces
    return tuple(pieces[i % len(pieces)] for i in range(length))


# Sending these again cannot help, so the client (like the OpenAI SDK) does not retry them.
_NOT_RETRIED_BY_CLIENT = (ContextLengthError, BadRequestError, AuthenticationError)
_PERMANENT_ERRORS = {"bad_request": BadRequestError, "unauthorized": AuthenticationError}


def _override(chosen: float | None, default: float) -> float:
    return default if chosen is None else chosen


def _usage(plan: _Plan) -> dict[str, int]:
    return {"input_tokens": plan.input_tokens, "output_tokens": plan.output_tokens,
            "total_tokens": plan.input_tokens + plan.output_tokens}


def _openai_usage(plan: _Plan) -> dict[str, int]:
    # The shape of OpenAI's llm_output["token_usage"], read by older callback handlers.
    return {"prompt_tokens": plan.input_tokens, "completion_tokens": plan.output_tokens,
            "total_tokens": plan.input_tokens + plan.output_tokens}


def _request_id(run_manager: Any) -> Any:
    return run_manager.metadata.get(REQUEST_ID_KEY) if run_manager is not None else None


def _question(messages: Sequence[BaseMessage]) -> str:
    for message in reversed(messages):
        if message.type == "human":
            return message.text
    return messages[-1].text if messages else ""


def _drain_on_new_loop(stream: AsyncIterator[ChatGenerationChunk]) -> Iterator[ChatGenerationChunk]:
    """Iterate an async stream from synchronous code, on a loop of its own."""
    loop = asyncio.new_event_loop()
    try:
        while True:
            try:
                yield loop.run_until_complete(stream.__anext__())
            except StopAsyncIteration:
                return
    finally:
        loop.run_until_complete(stream.aclose())
        loop.close()
