"""The in-process LRU (L1) and the two-level cache over Redis (L2)."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.language_models import FakeListChatModel
from langchain_core.outputs import Generation

from simulations.caches import LevelStats, LruCache, MultiLevelCache, RedisCache
from simulations.clock import run_virtual

LLM = "llm"


def answer(text: str) -> list[Generation]:
    return [Generation(text=text)]


def test_lru_evicts_the_least_recently_used_not_the_oldest():
    l1 = LruCache(maxsize=2)
    l1.update("a", LLM, answer("A"))
    l1.update("b", LLM, answer("B"))
    assert l1.lookup("a", LLM) == answer("A")  # "a" is now the most recent
    l1.update("c", LLM, answer("C"))
    assert l1.prompts() == ["a", "c"]
    assert l1.lookup("b", LLM) is None
    assert l1.evictions == 1


def test_lru_rewrite_refreshes_recency_without_growing():
    l1 = LruCache(maxsize=2)
    l1.update("a", LLM, answer("A"))
    l1.update("b", LLM, answer("B"))
    l1.update("a", LLM, answer("A2"))
    l1.update("c", LLM, answer("C"))
    assert l1.prompts() == ["a", "c"]
    assert l1.lookup("a", LLM) == answer("A2")


def test_lru_entries_expire_in_virtual_time():
    l1 = LruCache(maxsize=10, ttl_s=60.0)

    async def main() -> list[bool]:
        l1.update("a", LLM, answer("A"))
        await asyncio.sleep(59.5)
        seen = [l1.lookup("a", LLM) is not None]
        await asyncio.sleep(0.5)
        return [*seen, l1.lookup("a", LLM) is not None, len(l1) == 0]

    assert run_virtual(main) == [True, False, True]


def test_lru_needs_room_for_one():
    with pytest.raises(ValueError, match="maxsize"):
        LruCache(maxsize=0)


def test_an_l2_hit_back_fills_l1(redis_namespace: str):
    RedisCache(redis_namespace).update("q", LLM, answer("from another process"))
    cache = MultiLevelCache(LruCache(maxsize=10), RedisCache(redis_namespace))

    assert cache.lookup("q", LLM) == answer("from another process")
    assert cache.l1.lookup("q", LLM) == answer("from another process")
    assert cache.lookup("q", LLM) == answer("from another process")
    assert cache.lookup("unknown", LLM) is None
    assert cache.stats == LevelStats(l1_hits=1, l2_hits=1, misses=1)
    assert cache.stats.hit_rate == pytest.approx(2 / 3)


def test_writes_go_to_both_levels(redis_namespace: str):
    cache = MultiLevelCache(LruCache(maxsize=10), RedisCache(redis_namespace))
    cache.update("q", LLM, answer("A"))
    assert cache.l1.lookup("q", LLM) == answer("A")
    assert RedisCache(redis_namespace).lookup("q", LLM) == answer("A")


def test_an_entry_evicted_from_l1_is_still_found_in_l2(redis_namespace: str):
    cache = MultiLevelCache(LruCache(maxsize=1), RedisCache(redis_namespace))
    cache.update("a", LLM, answer("A"))
    cache.update("b", LLM, answer("B"))  # evicts "a" from L1
    assert cache.lookup("a", LLM) == answer("A")
    assert cache.lookup("b", LLM) is not None  # evicted in turn by the back-fill of "a"
    assert cache.stats == LevelStats(l1_hits=0, l2_hits=2, misses=0)


def test_l1_expires_first_then_l2_answers(redis_namespace: str):
    cache = MultiLevelCache(LruCache(maxsize=10, ttl_s=60.0),
                            RedisCache(redis_namespace, ttl_s=3600.0))

    async def main() -> None:
        cache.update("q", LLM, answer("A"))
        cache.lookup("q", LLM)
        await asyncio.sleep(61.0)
        cache.lookup("q", LLM)
        await asyncio.sleep(3600.0)
        cache.lookup("q", LLM)

    run_virtual(main)
    assert cache.stats == LevelStats(l1_hits=1, l2_hits=1, misses=1)


def test_two_processes_share_answers_through_l2(redis_namespace: str):
    def process() -> tuple[FakeListChatModel, MultiLevelCache]:
        cache = MultiLevelCache(LruCache(maxsize=100), RedisCache(redis_namespace))
        return FakeListChatModel(responses=["answer", "recomputed"], cache=cache), cache

    first_llm, first = process()
    second_llm, second = process()

    async def main() -> list[str]:
        return [(await first_llm.ainvoke("q?")).content,
                (await second_llm.ainvoke("q?")).content,
                (await second_llm.ainvoke("q?")).content]

    assert run_virtual(main) == ["answer", "answer", "answer"]
    assert first.stats == LevelStats(misses=1)
    assert second.stats == LevelStats(l1_hits=1, l2_hits=1)
