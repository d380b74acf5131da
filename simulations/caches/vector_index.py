"""The semantic cache's entries: stored in Redis, searched by cosine similarity in memory.

Redis holds the truth: one hash per entry (answer, question, float32 unit
vector, partition, expiry) and an append-only list of entry keys.  Each process
keeps a mirror of the vectors and, before every search, reads only the list
items appended since its last look, so entries written by other processes or
before a restart are found without fetching every vector again.  A search is a
brute-force scan of one partition, one matrix-vector product with numpy: fine
for the few thousand entries of a run.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .expiry import is_expired
from .redis_space import RedisNamespace

_VECTOR_FIELDS = ("question", "vector", "partition", "expires_at")


@dataclass(frozen=True, eq=False)
class IndexedEntry:
    key: str  # the Redis hash holding the entry
    question: str
    vector: np.ndarray  # unit length, float64 (stored in Redis as float32)
    expires_at: float | None


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
            "vector": unit_vector(vector).astype(np.float32).tobytes(),
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
    ) -> Iterator[tuple[float, IndexedEntry]]:
        """(cosine similarity, entry) for the partition's live entries, best first.

        Lazy: a lookup usually needs only the first one or two.
        """
        self._catch_up()
        part = self._partitions.get(partition)
        if part is None:
            return iter(())
        part.drop_expired(now)
        unit_query = unit_vector(query)
        entries, rows = part.stacked(unit_query.shape[0])
        # Stored vectors are float32, good to about 7 digits: rounding to 6 makes a
        # question compared with itself score exactly 1.0, so a threshold of 1.0
        # means "identical question", as a learner would expect.
        scores = np.round(rows @ unit_query, 6)
        # Stable: equal scores keep the order the entries were written in.
        order = np.argsort(-scores, kind="stable")
        return ((float(scores[i]), entries[i]) for i in order)

    def read(self, entry: IndexedEntry, now: float) -> bytes | None:
        """The entry's answer from Redis; None, and the entry forgotten, if it is gone there."""
        raw = self._space.read(entry.key, now)
        if raw is None:
            for part in self._partitions.values():
                part.discard(entry.key)
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
                vector=unit_vector(np.frombuffer(vector, dtype=np.float32)),
                expires_at=None if expires_at is None else float(expires_at),
            )
            self._partitions.setdefault(partition.decode(), _Partition()).put(entry)

    def _forget_all(self) -> None:
        self._partitions.clear()
        self._epoch = None
        self._cursor = 0


def unit_vector(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """``values`` scaled to length 1, as float64; all zeros stay zeros (similar to nothing)."""
    vector = np.array(values, dtype=np.float64)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector
