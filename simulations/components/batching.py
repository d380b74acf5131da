"""Batching and async (sections 30.2 and 30.3): the same requests sent three ways.

Each strategy runs real langchain-core code on the virtual clock, on a fresh mock
model with the same seed:

* ``sequential``: a loop of ``ainvoke``, one request after another;
* ``abatch``: ``Runnable.abatch`` with ``max_concurrency`` and ``return_exceptions=True``;
* ``gather``: ``asyncio.gather`` of ``ainvoke``, with no limit on concurrency.

A sweep repeats ``abatch`` over a range of ``max_concurrency`` values to show where
more concurrency stops paying: once the provider's rate limit binds, it only adds 429s.

Retries of 429s (and 5xx) happen in the model's client, waiting the retry-after the
provider sends, as the OpenAI SDK inside ``ChatOpenAI`` does (``max_retries``).
langchain's ``with_retry()`` is not used here because its ``abatch`` retries whole
rounds: a round whose first failure is an error it does not retry raises for every
input, and in langchain-core 1.7 a round that mixes late successes and final
failures can hand one request's answer to another (langchain issue #35475).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..clock import now, run_virtual
from ..component import CodeRef, Component, Note, Result, note
from ..intents import intent_of
from ..mock_llm import CallRecord, MockChatModel, MockLLMError, Provider
from ..params import Param, ParamSpec, Value
from ..profiles import PROFILES
from ..text import gettext_noop

STRATEGIES = ("sequential", "abatch", "gather")
SWEEP_CONCURRENCY = (1, 2, 4, 8, 16, 32, 64)
TRACE_EVENTS = 12

# The chapter's own figures for 10 requests (30.2.2).
BOOK_REQUESTS = 10
BOOK_SEQUENTIAL_S = 12.0
BOOK_BATCH_S = 2.0

SPEC = ParamSpec(
    params=(
        Param("requests", 10, min=1, max=100, step=1, label=gettext_noop("Requests"),
              unit=gettext_noop("requests"), help=gettext_noop("How many independent prompts to send.")),
        Param("max_concurrency", 5, min=1, max=100, step=1, label=gettext_noop("max_concurrency"),
              help=gettext_noop("How many calls abatch keeps in flight at once.")),
        Param("model", "gpt-4o-mini", choices=tuple(PROFILES), label=gettext_noop("Model")),
        Param("failure_rate", 0.0, min=0.0, max=0.5, step=0.01, label=gettext_noop("Failure rate"),
              unit=gettext_noop("share"), help=gettext_noop("Share of calls that fail with a server error.")),
        Param("rate_limit_rpm", 0, min=0, max=10_000, step=10, label=gettext_noop("Provider rate limit"),
              unit=gettext_noop("req/min"),
              help=gettext_noop("Requests per minute the provider accepts; 0 means no limit.")),
        Param("max_retries", 2, min=0, max=5, step=1, label=gettext_noop("Client retries"),
              unit=gettext_noop("retries"),
              help=gettext_noop("How many times the client retries a 429 or 5xx, waiting out its Retry-After.")),
        Param("max_tokens", 0, min=0, max=500, step=1, label=gettext_noop("max_tokens"),
              unit=gettext_noop("tokens"), help=gettext_noop("Cap on each answer's length; 0 means no cap.")),
    ),
    presets={
        # 68 output tokens at 85 tokens/s plus 0.4 s to the first token: about 1.2 s a call.
        "book-30.2": {"requests": BOOK_REQUESTS, "max_concurrency": BOOK_REQUESTS,
                      "model": "gpt-4o-mini", "failure_rate": 0.0, "rate_limit_rpm": 0,
                      "max_retries": 0, "max_tokens": 68},
    },
)


@dataclass(frozen=True)
class StrategyRun:
    """What one strategy did: its answers (or errors) in input order, and every attempt."""

    strategy: str
    wall_s: float
    outputs: list[Any]
    calls: tuple[CallRecord, ...]

    @property
    def ok(self) -> int:
        return sum(not isinstance(o, BaseException) for o in self.outputs)

    @property
    def failed(self) -> int:
        return len(self.outputs) - self.ok

    @property
    def retries(self) -> int:
        return len(self.calls) - len(self.outputs)

    @property
    def rate_limited(self) -> int:
        return sum(c.outcome == "rate_limited" for c in self.calls)

    @property
    def throughput_rps(self) -> float:
        return self.ok / self.wall_s if self.wall_s > 0 else 0.0


def prompts(count: int) -> list[str]:
    """Independent prompts, the kind of offline job batching is for."""
    return [f"Summarise support ticket #{1000 + i}" for i in range(count)]


def _model(params: Mapping[str, Value], seed: int) -> MockChatModel:
    rpm = params["rate_limit_rpm"]
    return MockChatModel(
        model=params["model"], seed=seed,
        failure_rate=params["failure_rate"],
        timeout_rate=0.0,  # a hung call would wait out the client's 600 s and hide the lesson
        max_retries=params["max_retries"],
        max_tokens=params["max_tokens"] or None,
        provider=Provider(requests_per_minute=rpm) if rpm else None,
    )


def _config(request: int, max_concurrency: int | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {"metadata": {"request_id": request}}
    if max_concurrency is not None:
        config["max_concurrency"] = max_concurrency
    return config


async def _sequential(model: MockChatModel, texts: Sequence[str], _: int) -> list[Any]:
    outputs: list[Any] = []
    for request, text in enumerate(texts):
        try:
            outputs.append(await model.ainvoke(text, config=_config(request)))
        except MockLLMError as error:  # a plain loop must catch, or one failure ends it
            outputs.append(error)
    return outputs


async def _abatch(model: MockChatModel, texts: Sequence[str], max_concurrency: int) -> list[Any]:
    # abatch reads max_concurrency from the first config of the list.
    configs = [_config(request, max_concurrency) for request in range(len(texts))]
    return await model.abatch(list(texts), configs, return_exceptions=True)


async def _gather(model: MockChatModel, texts: Sequence[str], _: int) -> list[Any]:
    calls = (model.ainvoke(text, config=_config(request)) for request, text in enumerate(texts))
    return list(await asyncio.gather(*calls, return_exceptions=True))


Runner = Callable[[MockChatModel, Sequence[str], int], Awaitable[list[Any]]]
RUNNERS: dict[str, Runner] = {"sequential": _sequential, "abatch": _abatch, "gather": _gather}


def run_strategy(strategy: str, params: Mapping[str, Value], seed: int,
                 max_concurrency: int) -> StrategyRun:
    """Send ``params['requests']`` prompts the ``strategy`` way on a fresh model and clock."""
    model = _model(params, seed)
    texts = prompts(params["requests"])

    async def main() -> tuple[float, list[Any]]:
        outputs = await RUNNERS[strategy](model, texts, max_concurrency)
        return now(), outputs

    wall_s, outputs = run_virtual(main)
    return StrategyRun(strategy, wall_s, outputs, model.calls)


def order_kept(run: StrategyRun, texts: Sequence[str]) -> bool:
    """Every answer sits at its own question's position (answers carry their intent)."""
    return all(
        isinstance(output, BaseException) or output.response_metadata["intent"] == intent_of(text)
        for output, text in zip(run.outputs, texts, strict=True)
    )


