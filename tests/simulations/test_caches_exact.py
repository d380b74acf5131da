"""Exact caches (SQLite, Redis) attached to a chat model: hits, misses, TTL, restarts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from langchain_core.caches import BaseCache, InMemoryCache
from langchain_core.language_models import FakeListChatModel
from langchain_core.outputs import Generation

from simulations.caches import RedisCache, SQLiteCache
from simulations.clock import now, run_virtual
from simulations.redis_server import client

# Opens a cache on the store named by the test; calling it again is a "restart".
CacheFactory = Callable[..., BaseCache]


@pytest.fixture(params=["sqlite", "redis"])
def open_cache(request, tmp_path: Path, redis_namespace: str) -> Iterator[CacheFactory]:
    opened: list[BaseCache] = []

    def factory(**options) -> BaseCache:
        if request.param == "sqlite":
            cache = SQLiteCache(tmp_path / "cache.db", **options)
        else:
            cache = RedisCache(redis_namespace, **options)
        opened.append(cache)
        return cache

    yield factory
    for cache in opened:
        cache.close()


def model(cache: BaseCache, answered: int = 0) -> FakeListChatModel:
    # Each real call returns the next answer, so a repeated answer means a cache hit.
    # ``answered`` skips answers without changing the model's parameters (the key).
    return FakeListChatModel(responses=["first", "second", "third"], i=answered, cache=cache)


def test_a_repeated_question_is_answered_from_the_cache(open_cache: CacheFactory):
    llm = model(open_cache())
    assert llm.invoke("What is 2+2?").content == "first"
    assert llm.invoke("What is 2+2?").content == "first"
    assert llm.invoke("What is 3+3?").content == "second"


def test_other_call_parameters_miss(open_cache: CacheFactory):
    llm = model(open_cache())
    assert llm.invoke("What is 2+2?").content == "first"
    assert llm.invoke("What is 2+2?", stop=["."]).content == "second"


def test_async_calls_use_the_cache_on_the_virtual_clock(open_cache: CacheFactory):
    llm = model(open_cache())

    async def main() -> list[str]:
        return [(await llm.ainvoke(q)).content for q in ("a?", "a?", "b?", "a?")]

    assert run_virtual(main) == ["first", "first", "second", "first"]


def test_entries_expire_after_the_ttl_in_virtual_time(open_cache: CacheFactory):
    llm = model(open_cache(ttl_s=60.0))

    async def main() -> list[tuple[float, str]]:
        answers = [(now(), (await llm.ainvoke("q?")).content)]
        await asyncio.sleep(59.0)
        answers.append((now(), (await llm.ainvoke("q?")).content))
        await asyncio.sleep(1.0)
        answers.append((now(), (await llm.ainvoke("q?")).content))
        return answers

    assert run_virtual(main) == [(0.0, "first"), (59.0, "first"), (60.0, "second")]


def test_the_clock_is_injectable(open_cache: CacheFactory):
    clock = FakeClock()
    cache = open_cache(ttl_s=10.0, clock=clock)
    cache.update("p", "llm", [Generation(text="answer")])
    clock.t = 9.9
    assert cache.lookup("p", "llm") == [Generation(text="answer")]
    clock.t = 10.0
    assert cache.lookup("p", "llm") is None


def test_entries_survive_a_restart_unlike_the_in_memory_cache(open_cache: CacheFactory):
    before = open_cache()
    model(before).invoke("What is 2+2?")
    model(InMemoryCache()).invoke("What is 2+2?")
    before.close()

    # New instances, as after a restart, and models whose next real answer is "second".
    assert model(open_cache(), answered=1).invoke("What is 2+2?").content == "first"
    assert model(InMemoryCache(), answered=1).invoke("What is 2+2?").content == "second"


def test_clear_empties_the_cache(open_cache: CacheFactory):
    cache = open_cache()
    cache.update("p", "llm", [Generation(text="answer")])
    cache.clear()
    assert cache.lookup("p", "llm") is None


def test_a_ttl_must_be_positive(open_cache: CacheFactory):
    with pytest.raises(ValueError, match="ttl_s"):
        open_cache(ttl_s=0)


def test_sqlite_removes_an_expired_row_when_it_is_looked_up(tmp_path: Path):
    clock = FakeClock()
    cache = SQLiteCache(tmp_path / "cache.db", ttl_s=5.0, clock=clock)
    cache.update("p", "llm", [Generation(text="answer")])
    cache.update("other", "llm", [Generation(text="answer")])
    clock.t = 6.0
    assert cache.lookup("p", "llm") is None
    assert len(cache) == 1
    cache.close()


def test_redis_namespaces_do_not_see_each_other(redis_namespace: str):
    mine = RedisCache(redis_namespace)
    theirs = RedisCache(redis_namespace + "-other")
    mine.update("p", "llm", [Generation(text="mine")])
    assert theirs.lookup("p", "llm") is None
    theirs.update("p", "llm", [Generation(text="theirs")])
    assert mine.drop() == 1
    assert theirs.lookup("p", "llm") == [Generation(text="theirs")]
    assert theirs.drop() == 1


def test_redis_expiry_is_decided_by_the_clock_and_deletes_the_entry(redis_namespace: str):
    clock = FakeClock()
    cache = RedisCache(redis_namespace, ttl_s=30.0, clock=clock, real_expiry_s=3600.0)
    cache.update("p", "llm", [Generation(text="answer")])
    redis = client()
    (key,) = redis.keys(f"llmops:cache:{redis_namespace}:*")
    # Redis's own expiry is only the safety net, far beyond the simulated TTL.
    assert redis.pttl(key) > 3_500_000
    clock.t = 31.0
    assert cache.lookup("p", "llm") is None
    assert not redis.exists(key)


def test_a_rewrite_without_ttl_drops_the_old_expiry(redis_namespace: str):
    clock = FakeClock()
    RedisCache(redis_namespace, ttl_s=5.0, clock=clock).update("p", "llm", [Generation(text="old")])
    RedisCache(redis_namespace, clock=clock).update("p", "llm", [Generation(text="new")])
    clock.t = 100.0
    assert RedisCache(redis_namespace, clock=clock).lookup("p", "llm") == [Generation(text="new")]


def test_a_namespace_with_glob_characters_is_refused():
    with pytest.raises(ValueError, match="namespace"):
        RedisCache("run-*")


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

