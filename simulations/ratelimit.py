"""Rate limiters on a real Redis: sliding-window log, token bucket, fixed window.

Each decision is one atomic Lua script, so the limit holds across every process
and server that shares the Redis, with no read-then-write race between them.

Time comes from the caller (``now_s``: the virtual clock of a simulation) or, when
``now_s`` is None, from Redis itself (``TIME``), so app servers whose clocks
disagree still share one clock.  The sliding window gives each request a unique
member (a per-key sequence number), so two requests at the same timestamp are
both counted: a log keyed by the timestamp alone would count them once.

A decision says whether the request may go ahead, how many more would be allowed
right now, and when to retry (the value for a ``Retry-After`` header).

Keys expire in real time, at least ``MIN_TTL_S`` after their last write: a
simulation's virtual clock may crawl while real seconds pass, and its state must
not vanish under it.  A simulation deletes its keys itself (:meth:`keys`).

:func:`hit_many` replays a whole sequence of requests, for any number of limiters
of one kind, in one script call: the same Lua decision runs once per request, in
order, so the answers are exactly those of calling :meth:`hit` one by one.  A
simulation that knows its arrival times up front saves a round trip per request.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import redis

MIN_TTL_S = 300

# Lua numbers come back from Redis as integers: fractions travel as strings.
_CLOCK = f"""
redis.replicate_commands()
local min_ttl = {MIN_TTL_S * 1000}
local now = tonumber(ARGV[1])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
"""

_SLIDING = _CLOCK + """
local window, limit, cost = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = redis.call('ZCARD', KEYS[1])
local ttl = math.max(math.ceil(window * 1000) + 1000, min_ttl)
if used + cost <= limit then
  for i = 1, cost do
    local seq = redis.call('INCR', KEYS[2])
    redis.call('ZADD', KEYS[1], now, tostring(seq))
  end
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
  return {1, limit - used - cost, '0'}
end
-- Wait until enough of the oldest entries have left the window.
local needed = used + cost - limit
local retry = window
if needed <= used then
  local entry = redis.call('ZRANGE', KEYS[1], needed - 1, needed - 1, 'WITHSCORES')
  retry = tonumber(entry[2]) + window - now
end
return {0, math.max(limit - used, 0), tostring(retry)}
"""

_BUCKET = _CLOCK + """
local rate, capacity, cost = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
if now > at then
  tokens = math.min(capacity, tokens + (now - at) * rate)
  at = now
end
local allowed, retry = 0, 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  retry = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], math.max(math.ceil(capacity / rate * 1000) + 1000, min_ttl))
return {allowed, math.floor(tokens), tostring(retry)}
"""

_FIXED = _CLOCK + """
local window, limit, cost = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local index = math.floor(now / window)
local key = KEYS[1] .. ':' .. index
local used = tonumber(redis.call('GET', key) or '0')
local window_end = (index + 1) * window
if used + cost <= limit then
  redis.call('INCRBY', key, cost)
  redis.call('PEXPIRE', key, math.max(math.ceil((window_end - now) * 1000) + 1000, min_ttl))
  return {1, limit - used - cost, '0', key}
