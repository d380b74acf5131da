"""One cache's corner of a shared Redis: its key namespace and its expiring entries.

Each simulation run gets its own namespace, so runs in parallel never read each
other's entries and a run can delete everything it wrote.  An entry is a Redis
hash with a ``value`` field and an optional ``expires_at`` on the cache's own
clock.  Whether an entry is expired is decided by comparing ``expires_at`` with
that clock, inside a Lua script (read, compare and delete in one atomic step).
Redis's own expiry is only a safety net, in real time, that eventually removes
what nobody looks up or drops any more (e.g. the namespace of a crashed run).

Reads and writes are Lua scripts: one command per operation, atomic, and one
round trip, where a MULTI transaction would send five commands.

A run that owns several namespaces passes them one :class:`KeyLedger`: every key
a namespace names is noted there, and the run deletes exactly those at its end,
without scanning the keyspace (a SCAN walks every key in Redis, so its cost
grows with everything else stored there, not with the run).
"""

from __future__ import annotations

import itertools
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

# A Lua function, for scripts to share: the entry's value, or false when absent or
# expired at ``now`` (and then it deletes the entry, so expired data does not
# linger until the net).
READ_LIVE_FUNCTION = """
local function read_live(key, now)
  local fields = redis.call('HMGET', key, 'value', 'expires_at')
  if not fields[1] then return false end
  if fields[2] and tonumber(fields[2]) <= tonumber(now) then
    redis.call('DEL', key)
    return false
  end
  return fields[1]
end
"""
# KEYS[1] entry; ARGV[1] now.
_READ_LIVE = READ_LIVE_FUNCTION + "return read_live(KEYS[1], ARGV[1])\n"

# A Lua function, for scripts to share: replace the entry with ``fields`` (name,
# value, name, value...) and set its real-time safety expiry.  Replace, not merge:
# an old expires_at must not outlive a rewrite without TTL.
WRITE_FUNCTION = """
local function write(key, lifetime_ms, fields)
  redis.call('DEL', key)
  redis.call('HSET', key, unpack(fields))
  redis.call('PEXPIRE', key, lifetime_ms)
end
"""
# KEYS[1] entry; ARGV: write_args().
_WRITE = WRITE_FUNCTION + "write(KEYS[1], ARGV[1], {unpack(ARGV, 2)})\n"

FieldValue = str | bytes
_DROP_BATCH = 500  # keys per SCAN step and per UNLINK


class KeyLedger:
    """The Redis keys a run's namespaces have named, so the run can delete them without a SCAN.

    A key is noted when it is named (to read or to write): deleting one that
    was only read is harmless, and costs no more than the read did.
    """

    def __init__(self) -> None:
        self._keys: set[str] = set()

    def __len__(self) -> int:
        return len(self._keys)

    def note(self, key: str) -> None:
        self._keys.add(key)

    def drop(self, client: redis.Redis, prefix: str = "") -> int:
        """Delete the noted keys (those starting with ``prefix``); returns how many existed."""
        chosen = sorted(k for k in self._keys if k.startswith(prefix))
        self._keys.difference_update(chosen)
        deleted = 0
        for start in range(0, len(chosen), _DROP_BATCH):
            deleted += client.unlink(*chosen[start:start + _DROP_BATCH])
        return deleted


class RedisNamespace:
    """Keys under ``llmops:<kind>:<namespace>:``, on a Redis client returning bytes."""

    def __init__(
        self,
        namespace: str,
        *,
        kind: str,
        client: redis.Redis | None = None,
        real_expiry_s: float = DEFAULT_REAL_EXPIRY_S,
        ledger: KeyLedger | None = None,
    ) -> None:
        for label, text in (("namespace", namespace), ("kind", kind)):
            if not _NAMESPACE.fullmatch(text):
                raise ValueError(f"{label} must match {_NAMESPACE.pattern}, got {text!r}")
        self.namespace = namespace
        self.client = client if client is not None else redis_server.client()
        self._owns_client = client is None
        self._prefix = f"{KEY_PREFIX}:{kind}:{namespace}:"
        self._real_expiry_s = real_expiry_s
        self._ledger = ledger
        self._read_live = self.client.register_script(_READ_LIVE)
        self._write = self.client.register_script(_WRITE)

    def key(self, *parts: str) -> str:
        key = self._prefix + ":".join(parts)
        if self._ledger is not None:
            self._ledger.note(key)
        return key

    def read(self, key: str, now: float) -> bytes | None:
        """The entry's value if present and not expired at ``now``."""
        return self._read_live(keys=[key], args=[repr(now)])

    def write(
        self, key: str, fields: Mapping[str, FieldValue], now: float, ttl_s: float | None
    ) -> None:
        self._write(keys=[key], args=self.write_args(fields, now, ttl_s))

    def write_args(
        self, fields: Mapping[str, FieldValue], now: float, ttl_s: float | None
    ) -> list[FieldValue | int]:
        """The arguments of WRITE_FUNCTION's ``write``: the lifetime, then the fields in turn."""
        mapping = dict(fields)
        expires_at = expiry_for(now, ttl_s)
        if expires_at is not None:
            mapping["expires_at"] = repr(expires_at)
        return [self.lifetime_ms(ttl_s), *itertools.chain.from_iterable(mapping.items())]

    def lifetime_ms(self, ttl_s: float | None) -> int:
        """The real-time safety expiry, in milliseconds, of a key holding data with this TTL."""
        return math.ceil(max(ttl_s or 0.0, self._real_expiry_s) * 1000)

    def drop(self) -> int:
        """Delete every key of this namespace; returns how many there were.

        With a ledger, the keys it noted; without one (a namespace shared with
        other processes), a SCAN for the namespace's prefix.
        """
        if self._ledger is not None:
            return self._ledger.drop(self.client, self._prefix)
        return drop_matching(self.client, self._prefix + "*")

    def close(self) -> None:
        """Release the connection, if this object opened it.  Entries stay in Redis."""
        if self._owns_client:
            self.client.close()


def namespaces_pattern(namespaces: str) -> str:
    """A SCAN pattern for the keys of every namespace matching the glob ``namespaces``, any kind."""
    return f"{KEY_PREFIX}:*:{namespaces}:*"


def drop_matching(client: redis.Redis, pattern: str) -> int:
    """Delete every key matching the SCAN ``pattern``; returns how many there were."""
    keys = list(client.scan_iter(match=pattern, count=_DROP_BATCH))
    deleted = 0
    for start in range(0, len(keys), _DROP_BATCH):
        deleted += client.unlink(*keys[start:start + _DROP_BATCH])
    return deleted
