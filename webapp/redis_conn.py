"""The one Redis client of the web process (thread-safe, pooled), and the breaker around it.

Redis is a dependency with its own failures: it can die (the embedded server is
restarted by its supervisor, an external one comes back when its operator
restarts it) or hang.  Every call from the web process is short (sub-second
socket timeouts, no retry on a timeout), and the :class:`Breaker` remembers a
failure: for ``COOLDOWN_S`` after one, calls that can do without Redis
(metrics, the result cache, rate limits) skip it instead of each waiting for a
timeout.  Then one call is let through to probe; its success closes the
breaker, so the app is whole again within about a second of Redis returning.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import cache
from typing import TypeVar

import redis
from django.conf import settings

from simulations.redis_server import client_options

log = logging.getLogger(__name__)

T = TypeVar("T")

# Sub-second: a request that meets a hung Redis pays this once, then the breaker is open.
SOCKET_TIMEOUT_S = 0.5
COOLDOWN_S = 1.0


@cache
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, **client_options(SOCKET_TIMEOUT_S))


class RedisUnavailable(redis.ConnectionError):
    """Redis failed a moment ago; the breaker skipped this call rather than wait for it."""


class Breaker:
    """Closed while Redis answers; open for ``cooldown_s`` after a failure, then one probe at a time."""

    def __init__(self, cooldown_s: float = COOLDOWN_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._next_probe = 0.0
        self.last_error = ""

    @property
    def is_open(self) -> bool:
        return self._down_since is not None

    def down_for_s(self) -> float:
        since = self._down_since
        return 0.0 if since is None else self._clock() - since

    def allow(self) -> bool:
        """May this call use Redis?  While open, one caller per cooldown gets through as a probe."""
        with self._lock:
            if self._down_since is None:
                return True
            now = self._clock()
            if now >= self._next_probe:
                self._next_probe = now + self.cooldown_s
                return True
            return False

    def succeeded(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            if self._down_since is not None:
                log.warning("Redis answers again after %.1f s", self._clock() - self._down_since)
            self._down_since = None
            self.last_error = ""

    def failed(self, error: BaseException) -> None:
        with self._lock:
            now = self._clock()
            if self._down_since is None:
                log.warning("Redis failed (%s); skipping it for %.1f s at a time", error, self.cooldown_s)
                self._down_since = now
            self._next_probe = now + self.cooldown_s
            self.last_error = f"{error.__class__.__name__}: {error}"

    def reset(self) -> None:
        with self._lock:
            self._down_since = None
            self._next_probe = 0.0
            self.last_error = ""


breaker = Breaker()


def guarded(call: Callable[[redis.Redis], T]) -> T:
    """``call(client)`` through the breaker: raises RedisUnavailable at once while it is open."""
    if not breaker.allow():
        raise RedisUnavailable(f"Redis is not answering ({breaker.last_error})")
    try:
        result = call(redis_client())
    except redis.RedisError as exc:
        if _is_outage(exc):
            breaker.failed(exc)
        raise
    breaker.succeeded()
    return result


def _is_outage(exc: redis.RedisError) -> bool:
    """A failure of Redis itself (gone, hung, full), not a mistake in one command."""
    return isinstance(exc, (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError)) or (
        isinstance(exc, redis.ResponseError) and str(exc).startswith(("OOM", "LOADING", "MISCONF")))
