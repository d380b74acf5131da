"""Attempts per client address at logging in and joining, counted in the app's Redis.

Every login and join attempt passes a sliding window (``simulations.ratelimit``, the
course's own limiter, on Redis's clock).  Wrong join codes are also counted on
their own: once an address has tried too many, it may not try any code, right or
wrong, until the window passes, so codes cannot be guessed at speed.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.http import HttpRequest

from simulations.ratelimit import Decision, SlidingWindowLimiter
from webapp.redis_conn import redis_client

WRONG_CODE_WINDOW_S = 600


def client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _key(kind: str, request: HttpRequest) -> str:
    address = hashlib.sha256(client_address(request).encode()).hexdigest()[:16]
    return f"llmopslab:classroom:limit:{kind}:{address}"


def login_attempt(request: HttpRequest) -> Decision:
    return SlidingWindowLimiter(redis_client(), _key("login", request),
                                limit=settings.CLASSROOM_LOGINS_PER_10_MIN, window_s=600).hit()


def join_attempt(request: HttpRequest) -> Decision:
    return SlidingWindowLimiter(redis_client(), _key("join", request),
                                limit=settings.CLASSROOM_JOINS_PER_MINUTE, window_s=60).hit()


def too_many_wrong_codes(request: HttpRequest) -> bool:
    used = redis_client().get(_key("wrong", request))
    return int(used or 0) >= settings.CLASSROOM_WRONG_CODES_PER_10_MIN


def wrong_code(request: HttpRequest) -> None:
    pipe = redis_client().pipeline()
    pipe.set(_key("wrong", request), 0, ex=WRONG_CODE_WINDOW_S, nx=True)  # the window starts at the first
    pipe.incr(_key("wrong", request))
    pipe.execute()
