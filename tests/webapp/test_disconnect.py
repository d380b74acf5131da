"""A view's thread learns that its client has left, through the ASGI wrapper."""

from __future__ import annotations

import asyncio
import time

from asgiref.sync import sync_to_async

from webapp.disconnect import DisconnectAware, client_gone


async def test_a_synchronous_view_sees_the_disconnect():
    seen: list[bool] = []

    def view_thread() -> None:
        seen.append(client_gone())
        deadline = time.monotonic() + 5
        while not client_gone() and time.monotonic() < deadline:
            time.sleep(0.01)
        seen.append(client_gone())

    async def app(scope, receive, send):
        assert (await receive())["type"] == "http.request"
        listening = asyncio.create_task(receive())  # as Django listens for a disconnect
        await sync_to_async(view_thread, thread_sensitive=False)()
        await listening

    messages = asyncio.Queue()
    await messages.put({"type": "http.request", "body": b"", "more_body": False})

    async def receive():
        return await messages.get()

    asyncio.get_running_loop().call_later(0.2, messages.put_nowait, {"type": "http.disconnect"})
    await DisconnectAware(app)({"type": "http"}, receive, None)
    assert seen == [False, True]
    assert not client_gone()  # outside a request: never