def sweep_points(requests: int) -> list[int]:
    """The sweep's max_concurrency values; beyond ``requests`` they would all behave alike."""
    return sorted({min(value, requests) for value in SWEEP_CONCURRENCY})


def run(params: Mapping[str, Value], seed: int) -> Result:
    # All these runs share the caller's real-time budget (clock.wall_limit).
    requests = params["requests"]
    runs = {s: run_strategy(s, params, seed, params["max_concurrency"]) for s in STRATEGIES}
    sweep = {c: run_strategy("abatch", params, seed, c) for c in sweep_points(requests)}
    sequential, batched = runs["sequential"], runs["abatch"]
    return Result(
        component="batching", params=dict(params), seed=seed,
        metrics={"strategies": {s: _strategy_metrics(r) for s, r in runs.items()},
                 "speedup_abatch": _ratio(sequential.wall_s, batched.wall_s),
                 "order_kept": order_kept(batched, prompts(requests))},
        series={
            "wall_time": [{"strategy": s, "wall_s": r.wall_s} for s, r in runs.items()],
            "timeline": [_attempt_row(r.strategy, c) for r in runs.values() for c in r.calls],
            "sweep": [_sweep_row(c, r) for c, r in sweep.items()],
        },
        trace=_trace(batched),
        notes=_notes(params, runs, sweep),
    )


def _strategy_metrics(run: StrategyRun) -> dict[str, Any]:
    return {"wall_s": run.wall_s, "throughput_rps": run.throughput_rps, "ok": run.ok,
            "failed": run.failed, "retries": run.retries,
            "cost_usd": sum(c.cost_usd for c in run.calls)}


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else 0.0


