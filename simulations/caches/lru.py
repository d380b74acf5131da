"""An in-process LRU cache with a size limit and a TTL: the first level of a multi-level cache."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from langchain_core.caches import RETURN_VAL_TYPE
from langchain_core.outputs import Generation

from .base import DirectAsyncCache
from .expiry import Clock, checked_ttl, expiry_for, is_expired, loop_clock


@dataclass(frozen=True)
class _Entry:
    value: list[Generation]
    expires_at: float | None


class LruCache(DirectAsyncCache):
    """At most ``maxsize`` answers; the least recently *used* one leaves first.

    Unlike langchain's ``InMemoryCache`` (which evicts the oldest *inserted*
    entry, however popular), a hit moves the entry to the young end.
    """

    def __init__(
        self, maxsize: int, *, ttl_s: float | None = None, clock: Clock = loop_clock
    ) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize!r}")
        self.maxsize = maxsize
        self.ttl_s = checked_ttl(ttl_s)
        self.evictions = 0
        self._clock = clock
        # Keyed by the two strings themselves: in one process a tuple is exact and
        # cheaper than a digest (its salted hash() never leaves this dictionary).
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        key = (prompt, llm_string)
        entry = self._entries.get(key)
        if entry is None:
            return None
        if is_expired(entry.expires_at, self._clock()):
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry.value

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        key = (prompt, llm_string)
        self._entries[key] = _Entry(list(return_val), expiry_for(self._clock(), self.ttl_s))
        self._entries.move_to_end(key)
        while len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)
            self.evictions += 1

    def clear(self, **kwargs: Any) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def prompts(self) -> list[str]:
        """Cached prompts from least to most recently used (the eviction order)."""
        return [prompt for prompt, _ in self._entries]
