"""What every WebSocket of the app shares: limits on what a client may send, and unknown paths refused.

:class:`GuardedJsonConsumer` is the base of the app's JSON consumers.  It reads
each text frame itself, so a bad frame never reaches the consumer's code:

* a binary frame closes the socket with 1003 (unsupported data);
* a frame longer than ``max_frame_chars`` closes it with 1009 (message too big);
* more than ``burst`` messages at once, or more than ``rate_per_s`` a second
  over time, sends an ``error`` message and closes it with 1008 (policy violation);
* text that is not JSON, or JSON nested deeper than ``max_depth``, reaches
  ``receive_json`` as ``None``, which each consumer answers with its own error message.

The server (webapp/server.py) closes frames beyond its own cap (1 MB) with 1009 too,
rather than dropping the connection.
"""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_POLICY_VIOLATION = 1008
CLOSE_TOO_BIG = 1009
CLOSE_UNKNOWN_PATH = 4404


class GuardedJsonConsumer(AsyncJsonWebsocketConsumer):
    max_frame_chars = 2_000
    max_depth = 32
    rate_per_s = 5.0
    burst = 20

    async def websocket_connect(self, message: dict[str, Any]) -> None:
        self._tokens = float(self.burst)
        self._tokens_at = time.monotonic()
        await super().websocket_connect(message)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None,
                      **kwargs: Any) -> None:
        if text_data is None:
            await self.close(code=CLOSE_UNSUPPORTED_DATA)
            return
        if len(text_data) > self.max_frame_chars:
            await self.close(code=CLOSE_TOO_BIG)
            return
        if not self._take_token():
            await self.send_json({"type": "error", "code": "too_many_messages",
                                  "message": self.translated(gettext_noop(
                                      "Too many messages: at most %(n)s a second. The connection is closed."),
                                      n=f"{self.rate_per_s:g}")})
            await self.close(code=CLOSE_POLICY_VIOLATION)
            return
        await self.receive_json(decode(text_data, self.max_depth))

    def translated(self, template: str, **params: Any) -> str:
        """``template`` (marked with gettext_noop) in the socket's language."""
        with translation.override(getattr(self, "language", settings.LANGUAGE_CODE)):
            return gettext(template) % params

    def _take_token(self) -> bool:
        now = time.monotonic()
        self._tokens = min(float(self.burst), self._tokens + (now - self._tokens_at) * self.rate_per_s)
        self._tokens_at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


def decode(text: str, max_depth: int) -> Any:
    """The JSON value in ``text``, or None when it is not JSON or is nested deeper than ``max_depth``."""
    with contextlib.suppress(ValueError, RecursionError):
        value = json.loads(text)
        return value if depth(value) <= max_depth else None
    return None


def depth(value: Any) -> int:
    """How deeply arrays and objects nest in ``value`` (0 for a scalar), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
            deepest = max(deepest, level + 1)
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
            deepest = max(deepest, level + 1)
    return deepest


class UnknownPath:
    """The last WebSocket route: refuses the handshake (daphne answers 403) instead of raising."""

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        if scope["type"] != "websocket":
            return
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.close", "code": CLOSE_UNKNOWN_PATH})
