"""A run deletes the Redis keys it wrote by name: no SCAN, so its cost does not grow with the keyspace."""

from __future__ import annotations

import pytest

from simulations.caches import RedisCache
from simulations.caches.redis_space import KeyLedger
from simulations.redis_server import client
from simulations.registry import get


def _scans(redis) -> int:
    return int(redis.info("commandstats").get("cmdstat_scan", {}).get("calls", 0))


@pytest.fixture
def redis(real_redis_url):
    connection = client(real_redis_url)
    yield connection
    connection.close()


def test_a_caching_run_cleans_up_without_scanning_even_among_many_other_keys(redis):
    others = [f"llmops-test:crowd:{i}" for i in range(20_000)]
    for start in range(0, len(others), 5_000):
        redis.mset({key: "x" for key in others[start:start + 5_000]})
    try:
        scans = _scans(redis)
        get("caching-comparison").execute({"requests": 20}, seed=515151)
        assert _scans(redis) == scans  # not one SCAN, however many keys Redis holds
        assert not redis.keys("llmops:*:caching-515151-*")  # and nothing of the run is left
    finally:
        for start in range(0, len(others), 5_000):
            redis.unlink(*others[start:start + 5_000])


def test_a_ledger_drops_only_its_namespace_and_only_what_was_named(redis, redis_namespace):
    ledger = KeyLedger()
    mine = RedisCache(redis_namespace, ledger=ledger)
    theirs = RedisCache(redis_namespace + "-other", ledger=ledger)
    outsider = RedisCache(redis_namespace + "-outsider")  # no ledger: not the run's
    for cache in (mine, theirs, outsider):
        cache.update("p", "llm", [])
    assert mine.drop() == 1  # its own key, named in the ledger
    assert theirs.lookup("p", "llm") == []
    assert ledger.drop(redis) == 1  # what is left of the run: the other namespace's key
    assert outsider.lookup("p", "llm") == []
    assert outsider.drop() == 1
