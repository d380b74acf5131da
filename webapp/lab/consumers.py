"""The streaming demo: a mock model's reply sent to the browser token by token, in real time.

Client to server: ``{"type": "start", "model": ..., "question": ...}`` and ``{"type": "stop"}``.
Server to client: ``token`` (text, and ``t``, seconds since the start), then ``done``
with the figures, or ``stopped``; ``error`` for bad input, which leaves the socket open.

One stream per socket: a new start replaces the running stream, stop or a
disconnect cancels it, and no stream runs longer than STREAM_TIME_LIMIT_S.
Frames are checked before they are read (size, rate, nesting; see
:mod:`webapp.websockets`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from simulations.mock_llm import MockLLMError
from simulations.profiles import PROFILES
from webapp.mockllm.live import live_model
from webapp.websockets import GuardedJsonConsumer

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 500
MAX_FRAME_CHARS = 2_000
STREAM_TIME_LIMIT_S = 30.0
CLIENT_EVENTS = ("start", "stop")  # each handled by the on_<type> method below


class StreamConsumer(GuardedJsonConsumer):
    # Each socket streams only to itself: no groups, so no channel layer to poll.
    channel_layer_alias = None
    max_frame_chars = MAX_FRAME_CHARS

    async def connect(self) -> None:
        self.language = _language(self.scope)
        self.stream: asyncio.Task[None] | None = None
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self._cancel()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind not in CLIENT_EVENTS:
            await self._error("bad_message", gettext_noop(
                "Send one JSON object of at most %(n)s characters, of type start or stop."),
                n=MAX_FRAME_CHARS)
            return
        await getattr(self, f"on_{kind}")(content)

    async def on_start(self, content: Mapping[str, Any]) -> None:
        model, question = content.get("model"), content.get("question")
        question = question.strip() if isinstance(question, str) else ""
        problem = _start_problem(model, question)
        if problem:
            code, template, params = problem
            await self._error(code, template, **params)
            return
        await self._cancel()
        self.stream = asyncio.create_task(self._run(model, question))

    async def on_stop(self, content: Mapping[str, Any]) -> None:
        await self._cancel()
        await self.send_json({"type": "stopped"})

    async def _run(self, model: str, question: str) -> None:
        try:
            async with asyncio.timeout(STREAM_TIME_LIMIT_S):
                done = await self._stream_tokens(model, question)
        except TimeoutError:
            await self._error("too_slow", gettext_noop("The reply took longer than %(s)s s and was stopped."),
                              s=f"{STREAM_TIME_LIMIT_S:g}")
        except MockLLMError as exc:
            await self._error("model_error", gettext_noop("The model failed: %(reason)s"), reason=exc)
        except Exception:
            log.exception("stream demo failed")  # the page must hear that it failed
            await self._error("server_error", gettext_noop("Something went wrong on the server."))
        else:
            await self.send_json(done)

    async def _stream_tokens(self, model: str, question: str) -> dict[str, Any]:
        """Send each token as it comes; return the closing ``done`` message."""
        llm = live_model(model)
        clock = asyncio.get_running_loop().time
        started = clock()
        times: list[float] = []
        usage: Mapping[str, int] = {}
        cost = 0.0
        async for chunk in llm.astream(question):
            if chunk.text:
                times.append(clock() - started)
                await self.send_json({"type": "token", "text": chunk.text, "t": round(times[-1], 3)})
            usage = chunk.usage_metadata or usage
            cost = chunk.response_metadata.get("cost_usd", cost)
        return done_message(times, usage, cost)

    async def _cancel(self) -> None:
        stream, self.stream = self.stream, None
        if stream is not None and not stream.done():
            stream.cancel()
            # wait() rather than await: the stream's CancelledError is expected, ours is not.
            await asyncio.wait({stream})

    async def _error(self, code: str, template: str, **params: Any) -> None:
        """Send an error in the page's language; ``template`` is marked with gettext_noop."""
        with translation.override(self.language):
            message = gettext(template) % params
        await self.send_json({"type": "error", "code": code, "message": message})


def done_message(times: list[float], usage: Mapping[str, int], cost_usd: float) -> dict[str, Any]:
    """The figures of a finished stream; ``times`` are the tokens' arrival times in seconds."""
    tokens = usage.get("output_tokens", len(times))
    flowing_s = times[-1] - times[0] if times else 0.0
    return {
        "type": "done",
        "ttft_s": round(times[0], 3) if times else None,
        "tokens": tokens,
        # Speed once tokens flow, the profile's tokens_per_s: the first token's wait is ttft.
        "tokens_per_s": round((len(times) - 1) / flowing_s, 1) if flowing_s > 0 else None,
        "cost_usd": round(cost_usd, 10),  # drop float noise such as 3.1349999999999996e-05
        "usage": dict(usage),
    }


def _start_problem(model: Any, question: str) -> tuple[str, str, dict[str, Any]] | None:
    """(code, message template, its parameters) saying what is wrong with a start, or None."""
    if not isinstance(model, str) or model not in PROFILES:
        return ("unknown_model", gettext_noop("Unknown model; choose one of %(names)s."),
                {"names": ", ".join(PROFILES)})
    if not question:
        return "empty_question", gettext_noop("Type a question first."), {}
    if len(question) > MAX_QUESTION_CHARS:
        return ("question_too_long", gettext_noop("The question is longer than %(n)s characters."),
                {"n": MAX_QUESTION_CHARS})
    return None


def _language(scope: Mapping[str, Any]) -> str:
    """The page's language, from ``?lang=`` on the socket's URL; the site default otherwise."""
    asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang", [""])[0]
    try:
        return translation.get_supported_language_variant(asked)
    except LookupError:
        return settings.LANGUAGE_CODE
