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
one seeded generator per model instance, three per call in call order (or, with
``draws_per_request``, from the request and attempt, so two runs that ask the same
request meet the same luck).  ``reply_tokens`` makes every reply the same length.

A compressed prompt (30.8.3) may have lost words the answer needed: a message whose
``additional_kwargs[COMPRESSION_KEPT]`` says what share of its tokens a compressor
kept lowers the chance of a correct answer (see :func:`compression_quality`).
"""

from __future__ import annotations

import asyncio
import random
import zlib
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
    outcome: str  # ok, rate_limited, server_error, outage, timeout, too_long, cancelled
    status_code: int
    input_tokens: int
    output_tokens: int
    cost_usd: float  # failed attempts are not billed


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

    @property
    def output_tokens(self) -> int:
        return len(self.pieces)


_OUTAGE_ERROR_STATUS = 503
_STATUS_OF_OUTCOME = {"ok": 200, "rate_limited": 429, "server_error": 500,
                      "outage": _OUTAGE_ERROR_STATUS, "timeout": 504, "too_long": 400,
                      "cancelled": 499}


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
    # Draw each attempt's latency, fault and quality from (seed, model, request_id,
    # attempt) rather than from this instance's call order, so the same request meets
    # the same luck in every run that asks it (two configurations compared request by
    # request).  Needs a request_id in the run's metadata.
    draws_per_request: bool = False
    reply_tokens: int | None = Field(default=None, ge=1)  # every reply this long (equal sizes)

    _spec: ModelProfile = PrivateAttr()
    _rng: random.Random = PrivateAttr()
    _calls: list[CallRecord] = PrivateAttr(default_factory=list)

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
            plan = self._plan(messages, max_tokens, streaming=False,
                              rng=self._rng_for(request_id, attempt))
            failure = await self._wait_out(plan, request_id, attempt)
            if failure is None:
                return self._result(plan)
            await self._back_off(failure, attempt)
            attempt += 1

    async def _astream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                       run_manager: Any = None, **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        request_id = _request_id(run_manager)
        attempt = 0
        while True:
            plan = self._plan(messages, max_tokens, streaming=True,
                              rng=self._rng_for(request_id, attempt))
            if plan.error is None:
                try:
                    with self._attempt(plan, request_id, attempt):
                        async for chunk in self._chunks(plan):
                            yield chunk
                    return
                except RateLimitError as rejected:
                    failure: MockLLMError = rejected
            else:
                failure = await self._wait_out(plan, request_id, attempt)
            await self._back_off(failure, attempt)
            attempt += 1

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        # Synchronous use outside any event loop: latency is waited for in real time.
        return asyncio.run(self._agenerate(messages, stop, run_manager, **kwargs))

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: Any = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        yield from _drain_on_new_loop(self._astream(messages, stop, run_manager, **kwargs))

    # -- one attempt ----------------------------------------------------------------

    def _rng_for(self, request_id: Any, attempt: int) -> random.Random:
        if not self.draws_per_request:
            return self._rng
        # An integer seed: seeding from a string hashes it with SHA-512, ten times slower.
        return random.Random(zlib.crc32(f"{self.seed}|{self.model}|{request_id}|{attempt}".encode()))

    def _plan(self, messages: Sequence[BaseMessage], max_tokens: int | None,
              streaming: bool, rng: random.Random | None = None) -> _Plan:
        spec, rng = self._spec, rng or self._rng
        # Every call draws the same three values, whatever its outcome, so one
        # call's fault never shifts the draws of the calls after it.
        ttft = spec.ttft_s * rng.lognormvariate(0.0, spec.latency_spread)
        fault_roll = rng.random()
        correct_roll = rng.random()

        intent_id, lead, complexity = answers.intent(_question(messages))
        input_tokens = count_chat_tokens([m.text for m in messages], spec.encoding)
        room = spec.context_window - input_tokens
        limit = min(spec.max_output_tokens, room, max_tokens or room)
        answer = answers.reply_tokens(intent_id, lead, complexity, self.model, spec.encoding)
        if self.reply_tokens is not None:
            answer = _to_length(answer, self.reply_tokens)
        pieces = answer[:max(limit, 0)]
        reply_s = ttft + (len(pieces) - 1) / spec.tokens_per_s
        outcome, duration, error = self._fault(fault_roll, ttft, reply_s, streaming)
        if room <= 0:
            error = ContextLengthError(input_tokens, spec.context_window)
            outcome, duration = "too_long", 0.0
        ok = error is None
        return _Plan(
            intent=intent_id, pieces=pieces if ok else (),
            finish_reason="length" if len(pieces) < len(answer) else "stop",
            input_tokens=input_tokens, ttft_s=ttft, duration_s=duration,
            outcome=outcome, error=error,
            correct=ok and correct_roll < spec.p_correct(complexity) * compression_quality(messages),
            cost_usd=spec.cost(input_tokens, len(pieces)) if ok else 0.0,
        )

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

    async def _back_off(self, failure: MockLLMError, attempt: int) -> None:
        """Wait before the client's next retry, or raise ``failure`` if there is none."""
        if attempt >= self.max_retries or isinstance(failure, ContextLengthError):
            raise failure
        retry_after = getattr(failure, "retry_after_s", None)
        if retry_after is not None and retry_after <= SDK_MAX_RETRY_AFTER_S:
            await asyncio.sleep(retry_after)
            return
        backoff = min(SDK_FIRST_BACKOFF_S * 2 ** attempt, SDK_MAX_BACKOFF_S)
        await asyncio.sleep(backoff * (1.0 - SDK_BACKOFF_JITTER * self._rng.random()))

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
        billed = outcome == "ok"
        self._calls.append(CallRecord(
            call=len(self._calls), request_id=request_id, attempt=attempt, intent=plan.intent,
            start_s=start, end_s=end, outcome=outcome, status_code=_STATUS_OF_OUTCOME[outcome],
            input_tokens=plan.input_tokens, output_tokens=plan.output_tokens if billed else 0,
            cost_usd=plan.cost_usd if billed else 0.0,
        ))

    async def _chunks(self, plan: _Plan) -> AsyncIterator[ChatGenerationChunk]:
        """One chunk per token: the first after ttft, then one every 1 / tokens_per_s."""
        gap = 1.0 / self._spec.tokens_per_s
        last = len(plan.pieces) - 1
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
