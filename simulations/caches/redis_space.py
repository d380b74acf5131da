"""One cache's corner of a shared Redis: its key namespace and its expiring entries.

Each simulation run gets its own namespace, so runs in parallel never read each
other's entries and a run can delete everything it wrote.  An entry is a Redis
hash with a ``value`` field and an optional ``expires_at`` on the cache's own
clock.  Whether an entry is expired is decided by comparing ``expires_at`` with
that clock, inside a Lua script (read, compare and delete in one atomic step).
Redis's own expiry is only a safety net, in real time, that eventually removes
what nobody looks up or drops any more (e.g. the namespace of a crashed run).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import redis

from .. import redis_server
from .expiry import expiry_for

KEY_PREFIX = "llmops"

# Real seconds every key may live, at least, whatever the simulated TTL: long
# enough that Redis never removes an entry the simulated clock still considers
# fresh, short enough that abandoned runs do not pile up.
DEFAULT_REAL_EXPIRY_S = 24 * 3600.0

# Letters, digits, '_', '.', '-': no ':' (so one namespace can never be a
# prefix of another) and no glob characters (so drop() matches only its own keys).
_NAMESPACE = re.compile(r"[A-Za-z0-9_.\-]{1,128}")

# KEYS[1] entry; ARGV[1] now.  Returns the value, or nil when absent or expired
# (and then deletes the entry, so expired data does not linger until the net).
_READ_LIVE = """
local fields = redis.call('HMGET', KEYS[1], 'value', 'expires_at')
if not fields[1] then return false end
if fields[2] and tonumber(fields[2]) <= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  return false
end
return fields[1]
"""

FieldValue = str | bytes


class RedisNamespace:
    """Keys under ``llmops:<kind>:<namespace>:``, on a Redis client returning bytes."""

    def __init__(
        self,
        namespace: str,
        *,
        kind: str,
        client: redis.Redis | None = None,
        real_expiry_s: float = DEFAULT_REAL_EXPIRY_S,
    ) -> None:
        for label, text in (("namespace", namespace), ("kind", kind)):
            if not _NAMESPACE.fullmatch(text):
                raise ValueError(f"{label} must match {_NAMESPACE.pattern}, got {text!r}")
        self.namespace = namespace
        self.client = client if client is not None else redis_server.client()
        self._owns_client = client is None
        self._prefix = f"{KEY_PREFIX}:{kind}:{namespace}:"
        self._real_expiry_s = real_expiry_s
        self._read_live = self.client.register_script(_READ_LIVE)

    def key(self, *parts: str) -> str:
        return self._prefix + ":".join(parts)

    def read(self, key: str, now: float) -> bytes | None:
        """The entry's value if present and not expired at ``now``."""
        return self._read_live(keys=[key], args=[repr(now)])

    def write(
        self, key: str, fields: Mapping[str, FieldValue], now: float, ttl_s: float | None
    ) -> None:
        with self.client.pipeline(transaction=True) as pipe:
            self.stage_write(pipe, key, fields, now, ttl_s)
            pipe.execute()

    def stage_write(
        self,
        pipe: redis.client.Pipeline,
        key: str,
        fields: Mapping[str, FieldValue],
        now: float,
        ttl_s: float | None,
    ) -> None:
        """Queue a write on ``pipe``: a caller may add its own commands to the transaction."""
        mapping = dict(fields)
        expires_at = expiry_for(now, ttl_s)
        if expires_at is not None:
            mapping["expires_at"] = repr(expires_at)
        # Replace, not merge: an old expires_at must not outlive a rewrite without TTL.
        pipe.delete(key)
        pipe.hset(key, mapping=mapping)
        self.stage_keep_alive(pipe, key, ttl_s)

    def stage_keep_alive(
        self, pipe: redis.client.Pipeline, key: str, ttl_s: float | None = None
    ) -> None:
        """Queue the real-time safety expiry of ``key``."""
        lifetime_s = max(ttl_s or 0.0, self._real_expiry_s)
        pipe.pexpire(key, math.ceil(lifetime_s * 1000))

    def drop(self) -> int:
        """Delete every key of this namespace; returns how many there were."""
        keys = list(self.client.scan_iter(match=self._prefix + "*", count=500))
        deleted = 0
        for start in range(0, len(keys), 500):
            deleted += self.client.unlink(*keys[start:start + 500])
        return deleted

    def close(self) -> None:
        """Release the connection, if this object opened it.  Entries stay in Redis."""
        if self._owns_client:
            self.client.close()
