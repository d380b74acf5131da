"""OpenAI's ``/v1/chat/completions`` and ``/v1/models``, answered by the mock model in real time.

A reply takes as long as its model profile says (time to first token, then
tokens per second), so lesson code that points ``ChatOpenAI`` here feels the same
latency it would against the real API.  Failures come only from the demo rate
limit and the ``X-Mock-Fail`` header (see :mod:`.faults`), so a lesson fails
when it means to.

Streaming is live under ASGI (daphne): the model's stream is read by a task on
the server's event loop while the response sends what it has read.  Under WSGI
the same events are sent in one piece when the reply is complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator

from django.core.exceptions import RequestDataTooBig
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from langchain_core.messages import AIMessageChunk

from simulations.mock_llm import MockChatModel, MockLLMError
from simulations.profiles import PROFILES

from .faults import FAULT_HEADER, SEEN_HEADER, apply_fault, check_rate_limit
from .live import live_model
from .openai_format import (
    ApiError,
    ChatRequest,
    Completion,
    error_for,
    model_list,
    parse_chat_request,
    server_error,
    sse,
    too_large,
)

log = logging.getLogger(__name__)

REQUEST_TIME_LIMIT_S = 30.0


@csrf_exempt  # API clients send a bearer key, not a CSRF token
async def chat_completions(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _error_response(_method_not_allowed("POST"))
    seen = None
    try:
        chat = parse_chat_request(_body(request))
        if FAULT_HEADER in request.headers:
            seen = await apply_fault(request.headers[FAULT_HEADER])
        await check_rate_limit()
        response = await (_stream(chat, request) if chat.stream else _reply(chat))
    except ApiError as error:
        return _error_response(error)
    if seen is not None:
        response[SEEN_HEADER] = str(seen)
    return response


def models(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return _error_response(_method_not_allowed("GET, HEAD"))
    return JsonResponse(model_list(PROFILES.values()))


def _body(request: HttpRequest) -> bytes:
    try:
        return request.body
    except RequestDataTooBig:  # past Django's own cap, before ours is even checked
        raise too_large() from None


def _model_for(chat: ChatRequest) -> MockChatModel:
    return live_model(chat.model.name, seed=chat.seed, max_tokens=chat.max_tokens)


async def _reply(chat: ChatRequest) -> JsonResponse:
    try:
        async with asyncio.timeout(REQUEST_TIME_LIMIT_S):
            message = await _model_for(chat).ainvoke(list(chat.messages))
    except MockLLMError as exc:
        raise error_for(exc) from None
    except TimeoutError:
        raise _too_slow() from None
    return JsonResponse(Completion(chat.model.name).reply(message))


async def _stream(chat: ChatRequest, request: HttpRequest) -> HttpResponse:
    feed = ChunkFeed(_model_for(chat).astream(list(chat.messages)))
    # Waiting for the first chunk here, before any byte is sent, lets a failure
    # at the start still answer with its own HTTP status, as OpenAI's API does.
    first = await feed.next()
    events = _events(Completion(chat.model.name, include_usage=chat.include_usage), first, feed)
    if isinstance(request, ASGIRequest):
        response = StreamingHttpResponse(events, content_type="text/event-stream")
    else:
        # Under WSGI (pytest's live_server, the sync test client) this view's event
        # loop ends when the view returns, and the feed's task with it: send it all at once.
        response = HttpResponse(b"".join([event async for event in events]),
                                content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # tells nginx not to hold the events back
    return response


async def _events(completion: Completion, first: AIMessageChunk | None,
                  feed: ChunkFeed) -> AsyncIterator[bytes]:
    """The SSE body: a role chunk, one chunk per token, the finish reason, usage, [DONE]."""
    usage, finish_reason = None, "stop"
    try:
        yield sse(completion.chunk({"role": "assistant", "content": ""}))
        chunk = first
        while chunk is not None:
            if chunk.text:
                yield sse(completion.chunk({"content": chunk.text}))
            usage = chunk.usage_metadata or usage
            finish_reason = chunk.response_metadata.get("finish_reason", finish_reason)
            chunk = await feed.next()
    except ApiError as error:
        # Too late for a status code: OpenAI sends the error as an event and ends the stream.
        yield sse(error.body())
        return
    finally:
        feed.cancel()
    yield sse(completion.chunk({}, finish_reason))
    if completion.include_usage:
        yield sse(completion.usage_chunk(usage))
    yield sse("[DONE]")


class ChunkFeed:
    """A model stream read by one task of its own, under one time limit.

    The view takes the first chunk and the response takes the rest; with a task
    doing all the reading, the deadline and the stream's context stay in one
    place whoever consumes it, and cancelling the task closes the model's stream.
    The queue is unbounded (a reply is a few hundred chunks at most), so the task
    always ends within the time limit, even if nobody reads what it put there.
    """

    def __init__(self, chunks: AsyncGenerator[AIMessageChunk, None]) -> None:
        self._queue: asyncio.Queue[AIMessageChunk | ApiError | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._pump(chunks))

    async def next(self) -> AIMessageChunk | None:
        """The next chunk, None at the end; raises the ApiError the stream failed with."""
        item = await self._queue.get()
        if isinstance(item, ApiError):
            raise item
        return item

    def cancel(self) -> None:
        self._task.cancel()

    async def _pump(self, chunks: AsyncGenerator[AIMessageChunk, None]) -> None:
        put = self._queue.put_nowait
        try:
            async with contextlib.aclosing(chunks), asyncio.timeout(REQUEST_TIME_LIMIT_S):
                async for chunk in chunks:
                    put(chunk)
            put(None)
        except MockLLMError as exc:
            put(error_for(exc))
        except TimeoutError:
            put(_too_slow())
        except Exception:
            # A bug must still end the response, not leave the reader waiting forever.
            log.exception("mock model stream failed")
            put(server_error(500))


def _too_slow() -> ApiError:
    return ApiError(504, f"The reply took longer than {REQUEST_TIME_LIMIT_S:g} s and was stopped.",
                    type="server_error", code="timeout")


def _method_not_allowed(allowed: str) -> ApiError:
    return ApiError(405, f"Only {allowed} is allowed here.", headers={"Allow": allowed})


def _error_response(error: ApiError) -> JsonResponse:
    return JsonResponse(error.body(), status=error.status, headers=error.headers)
