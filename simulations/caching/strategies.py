"""The cache strategies compared, and the per-run stores they keep their entries in.

Every strategy is a langchain-core ``BaseCache`` attached to the model with
``MockChatModel(cache=...)``.  :meth:`Strategy.open` is called when the service
starts and again after a restart: what an in-process cache held is gone, while a
SQLite file or a Redis namespace is found again by the new instance.

Lookup and write costs are modelled, not measured: typical orders of magnitude
for a dictionary probe in the process, a query on a local SQLite file, one Redis
round trip inside a data centre, and a small embedding model plus a Redis round
trip.  They are added to each request's latency as virtual time.
"""

from __future__ import annotations

import functools
import os
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from langchain_core.caches import BaseCache, InMemoryCache
from langchain_core.embeddings import Embeddings

from .. import redis_server
from ..caches import LruCache, MultiLevelCache, RedisCache, SemanticCache, SQLiteCache
from ..caches.redis_space import KeyLedger
from ..embeddings import available_embeddings
from .observed import HIT, L1_HIT, L2_HIT, MISS, LookupCost, Probe, level_probe, plain_probe, semantic_probe

# Modelled seconds per operation (see the module docstring).
IN_PROCESS_S = 0.00005
SQLITE_S = 0.0005
REDIS_ROUND_TRIP_S = 0.001
EMBEDDING_S = 0.004

# A RAM-backed directory for the run's SQLite file where there is one: the file
# lives only as long as the run, and on a disk, creating it and the checkpoint at
# close wait for fsync, which would cost more real time than all its queries.
_RAM_DIRECTORY = Path("/dev/shm")


@dataclass(frozen=True)
class CacheSettings:
    """The knobs every strategy reads; ``None`` TTLs mean entries never expire."""

    ttl_s: float | None
    l1_size: int
    l1_ttl_s: float | None
    threshold: float
    embeddings: Embeddings


class RunStores:
    """Where one run's caches keep their entries: a temporary SQLite file and Redis namespaces.

    Namespaces carry the seed and a random suffix, so concurrent runs (two web
    requests with the same seed) never read each other's entries.  Every cache of
    the run notes its keys in one :class:`KeyLedger`, and :meth:`close` deletes
    exactly those: no scan of the keyspace, whatever else Redis holds.
    """

    def __init__(self, settings: CacheSettings, seed: int,
                 client: redis.Redis | None = None) -> None:
        self.settings = settings
        self.run_id = f"caching-{seed}-{uuid.uuid4().hex[:12]}"
        self._owns_client = client is None
        self.client = client if client is not None else redis_server.client()
        self.ledger = KeyLedger()
        self._directory = tempfile.TemporaryDirectory(prefix="llmops-caching-", dir=_scratch_dir())
        self.sqlite_path = Path(self._directory.name) / "llm_cache.db"
        self._closers: list[Callable[[], Any]] = []

    def namespace(self, store: str) -> str:
        return f"{self.run_id}.{store}"

    def close_at_end(self, close: Callable[[], Any]) -> None:
        self._closers.append(close)

    def close(self, *, redis_answers: bool = True) -> None:
        """Delete what the run wrote; when Redis has just failed, leave its keys to their expiry."""
        try:
            for close in self._closers:
                close()
            if redis_answers:
                self.ledger.drop(self.client)
        finally:
            if self._owns_client:
                self.client.close()
            self._directory.cleanup()

    def __enter__(self) -> RunStores:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> None:
        # A Redis that just timed out would make the clean-up wait as long again.
        failed = exc_type is not None and issubclass(exc_type, (redis.ConnectionError, redis.TimeoutError))
        self.close(redis_answers=not failed)


def _scratch_dir() -> str | None:
    """The RAM-backed directory if this system has one we may write to, else the default."""
    return str(_RAM_DIRECTORY) if os.access(_RAM_DIRECTORY, os.W_OK) else None


def open_in_memory(stores: RunStores) -> BaseCache:
    # langchain-core's own cache: a dict in the process, no TTL, no size limit by default.
    return InMemoryCache()


def open_sqlite(stores: RunStores) -> BaseCache:
    cache = SQLiteCache(stores.sqlite_path, ttl_s=stores.settings.ttl_s)
    stores.close_at_end(cache.close)
    return cache


def open_redis(stores: RunStores) -> BaseCache:
    return RedisCache(stores.namespace("redis"), client=stores.client, ttl_s=stores.settings.ttl_s,
                      ledger=stores.ledger)


def open_multi_level(stores: RunStores) -> BaseCache:
    settings = stores.settings
    l1 = LruCache(settings.l1_size, ttl_s=settings.l1_ttl_s)
    l2 = RedisCache(stores.namespace("l2"), client=stores.client, ttl_s=settings.ttl_s, ledger=stores.ledger)
    return MultiLevelCache(l1, l2)


def open_semantic(stores: RunStores) -> BaseCache:
    settings = stores.settings
    return SemanticCache(settings.embeddings, namespace=stores.namespace("semantic"),
                         client=stores.client, threshold=settings.threshold, ttl_s=settings.ttl_s,
                         ledger=stores.ledger)


@dataclass(frozen=True)
class Strategy:
    name: str
    open: Callable[[RunStores], BaseCache] | None  # None: no cache at all
    probe: Probe = plain_probe
    cost: LookupCost = LookupCost({}, 0.0)
    levels: tuple[str, ...] = ()  # outcomes reported level by level


def _same_cost(seconds: float) -> LookupCost:
    return LookupCost({HIT: seconds, MISS: seconds}, write_s=seconds)


_L2_PATH_S = IN_PROCESS_S + REDIS_ROUND_TRIP_S  # L1 checked first, then Redis

STRATEGIES: tuple[Strategy, ...] = (
    Strategy("none", None),
    Strategy("in_memory", open_in_memory, plain_probe, _same_cost(IN_PROCESS_S)),
    Strategy("sqlite", open_sqlite, plain_probe, _same_cost(SQLITE_S)),
    Strategy("redis", open_redis, plain_probe, _same_cost(REDIS_ROUND_TRIP_S)),
    Strategy("multi_level", open_multi_level, level_probe,
             LookupCost({L1_HIT: IN_PROCESS_S, L2_HIT: _L2_PATH_S, MISS: _L2_PATH_S},
                        write_s=_L2_PATH_S), levels=(L1_HIT, L2_HIT)),
    # The write reuses the lookup's embedding (the cache memoises it): one round trip.
    Strategy("semantic", open_semantic, semantic_probe,
             LookupCost({HIT: EMBEDDING_S + REDIS_ROUND_TRIP_S,
                         MISS: EMBEDDING_S + REDIS_ROUND_TRIP_S},
                        write_s=REDIS_ROUND_TRIP_S)),
)


def shut_down(cache: BaseCache) -> None:
    """What a stopping process does to its cache: close its file handle, if it has one."""
    close = getattr(cache, "close", None)
    if close is not None:
        close()


@functools.cache
def embeddings_named(name: str) -> Embeddings:
    """One instance per kind and process: the sentence model takes seconds to load."""
    return available_embeddings()[name]()
