"""The semantic cache's entries: stored in Redis, searched by cosine similarity in memory.

Redis holds the truth: one hash per entry (answer, question, float32 unit
vector, partition, expiry) and an append-only list of entry keys.  Each process
keeps a mirror of the vectors and, before every search, reads only the list
items appended since its last look, so entries written by other processes or
before a restart are found without fetching every vector again.  A search is a
brute-force scan of one partition: fine for the few thousand entries of a run.
"""

from __future__ import annotations

import math
import operator
import uuid
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

from .expiry import is_expired
from .redis_space import RedisNamespace

_VECTOR_FIELDS = ("question", "vector", "partition", "expires_at")


@dataclass(frozen=True)
class IndexedEntry:
    key: str  # the Redis hash holding the entry
    question: str
    # Unit length, as Python floats: summing products over a tuple is about 30%
    # faster than over the float32 array it is stored as.
    vector: tuple[float, ...]
    expires_at: float | None


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
        self._partitions: dict[str, dict[str, IndexedEntry]] = {}

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
        fields = {
            "value": value,
            "question": question,
            "vector": array("f", unit_vector(vector)).tobytes(),
            "partition": partition,
        }
        with self._space.client.pipeline(transaction=True) as pipe:
            self._space.stage_write(pipe, key, fields, now, ttl_s)
            pipe.rpush(self._list_key, key)
            pipe.set(self._epoch_key, uuid.uuid4().hex, nx=True)
            self._space.stage_keep_alive(pipe, self._list_key, ttl_s)
            self._space.stage_keep_alive(pipe, self._epoch_key, ttl_s)
            pipe.execute()

    def ranked(
        self, partition: str, query: Sequence[float], now: float
    ) -> list[tuple[float, IndexedEntry]]:
        """(cosine similarity, entry) for the partition's live entries, best first."""
        self._catch_up()
        entries = self._partitions.get(partition, {})
        unit_query = unit_vector(query)
        scored: list[tuple[float, IndexedEntry]] = []
        for key, entry in list(entries.items()):
            if is_expired(entry.expires_at, now):
                del entries[key]
            elif len(entry.vector) == len(unit_query):  # else: another embedding model's
                scored.append((_similarity(unit_query, entry.vector), entry))
        scored.sort(key=operator.itemgetter(0), reverse=True)
        return scored

    def read(self, entry: IndexedEntry, now: float) -> bytes | None:
        """The entry's answer from Redis; None, and the entry forgotten, if it is gone there."""
        raw = self._space.read(entry.key, now)
        if raw is None:
            for entries in self._partitions.values():
                entries.pop(entry.key, None)
        return raw

    def drop(self) -> int:
        self._forget_all()
        return self._space.drop()

    def _catch_up(self) -> None:
        client = self._space.client
        with client.pipeline(transaction=True) as pipe:
            pipe.get(self._epoch_key)
            pipe.lrange(self._list_key, self._cursor, -1)
            epoch, new_keys = pipe.execute()
        if epoch != self._epoch:
            mirrored_before = self._cursor > 0
            self._forget_all()
            self._epoch = epoch
            if mirrored_before:  # the list was refilled: read it from its start
                new_keys = client.lrange(self._list_key, 0, -1)
        self._cursor += len(new_keys)
        if new_keys:
            self._mirror(new_keys)

    def _mirror(self, keys: list[bytes]) -> None:
        with self._space.client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hmget(key, _VECTOR_FIELDS)
            rows = pipe.execute()
        for key, (question, vector, partition, expires_at) in zip(keys, rows):
            if vector is None:  # deleted since it was listed
                continue
            entry = IndexedEntry(
                key=key.decode(),
                question=question.decode(),
                vector=unit_vector(array("f", vector)),
                expires_at=None if expires_at is None else float(expires_at),
            )
            self._partitions.setdefault(partition.decode(), {})[entry.key] = entry

    def _forget_all(self) -> None:
        self._partitions.clear()
        self._epoch = None
        self._cursor = 0


def unit_vector(values: Sequence[float]) -> tuple[float, ...]:
    """``values`` scaled to length 1; all zeros stay zeros (similar to nothing)."""
    norm = math.sqrt(math.fsum(v * v for v in values))
    scale = 1.0 / norm if norm else 0.0
    return tuple(v * scale for v in values)


def _similarity(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    # Stored vectors are float32, good to about 7 digits: rounding to 6 makes a
    # question compared with itself score exactly 1.0, so a threshold of 1.0
    # means "identical question", as a learner would expect.
    return round(sum(map(operator.mul, a, b)), 6)
