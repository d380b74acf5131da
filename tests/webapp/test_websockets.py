"""Every WebSocket route, through the app's whole ASGI stack: unknown paths refused, frames guarded."""

from __future__ import annotations

import gc

import pytest
from channels.testing import WebsocketCommunicator

from webapp.websockets import decode, depth

ORIGIN = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]


@pytest.fixture(scope="module")
def application():
    from webapp.asgi import application

    return application


async def test_an_unknown_path_is_refused_not_a_server_error(application):
    socket = WebsocketCommunicator(application, "/ws/no-such-thing/", headers=ORIGIN)
    connected, code = await socket.connect()
    assert not connected and code == 4404
    await socket.wait()


async def test_a_known_path_still_connects(application):
    socket = WebsocketCommunicator(application, "/ws/stream/", headers=ORIGIN)
    connected, _ = await socket.connect()
    assert connected
    await socket.disconnect()


def test_depth_is_measured_without_recursion():
    assert depth(1) == 0 and depth([]) == 1 and depth({"a": [1, {"b": []}]}) == 4
    deep: list = []
    for _ in range(10_000):
        deep = [deep]
    assert depth(deep) == 10_001


def test_decode_refuses_what_is_not_json_or_too_deep():
    assert decode('{"type": "stop"}', 32) == {"type": "stop"}
    assert decode("[" * 5000 + "]" * 5000, 32) is None  # RecursionError inside json, caught
    assert decode("[" * 40 + "]" * 40, 32) is None
    assert decode("{nope", 32) is None


def test_start_up_objects_are_frozen_out_of_the_collector(application):
    assert gc.get_freeze_count() > 10_000
