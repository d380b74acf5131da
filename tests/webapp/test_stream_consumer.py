"""The streaming demo's WebSocket consumer, through Channels' WebsocketCommunicator."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from django.template.loader import render_to_string
from django.utils import translation

from simulations.profiles import PROFILES
from webapp.lab import consumers
from webapp.lab.routing import websocket_urlpatterns
from webapp.mockllm.live import live_model

QUESTION = "What is the capital of France?"
FAST, SLOW = "test-fast", "test-slow"


@pytest.fixture(autouse=True)
def test_profiles(monkeypatch: pytest.MonkeyPatch) -> None:
    """A model that answers in milliseconds, and one whose first token never comes in a test's time."""
    base = PROFILES["gpt-4o-mini"]
    fast = dataclasses.replace(base, name=FAST, ttft_s=0.001, tokens_per_s=5000.0)
    monkeypatch.setitem(PROFILES, FAST, fast)
    monkeypatch.setitem(PROFILES, SLOW, dataclasses.replace(base, name=SLOW, ttft_s=600.0))


@pytest.fixture
async def socket() -> AsyncIterator[WebsocketCommunicator]:
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/stream/")
    connected, _ = await communicator.connect()
    assert connected
    yield communicator
    await communicator.disconnect()


async def until_not_token(socket: WebsocketCommunicator) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The token messages, and the first message that is not one."""
    tokens = []
    while (message := await socket.receive_json_from())["type"] == "token":
        tokens.append(message)
    return tokens, message


def start(model: str = FAST, question: str = QUESTION) -> dict[str, str]:
    return {"type": "start", "model": model, "question": question}


async def test_tokens_arrive_then_done_with_usage(socket: WebsocketCommunicator) -> None:
    await socket.send_json_to(start())
    tokens, done = await until_not_token(socket)
    assert done["type"] == "done"
    assert len(tokens) > 1 and done["tokens"] == len(tokens)
    assert done["usage"]["output_tokens"] == len(tokens)
    assert done["usage"]["input_tokens"] > 0
    assert done["cost_usd"] > 0 and done["ttft_s"] == tokens[0]["t"]
    assert [t["t"] for t in tokens] == sorted(t["t"] for t in tokens)
    whole = await live_model(FAST).ainvoke(QUESTION)
    assert "".join(t["text"] for t in tokens) == whole.text


@pytest.mark.parametrize(("message", "code"), [
    (start(model="gpt-99"), "unknown_model"),
    (start(question="   "), "empty_question"),
    (start(question="x" * (consumers.MAX_QUESTION_CHARS + 1)), "question_too_long"),
    ({"type": "dance"}, "bad_message"),
    ([1, 2], "bad_message"),
])
async def test_bad_input_gets_an_error_and_the_socket_stays_open(
        socket: WebsocketCommunicator, message: Any, code: str) -> None:
    await socket.send_json_to(message)
    error = await socket.receive_json_from()
    assert error["type"] == "error" and error["code"] == code and error["message"]
    await socket.send_json_to(start())
    _, done = await until_not_token(socket)
    assert done["type"] == "done"


async def test_frames_that_are_not_json_get_an_error(socket: WebsocketCommunicator) -> None:
    for frame in ("{not json", "[" * 999 + "]" * 999, '{"type": ' + "[" * 40 + "]" * 40 + "}"):
        await socket.send_to(text_data=frame)
        assert (await socket.receive_json_from())["code"] == "bad_message"
    await socket.send_json_to(start())
    _, done = await until_not_token(socket)
    assert done["type"] == "done"  # the socket is still open and working


async def test_an_oversized_frame_closes_the_socket_with_1009(socket: WebsocketCommunicator) -> None:
    await socket.send_to(text_data="x" * (consumers.MAX_FRAME_CHARS + 1))
    assert await socket.receive_output() == {"type": "websocket.close", "code": 1009}


async def test_a_binary_frame_closes_the_socket_with_1003(socket: WebsocketCommunicator) -> None:
    await socket.send_to(bytes_data=b"\x00")
    assert await socket.receive_output() == {"type": "websocket.close", "code": 1003}


async def test_a_flood_of_messages_closes_the_socket_with_1008(socket: WebsocketCommunicator) -> None:
    for _ in range(consumers.StreamConsumer.burst + 5):
        await socket.send_to(text_data='{"type": "dance"}')
    codes = []
    while (output := await socket.receive_output())["type"] == "websocket.send":
        codes.append(json.loads(output["text"])["code"])
    assert output == {"type": "websocket.close", "code": 1008}
    assert codes == ["bad_message"] * consumers.StreamConsumer.burst + ["too_many_messages"]


async def test_stop_ends_the_stream(socket: WebsocketCommunicator) -> None:
    await socket.send_json_to(start(model=SLOW))
    await socket.send_json_to({"type": "stop"})
    assert await socket.receive_json_from() == {"type": "stopped"}
    assert await socket.receive_nothing()


async def test_a_new_start_replaces_the_running_stream(socket: WebsocketCommunicator) -> None:
    await socket.send_json_to(start(model=SLOW))
    await socket.send_json_to(start())
    _, done = await until_not_token(socket)
    assert done["type"] == "done"
    assert await socket.receive_nothing()  # the slow stream was cancelled, not left running


async def test_a_stream_past_the_time_limit_is_stopped(
        socket: WebsocketCommunicator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(consumers, "STREAM_TIME_LIMIT_S", 0.05)
    await socket.send_json_to(start(model=SLOW))
    error = await socket.receive_json_from()
    assert error["type"] == "error" and error["code"] == "too_slow"


async def test_disconnect_cancels_the_stream() -> None:
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/stream/")
    await communicator.connect()
    await communicator.send_json_to(start(model=SLOW))
    await communicator.receive_nothing()  # let the consumer start the stream
    assert _streams_running()
    await communicator.disconnect()
    assert not _streams_running()


def _streams_running() -> list[asyncio.Task]:
    return [task for task in asyncio.all_tasks()
            if task.get_coro().__qualname__ == consumers.StreamConsumer._run.__qualname__]


def test_done_figures() -> None:
    usage = {"input_tokens": 9, "output_tokens": 3, "total_tokens": 12}
    done = consumers.done_message([0.5, 0.6, 0.7], usage, 0.25)
    assert done["ttft_s"] == 0.5
    assert done["tokens"] == 3
    assert done["tokens_per_s"] == pytest.approx(10.0)  # two gaps in 0.2 s
    assert done["usage"]["total_tokens"] == 12


def test_one_token_has_no_speed() -> None:
    assert consumers.done_message([0.4], {"output_tokens": 1}, 0.0)["tokens_per_s"] is None


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_demo_template_offers_every_model(language: str) -> None:
    with translation.override(language):
        html = render_to_string("lab/stream_demo.html")
    for name in PROFILES:
        assert f'<option value="{name}"' in html
    assert 'class="stream-output"' in html and 'role="status"' in html
    assert f'data-lang="{language}"' in html
    assert "js/stream.js" in html
    assert "<fieldset data-stream-controls disabled>" in html  # nothing to press without the script
