"""Whether the client of the request being served has gone away.

A learner dragging a slider replaces each re-run by the next (htmx aborts the
one in flight), and a class does this all the time.  A request still waiting in
the simulation queue when its client has left should give its place up rather
than run for nobody.  Django runs a synchronous view in a thread it cannot
interrupt, but it does keep listening for the client's ``http.disconnect``;
:class:`DisconnectAware` notes that message in an event the view's thread can
look at (the thread runs in a copy of the request's context).
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from typing import Any

_gone: ContextVar[threading.Event | None] = ContextVar("client_gone", default=None)


class DisconnectAware:
    """ASGI middleware around the HTTP application."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        gone = threading.Event()
        token = _gone.set(gone)

        async def noting_receive() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "http.disconnect":
                gone.set()
            return message

        try:
            await self.app(scope, noting_receive, send)
        finally:
            _gone.reset(token)


def client_gone() -> bool:
    """True once the client of the current request has disconnected (never outside a request)."""
    gone = _gone.get()
    return gone is not None and gone.is_set()
