"""The semantic cache's entries: stored in Redis, searched by cosine similarity in memory.

Redis holds the truth: one hash per entry (answer, question, float32 unit
vector, partition, expiry) and an append-only list of entry keys.  Each process
keeps a mirror of the vectors and, before every search, reads only the list
items appended since its last look, so entries written by other processes or
before a restart are found without fetching every vector again.  A search is a
brute-force scan of one partition, one matrix-vector product with numpy: fine
for the few thousand entries of a run.

A search costs one round trip: the script that brings the mirror up to date also
reads the answer of the entry the mirror ranks first.  Only when the new items
change the ranking is a second read needed.  A process mirrors its own writes as
it makes them, unless another process appended in between.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .expiry import expiry_for, is_expired
from .redis_space import READ_LIVE_FUNCTION, WRITE_FUNCTION, RedisNamespace

# KEYS[1] epoch, KEYS[2] index list, KEYS[3] (optional) an entry to read.
# ARGV[1] first list item the caller has not mirrored, ARGV[2] the epoch it knows, ARGV[3] now.
# Replies: the epoch, the index of the first item returned, KEYS[3]'s live value (or nil),
# then key, question, vector, partition and expires_at of each item from there on.
_SYNC = READ_LIVE_FUNCTION + """
local epoch = redis.call('GET', KEYS[1])
local first = tonumber(ARGV[1])
if epoch ~= ARGV[2] then first = 0 end  -- dropped and refilled: the caller's mirror is stale
local value = false
if KEYS[3] then value = read_live(KEYS[3], ARGV[3]) end
local reply = {epoch, first, value}
for _, key in ipairs(redis.call('LRANGE', KEYS[2], first, -1)) do
  local fields = redis.call('HMGET', key, 'question', 'vector', 'partition', 'expires_at')
  reply[#reply + 1] = key
  for i = 1, 4 do reply[#reply + 1] = fields[i] end
end
return reply
"""
_ROW = 5  # key and four fields per item in _SYNC's reply

# KEYS[1] entry, KEYS[2] index list, KEYS[3] epoch.  ARGV[1] an epoch to set if the
# namespace has none, then the entry's write_args().  Replies: the list's length and the epoch.
_ADD = WRITE_FUNCTION + """
write(KEYS[1], ARGV[2], {unpack(ARGV, 3)})
local length = redis.call('RPUSH', KEYS[2], KEYS[1])
redis.call('SET', KEYS[3], ARGV[1], 'NX')
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
return {length, redis.call('GET', KEYS[3])}
"""


@dataclass(frozen=True, eq=False)
class IndexedEntry:
    key: str  # the Redis hash holding the entry
    question: str
    vector: np.ndarray  # unit length, float64 (stored in Redis as float32)
    expires_at: float | None


class Nearest(NamedTuple):
    """A search's best live entry, and its answer when it is close enough to be reused."""

    score: float | None  # None: no live entry in the partition
    entry: IndexedEntry | None
    answer: bytes | None  # the stored answer; None below the threshold


class _Partition:
    """One partition's entries and, built when first needed, their vectors stacked as a matrix."""

    def __init__(self) -> None:
        self.entries: dict[str, IndexedEntry] = {}
        self._stacked: tuple[int, list[IndexedEntry], np.ndarray] | None = None

    def put(self, entry: IndexedEntry) -> None:
        self.entries[entry.key] = entry
        self._stacked = None

    def discard(self, key: str) -> None:
        if self.entries.pop(key, None) is not None:
            self._stacked = None

    def drop_expired(self, now: float) -> None:
        for key in [k for k, e in self.entries.items() if is_expired(e.expires_at, now)]:
            self.discard(key)

    def stacked(self, dim: int) -> tuple[list[IndexedEntry], np.ndarray]:
        """Entries whose vectors have ``dim`` dimensions (others are another model's), as rows."""
        if self._stacked is None or self._stacked[0] != dim:
            chosen = [e for e in self.entries.values() if e.vector.shape[0] == dim]
            rows = np.vstack([e.vector for e in chosen]) if chosen else np.empty((0, dim))
            self._stacked = (dim, chosen, rows)
        return self._stacked[1], self._stacked[2]


class VectorIndex:
    """Entries grouped by partition (entries are only compared within one)."""

    def __init__(self, space: RedisNamespace) -> None:
        self._space = space
        self._list_key = space.key("index")
        # Changes whenever the namespace is dropped and refilled, so a mirror
        # built before the drop is thrown away rather than trusted.
        self._epoch_key = space.key("epoch")
        self._epoch: bytes | None = None
        self._cursor = 0  # list items already mirrored
        self._partitions: dict[str, _Partition] = {}
        self._sync = space.client.register_script(_SYNC)
        self._add = space.client.register_script(_ADD)

    def add(
        self,
        key: str,
        *,
        partition: str,
        question: str,
        vector: Sequence[float],
        value: str,
        now: float,
        ttl_s: float | None,
    ) -> None:
        stored = unit_vector(vector).astype(np.float32).tobytes()
        fields = {"value": value, "question": question, "vector": stored, "partition": partition}
        length, epoch = self._add(
            keys=[key, self._list_key, self._epoch_key],
            args=[uuid.uuid4().hex, *self._space.write_args(fields, now, ttl_s)],
        )
        if self._epoch is not None and epoch == self._epoch and length == self._cursor + 1:
            # Nothing was appended since our last look: mirror the entry as written
            # (the same bytes a read-back would give) instead of reading it back.
            self._cursor = length
            self._put(key, question, stored, partition, expiry_for(now, ttl_s))

    def nearest(self, partition: str, query: Sequence[float], now: float,
                threshold: float) -> Nearest:
        """The partition's most similar live entry, with its answer if its score reaches ``threshold``."""
        unit_query = unit_vector(query)
        top = next(self._ranked(partition, unit_query, now), None)
        guess = top[1] if top is not None and top[0] >= threshold else None
        guessed = self._catch_up(now, guess)
        for score, entry in self._ranked(partition, unit_query, now):
            if score < threshold:
                return Nearest(score, entry, None)
            raw = guessed if guess is not None and entry.key == guess.key else self._read(entry, now)
            if raw is not None:
                return Nearest(score, entry, raw)
            # Expired or deleted elsewhere since it was mirrored: try the next one.
        return Nearest(None, None, None)

    def drop(self) -> int:
        self._forget_all()
        return self._space.drop()

    def _ranked(
        self, partition: str, unit_query: np.ndarray, now: float
    ) -> Iterator[tuple[float, IndexedEntry]]:
        """(cosine similarity, entry) for the partition's live mirrored entries, best first.

        Lazy: a lookup usually needs only the first one or two.
        """
        part = self._partitions.get(partition)
        if part is None:
            return iter(())
        part.drop_expired(now)
        entries, rows = part.stacked(unit_query.shape[0])
        # Stored vectors are float32, good to about 7 digits: rounding to 6 makes a
        # question compared with itself score exactly 1.0, so a threshold of 1.0
        # means "identical question", as a learner would expect.
        scores = np.round(rows @ unit_query, 6)
        # Stable: equal scores keep the order the entries were written in.
        order = np.argsort(-scores, kind="stable")
        return ((float(scores[i]), entries[i]) for i in order)

    def _read(self, entry: IndexedEntry, now: float) -> bytes | None:
        """The entry's answer from Redis; None, and the entry forgotten, if it is gone there."""
        raw = self._space.read(entry.key, now)
        if raw is None:
            self._discard(entry.key)
        return raw

    def _catch_up(self, now: float, read: IndexedEntry | None) -> bytes | None:
        """Mirror the items appended since the last look; returns ``read``'s answer, if asked."""
        keys = [self._epoch_key, self._list_key] + ([read.key] if read is not None else [])
        epoch, first, value, *rows = self._sync(
            keys=keys, args=[self._cursor, self._epoch or b"", repr(now)]
        )
        if epoch != self._epoch:
            self._forget_all()
            self._epoch = epoch
        self._cursor = first + len(rows) // _ROW
        for start in range(0, len(rows), _ROW):
            key, question, vector, partition, expires_at = rows[start:start + _ROW]
            if vector is not None:  # None: deleted since it was listed
                self._put(key.decode(), question.decode(), vector, partition.decode(),
                          None if expires_at is None else float(expires_at))
        if read is not None and value is None:
            self._discard(read.key)
        return value

    def _put(self, key: str, question: str, vector: bytes, partition: str,
             expires_at: float | None) -> None:
        entry = IndexedEntry(key=key, question=question,
                             vector=unit_vector(np.frombuffer(vector, dtype=np.float32)),
                             expires_at=expires_at)
        self._partitions.setdefault(partition, _Partition()).put(entry)

    def _discard(self, key: str) -> None:
        for part in self._partitions.values():
            part.discard(key)

    def _forget_all(self) -> None:
        self._partitions.clear()
        self._epoch = None
        self._cursor = 0


def unit_vector(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """``values`` scaled to length 1, as float64; all zeros stay zeros (similar to nothing)."""
    vector = np.array(values, dtype=np.float64)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector
