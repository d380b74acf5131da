"""Two cache levels: a small fast one in the process, a shared one behind it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.caches import RETURN_VAL_TYPE, BaseCache

from .base import DirectAsyncCache


@dataclass
class LevelStats:
    """Where each lookup was answered."""

    l1_hits: int = 0
    l2_hits: int = 0
    misses: int = 0

    @property
    def lookups(self) -> int:
        return self.l1_hits + self.l2_hits + self.misses

    @property
    def hit_rate(self) -> float:
        return (self.l1_hits + self.l2_hits) / self.lookups if self.lookups else 0.0


class MultiLevelCache(DirectAsyncCache):
    """Look in ``l1`` (e.g. :class:`LruCache`), then ``l2`` (e.g. :class:`RedisCache`).

    An L2 hit is copied into L1 so the next lookup in this process stays local.
    Writes go to both.  L1's TTL bounds how stale a process can be: another
    process's newer L2 entry is only seen here once the L1 copy expires.
    """

    def __init__(self, l1: BaseCache, l2: BaseCache) -> None:
        self.l1 = l1
        self.l2 = l2
        self.stats = LevelStats()

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        value = self.l1.lookup(prompt, llm_string)
        if value is not None:
            self.stats.l1_hits += 1
            return value
        value = self.l2.lookup(prompt, llm_string)
        if value is not None:
            self.stats.l2_hits += 1
            self.l1.update(prompt, llm_string, value)
            return value
        self.stats.misses += 1
        return None

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        # The shared level first: if writing it fails, no process-local copy
        # claims an answer the other processes do not have.
        self.l2.update(prompt, llm_string, return_val)
        self.l1.update(prompt, llm_string, return_val)

    def clear(self, **kwargs: Any) -> None:
        self.l2.clear(**kwargs)
        self.l1.clear(**kwargs)
