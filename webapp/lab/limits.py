"""Per-client rate limits on the simulation endpoints, with the app's own Redis limiter.

A client is a browser session: the page a learner opens starts one, and its
re-runs carry the cookie.  A request without a session (a script, a browser
that refuses cookies) is counted by its address instead, with an allowance
large enough for a whole class behind one school NAT.  Each client has a token
bucket (:class:`simulations.ratelimit.TokenBucketLimiter`) on Redis's own clock,
shared by every server process.  Past it: 429 with ``Retry-After``, and the
page retries by itself.

The limits fail open: while Redis is away nothing is counted, since nothing
that needs Redis would run anyway.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import redis
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _

from simulations.ratelimit import TokenBucketLimiter
from webapp.redis_conn import guarded

SESSION_MARK = "lab_client"  # set in the session of a learner who opened a page with a lab
KEY_PREFIX = "llmopslab:limit"


@dataclass(frozen=True)
class Client:
    kind: str  # "session" or "address"
    key: str

    @property
    def redis_key(self) -> str:
        digest = hashlib.sha256(self.key.encode()).hexdigest()[:24]  # no session id in Redis
        return f"{KEY_PREFIX}:{self.kind}:{digest}"


def client_of(request: HttpRequest) -> Client:
    session = getattr(request, "session", None)
    if session is not None and session.get(SESSION_MARK) and session.session_key:
        return Client("session", session.session_key)
    return Client("address", request.META.get("REMOTE_ADDR") or "unknown")


def remember(request: HttpRequest) -> None:
    """Start the learner's session (one database row), so their re-runs count as theirs."""
    session = getattr(request, "session", None)
    if session is not None and not session.get(SESSION_MARK):
        session[SESSION_MARK] = 1


def wait_before_run(client: Client) -> int:
    """0 if the client may run now, else the whole seconds to wait (its Retry-After)."""
    rate, burst = _allowance(client)
    if not rate or not burst:
        return 0
    try:
        decision = guarded(lambda r: TokenBucketLimiter(r, client.redis_key, rate, burst).hit())
    except redis.RedisError:
        return 0
    return 0 if decision.allowed else int(decision.retry_after_header)


def refusal_message(seconds: int) -> str:
    return _("You are re-running faster than one learner’s share of the server. Retrying in %(s)s s…") % {
        "s": seconds}


def _allowance(client: Client) -> tuple[float, int]:
    if client.kind == "session":
        return settings.CLIENT_RATE_PER_S, settings.CLIENT_BURST
    return settings.ADDRESS_RATE_PER_S, settings.ADDRESS_BURST