end
return {0, math.max(limit - used, 0), tostring(window_end - now), key}
"""


# The same decision as a Lua function of (KEYS, ARGV), called once per request of a
# batch.  ARGV of the batch: keys per request, arguments per request, then for each
# request the index of its first key in KEYS followed by its arguments.
_BATCH = """
local function decide(KEYS, ARGV)
%s
end
local key_count, arg_count = tonumber(ARGV[1]), tonumber(ARGV[2])
local out, at = {}, 3
while at <= #ARGV do
  local first = tonumber(ARGV[at])
  local keys, args = {}, {}
  for i = 1, key_count do keys[i] = KEYS[first + i - 1] end
  for i = 1, arg_count do args[i] = ARGV[at + i] end
  out[#out + 1] = decide(keys, args)
  at = at + arg_count + 1
end
return out
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int  # further requests of the same cost allowed right now
    retry_after_s: float  # 0 when allowed: when a retry can succeed

    @property
    def retry_after_header(self) -> str:
        """Whole seconds, rounded up, as HTTP's ``Retry-After`` wants them (never 0 on a refusal)."""
        return str(max(1, math.ceil(self.retry_after_s))) if not self.allowed else "0"


class _Limiter:
    script_source = ""

    def __init__(self, client: redis.Redis, key: str, limit: float) -> None:
        if limit <= 0:
            raise ValueError(f"limit must be positive, got {limit}")
        self.client = client
        self.key = key
        self._script = client.register_script(self.script_source)
        self._keys_touched: set[str] = set()

    def hit(self, now_s: float | None = None, cost: int = 1) -> Decision:
        """Ask for ``cost`` requests at ``now_s`` (None: Redis's own clock); counted only if allowed."""
        if cost < 1:
            raise ValueError(f"cost must be at least 1, got {cost}")
        reply = self._script(keys=self._keys(), args=[_time_arg(now_s), *self._args(), cost])
        return self._decision(reply)

    def _decision(self, reply: list) -> Decision:
        self._keys_touched.update(self._written(reply))
        return Decision(bool(reply[0]), int(reply[1]), float(_text(reply[2])))

    def keys(self) -> set[str]:
        """Every Redis key this limiter has written, so its owner can delete them without a SCAN."""
        return set(self._keys_touched)

    def _keys(self) -> list[str]:
        return [self.key]

    def _written(self, reply: list) -> list[str]:
        return self._keys()

    def _args(self) -> list[float]:
        raise NotImplementedError


class SlidingWindowLimiter(_Limiter):
    """At most ``limit`` requests in any ``window_s`` seconds (a log of admitted requests)."""

    script_source = _SLIDING

    def __init__(self, client: redis.Redis, key: str, limit: int, window_s: float) -> None:
        super().__init__(client, key, limit)
        self.limit, self.window_s = limit, window_s

    def _keys(self) -> list[str]:
        return [self.key, self.key + ":seq"]

    def _args(self) -> list[float]:
        return [self.window_s, self.limit]


class TokenBucketLimiter(_Limiter):
    """A bucket of ``capacity`` tokens refilled at ``rate_per_s``: bursts up to capacity, then the rate."""

    script_source = _BUCKET

    def __init__(self, client: redis.Redis, key: str, rate_per_s: float, capacity: int) -> None:
        super().__init__(client, key, capacity)
        if rate_per_s <= 0:
            raise ValueError(f"rate_per_s must be positive, got {rate_per_s}")
        self.rate_per_s, self.capacity = rate_per_s, capacity

    def _args(self) -> list[float]:
        return [self.rate_per_s, self.capacity]


class FixedWindowLimiter(_Limiter):
    """At most ``limit`` requests per calendar window (``floor(now / window_s)``): up to twice
    the limit can pass around a window's edge."""

    script_source = _FIXED

    def __init__(self, client: redis.Redis, key: str, limit: int, window_s: float) -> None:
        super().__init__(client, key, limit)
        self.limit, self.window_s = limit, window_s

    def _args(self) -> list[float]:
        return [self.window_s, self.limit]

    def _written(self, reply: list) -> list[str]:
        return [_text(reply[3])]  # the counter of the request's own window


def hit_many(requests: Sequence[tuple[_Limiter, float | None]], cost: int = 1) -> list[Decision]:
    """Decide ``(limiter, now_s)`` requests in order, in one script call per kind of limiter.

    Requests to limiters of different kinds never share state, so each kind's
    requests keep their own order; the answers come back in the order given.
    """
    if cost < 1:
        raise ValueError(f"cost must be at least 1, got {cost}")
    by_kind: dict[type, list[int]] = {}
    for index, (limiter, _) in enumerate(requests):
        by_kind.setdefault(type(limiter), []).append(index)
    out: list[Decision | None] = [None] * len(requests)
    for kind, indexes in by_kind.items():
        first = requests[indexes[0]][0]
        keys: list[str] = []
        slot: dict[int, int] = {}
        argv: list[str | float | int] = []
        arg_count = 0
        for index in indexes:
            limiter, now_s = requests[index]
            if id(limiter) not in slot:
                slot[id(limiter)] = len(keys) + 1
                keys.extend(limiter._keys())
            args = [_time_arg(now_s), *limiter._args(), cost]
            arg_count = len(args)
            argv += [slot[id(limiter)], *args]
        script = first.client.register_script(_BATCH % kind.script_source)
        replies = script(keys=keys, args=[len(first._keys()), arg_count, *argv])
        for index, reply in zip(indexes, replies):
            out[index] = requests[index][0]._decision(reply)
    return out  # type: ignore[return-value]


def _time_arg(now_s: float | None) -> str:
    return "" if now_s is None else repr(float(now_s))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
