"""Failures on purpose: a demo rate limit, and errors forced by a request header.

Both count requests in Redis rather than in this process's memory, so several
daphne processes behind one proxy share the counts, and a retry that lands on
another process is still seen as the second attempt.

The forced failure is chosen by the caller, which is what tests and lesson demos
need: ``X-Mock-Fail: STATUS[; times=N][; retry-after=SECONDS][; id=TEXT]``,
for example ``X-Mock-Fail: 429; times=1; retry-after=0.1; id=demo-7``.

* ``STATUS`` is 429, 500 or 503.
* ``times=N`` fails only the first N requests that carry this exact header value
  and lets later ones through, so a client's retry can succeed.  Without it every
  such request fails.  ``id`` only makes the value (and so its count) unique.
* ``retry-after`` is the wait a 429 asks for (default 1 s).

Every reply to a request with the header carries ``X-Mock-Fail-Seen``: how many
requests with that value the server has seen, the attempt count of a retrying client.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from dataclasses import dataclass

import redis
from asgiref.sync import sync_to_async
from django.conf import settings
from redis.commands.core import Script

from webapp.redis_conn import guarded, redis_client

from .openai_format import ApiError, rate_limited, server_error

log = logging.getLogger(__name__)

FAULT_HEADER = "X-Mock-Fail"
SEEN_HEADER = "X-Mock-Fail-Seen"
FAULT_STATUSES = (429, 500, 503)
SYNTAX = "STATUS[; times=N][; retry-after=SECONDS][; id=TEXT]"
MAX_HEADER_CHARS = 200
MAX_TIMES = 1000
MAX_RETRY_AFTER_S = 60.0  # OpenAI's client does not wait longer than this
COUNT_TTL_S = 600
RATE_WINDOW_S = 60


@dataclass(frozen=True)
class Fault:
    status: int
    times: int | None  # None: every request with this header fails
    retry_after_s: float = 1.0


def parse_fault(value: str) -> Fault:
    """The fault a header value asks for; ApiError 400 saying what is wrong otherwise."""
    if len(value) > MAX_HEADER_CHARS:
        raise _bad_header(f"longer than {MAX_HEADER_CHARS} characters")
    status_text, *options = value.split(";")
    fields = {key.strip(): text.strip()
              for key, _, text in (option.partition("=") for option in options if option.strip())}
    unknown = set(fields) - {"times", "retry-after", "id"}
    if unknown:
        raise _bad_header(f"unknown option {sorted(unknown)[0]!r}")
    try:
        fault = Fault(status=int(status_text),
                      times=int(fields["times"]) if "times" in fields else None,
                      retry_after_s=float(fields.get("retry-after", 1.0)))
    except ValueError:
        raise _bad_header(f"expected {SYNTAX}") from None
    if fault.status not in FAULT_STATUSES:
        raise _bad_header(f"status must be one of {', '.join(map(str, FAULT_STATUSES))}")
    if fault.times is not None and not 1 <= fault.times <= MAX_TIMES:
        raise _bad_header(f"times must be between 1 and {MAX_TIMES}")
    if not 0 < fault.retry_after_s <= MAX_RETRY_AFTER_S:  # also rejects nan
        raise _bad_header(f"retry-after must be above 0 and at most {MAX_RETRY_AFTER_S:g} s")
    return fault


async def apply_fault(value: str) -> int:
    """Count this request under its header value and fail it if the fault says so.

    Returns how many requests with this value have been seen, this one included.
    """
    fault = parse_fault(value)
    try:
        seen = await _count("mockllm:fault:" + hashlib.sha256(value.encode()).hexdigest(), COUNT_TTL_S)
    except redis.RedisError as exc:
        log.warning("fault counter unavailable: %s", exc)
        raise ApiError(503, f"{FAULT_HEADER} needs Redis, which is not answering.",
                       type="server_error") from None
    if fault.times is None or seen <= fault.times:
        error = _forced(fault)
        error.headers[SEEN_HEADER] = str(seen)
        raise error
    return seen


async def check_rate_limit() -> None:
    """Fail with 429 past ``MOCK_LLM_REQUESTS_PER_MINUTE`` requests in this clock minute.

    A fixed window (one counter per minute) rather than the sliding window the
    lessons build: this is only a demo limit, and one INCR per request is all it costs.
    """
    limit = settings.MOCK_LLM_REQUESTS_PER_MINUTE
    if not limit:
        return
    now = time.time()
    window = int(now // RATE_WINDOW_S)
    try:
        count = await _count(f"mockllm:rpm:{window}", 2 * RATE_WINDOW_S)
    except redis.RedisError as exc:
        log.warning("rate limit not checked: %s", exc)  # fail open: a demo limit is not worth an outage
        return
    if count > limit:
        raise rate_limited(RATE_WINDOW_S - now % RATE_WINDOW_S,
                           f"Rate limit reached for requests: limit {limit} per minute.")


# One round trip, and atomic: a counter never lives on without its expiry.
_INCR_WITH_TTL = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


@functools.cache
def _incr_script() -> Script:
    return redis_client().register_script(_INCR_WITH_TTL)


@sync_to_async(thread_sensitive=False)
def _count(key: str, ttl_s: int) -> int:
    """Add one to the counter ``key``, which starts at 1 and lasts ``ttl_s`` seconds."""
    return int(guarded(lambda client: _incr_script()(keys=[key], args=[ttl_s], client=client)))


def _forced(fault: Fault) -> ApiError:
    if fault.status == 429:
        return rate_limited(fault.retry_after_s, f"Rate limit reached (forced by {FAULT_HEADER}).")
    return server_error(fault.status)


def _bad_header(reason: str) -> ApiError:
    return ApiError(400, f"Invalid {FAULT_HEADER} header: {reason}.", code="invalid_mock_fail_header")
