"""Streaming and fallbacks: a fallback helps only before the first token.

``with_fallbacks(...).astream()`` waits for the primary's *first* chunk; if that
fails it moves on to the next runnable.  Once a chunk has been handed to the
reader, the chain is committed: an error later in the stream (a dropped
connection, a timeout between tokens) goes straight to the reader, who is left
with half an answer.

Three short streams show it on the mock model: the primary failing before its
first token (the fallback streams the answer), the primary cut halfway (the
reader gets half an answer and an error), and :func:`stream_with_restart`, which
restarts the answer on the fallback and tells the reader to discard what it had.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from langchain_core.runnables import Runnable

from ..clock import now, run_virtual
from ..mock_llm import FaultMix, MockChatModel
from .errors import error_class

QUESTION = "What is LangChain?"
MAX_TOKENS = 24  # short replies: the demo is about where the error falls, not about length
CASES = ("before_first_token", "mid_stream", "restart")
TOKEN, RESET = "token", "reset"


async def stream_with_restart(runnables: Sequence[Runnable], question: Any) -> AsyncIterator[tuple[str, str]]:
    """Stream from the first runnable that completes; ("reset", why) when one fails mid-answer.

    A reader shows each ("token", text) and, on ("reset", ...), clears what it has
    shown: the next runnable starts the answer again from the beginning.
    """
    last_error: Exception | None = None
    for runnable in runnables:
        sent = 0
        try:
            async for chunk in runnable.astream(question):
                sent += 1
                yield TOKEN, chunk.text
            return
        except Exception as error:
            last_error = error
            if sent:
                yield RESET, error_class(error)
    if last_error is not None:
        raise last_error


@dataclass(frozen=True)
class StreamCase:
    case: str
    primary_tokens: int  # tokens the primary sent before failing
    fallback_tokens: int  # tokens the fallback sent
    kept_tokens: int  # tokens the reader has at the end (discarded ones not counted)
    error: str | None  # the error that reached the reader, if one did
    first_token_s: float | None
    end_s: float
    complete: bool  # the reader got a whole answer


def _models(primary: str, fallback: str, seed: int, faults: FaultMix) -> tuple[MockChatModel, MockChatModel]:
    return (MockChatModel(model=primary, seed=seed, faults=faults, max_tokens=MAX_TOKENS),
            MockChatModel(model=fallback, seed=seed, faults=FaultMix(), max_tokens=MAX_TOKENS))


def _sent(model: MockChatModel) -> int:
    return sum(call.output_tokens for call in model.calls)


async def _read_chain(primary: MockChatModel, fallback: MockChatModel) -> dict[str, Any]:
    chain = primary.with_fallbacks([fallback])
    tokens, first, error = 0, None, None
    try:
        async for _ in chain.astream(QUESTION):
            first = now() if first is None else first
            tokens += 1
    except Exception as failure:
        error = error_class(failure)
    return {"kept": tokens, "first": first, "error": error}


async def _read_restart(primary: MockChatModel, fallback: MockChatModel) -> dict[str, Any]:
    kept, first, error = 0, None, None
    try:
        async for kind, _ in stream_with_restart([primary, fallback], QUESTION):
            if kind == RESET:
                kept = 0
                continue
            first = now() if first is None else first
            kept += 1
    except Exception as failure:
        error = error_class(failure)
    return {"kept": kept, "first": first, "error": error}


def run_case(case: str, primary: str, fallback: str, seed: int) -> StreamCase:
    faults = FaultMix(unavailable=1.0) if case == "before_first_token" else FaultMix(cut=1.0)
    first_model, second_model = _models(primary, fallback, seed, faults)
    reader = _read_restart if case == "restart" else _read_chain

    async def main() -> tuple[dict[str, Any], float]:
        seen = await reader(first_model, second_model)
        return seen, now()

    seen, end = run_virtual(main)
    return StreamCase(case=case, primary_tokens=_sent(first_model), fallback_tokens=_sent(second_model),
                      kept_tokens=seen["kept"], error=seen["error"], first_token_s=seen["first"], end_s=end,
                      complete=seen["error"] is None)


def stream_cases(primary: str, fallback: str, seed: int) -> list[dict[str, Any]]:
    return [asdict(run_case(case, primary, fallback, seed)) for case in CASES]