def _attempt_row(strategy: str, call: CallRecord) -> dict[str, Any]:
    # Charts tell three outcomes apart; the status code keeps the detail (500, 503, 504).
    outcome = call.outcome if call.outcome in ("ok", "rate_limited") else "error"
    return {"strategy": strategy, "request": call.request_id, "start_s": call.start_s,
            "end_s": call.end_s, "outcome": outcome, "status_code": call.status_code}


def _sweep_row(max_concurrency: int, run: StrategyRun) -> dict[str, Any]:
    return {"max_concurrency": max_concurrency, "wall_s": run.wall_s,
            "throughput_rps": run.throughput_rps, "rate_limited": run.rate_limited,
            "failed": run.failed}


def _trace(run: StrategyRun) -> list[dict[str, Any]]:
    """The first events of the abatch run, in time order: who started and finished when."""
    events = [(c.start_s, 0, "start", c) for c in run.calls]
    events += [(c.end_s, 1, c.outcome, c) for c in run.calls]
    events.sort(key=lambda e: (e[0], e[1], e[3].call))
    return [{"t_s": t, "strategy": run.strategy, "request": c.request_id,
             "attempt": c.attempt, "event": event}
            for t, _, event, c in events[:TRACE_EVENTS]]


# English wording of each note; %(name)s placeholders are filled from the note's data.
NOTE_TEXTS = {
    "book_differs": gettext_noop(
        "The chapter says %(book_requests)s requests take %(book_sequential_s)g s one by one "
        "(%(book_requests)s × %(book_call_s)g s) and about %(book_batch_s)g s batched. "
        "Here %(requests)s requests took %(sequential_s).1f s one by one, the sum of the calls' latencies, and "
        "%(abatch_s).1f s with abatch. Batched, the time is set by the slowest calls (the "
        "slowest took %(slowest_call_s).1f s), not a fixed %(book_batch_s)g s; with max_concurrency below the "
        "number of requests, a new call starts each time one finishes."),
    "batch_is_not_one_call": gettext_noop(
        "The chapter says batch() merges the requests into one API call. It does not: batch() "
        "and abatch() sent %(api_calls)s calls for %(requests)s requests, one per input (plus "
        "retries), concurrently, each billed and rate-limited on its own."),
    "failures_isolated": gettext_noop(
        "%(failed)s requests failed and the other %(ok)s kept their answers: with "
        "return_exceptions=True each failure comes back as its error in its own slot. The "
        "chapter's batch(inputs, config={'max_concurrency': 5}) alone would raise on the first "
        "failure and lose every answer."),
    "rate_limit_binds": gettext_noop(
        "With the provider's limit of %(rate_limit_rpm)s requests a minute, calls got 429 from "
        "max_concurrency %(from_max_concurrency)s on: past that point more concurrency adds "
        "retries, not throughput."),
}


def _notes(params: Mapping[str, Value], runs: Mapping[str, StrategyRun],
           sweep: Mapping[int, StrategyRun]) -> list[Note]:
    sequential, batched = runs["sequential"], runs["abatch"]
    ok_latencies = [c.end_s - c.start_s for c in batched.calls if c.outcome == "ok"]
    notes = [
        note(NOTE_TEXTS, "book_differs", book_requests=BOOK_REQUESTS, book_call_s=BOOK_SEQUENTIAL_S / BOOK_REQUESTS,
              book_sequential_s=BOOK_SEQUENTIAL_S, book_batch_s=BOOK_BATCH_S,
              requests=len(batched.outputs), sequential_s=sequential.wall_s, abatch_s=batched.wall_s,
              slowest_call_s=max(ok_latencies, default=0.0)),
        note(NOTE_TEXTS, "batch_is_not_one_call", requests=len(batched.outputs), api_calls=len(batched.calls)),
    ]
    if batched.failed:
        notes.append(note(NOTE_TEXTS, "failures_isolated", failed=batched.failed, ok=batched.ok))
    limited = [c for c, r in sweep.items() if r.rate_limited]
    if limited:
        notes.append(note(NOTE_TEXTS, "rate_limit_binds", rate_limit_rpm=params["rate_limit_rpm"],
                           from_max_concurrency=limited[0]))
    return notes


COMPONENT = Component(
    name="batching", title=gettext_noop("Batching and async"), section="30.2", spec=SPEC, run=run,
    code=(
        CodeRef(gettext_noop("Sequential: one ainvoke after another"), _sequential),
        CodeRef(gettext_noop("abatch with max_concurrency and return_exceptions"), _abatch),
        CodeRef(gettext_noop("asyncio.gather of ainvoke"), _gather),
    ),
)
