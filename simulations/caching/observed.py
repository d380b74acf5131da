"""A cache wrapper that times and records every lookup, the way a metrics decorator would.

langchain calls the cache from inside ``ainvoke``, so the caller never learns
whether its answer came from the cache, from which level, or how close the
semantic match was.  :class:`ObservedCache` sits between the model and the real
cache: it asks the real cache, writes a :class:`Lookup` into the list of the
request being served (found through a context variable, which asyncio copies
into every task langchain starts for that request), and spends the lookup's
modelled cost as virtual time so it shows in the request's latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from langchain_core.caches import RETURN_VAL_TYPE, BaseCache

from ..caches import MultiLevelCache, SemanticCache

HIT = "hit"
L1_HIT = "l1"
L2_HIT = "l2"
MISS = "miss"
HIT_OUTCOMES = frozenset({HIT, L1_HIT, L2_HIT})


@dataclass(frozen=True)
class Lookup:
    """What one cache lookup found."""

    outcome: str  # HIT, L1_HIT, L2_HIT or MISS
    value: RETURN_VAL_TYPE | None = None
    score: float | None = None  # semantic caches: cosine similarity of the closest entry
    matched_question: str | None = None  # ...and that entry's question

    @property
    def hit(self) -> bool:
        return self.outcome in HIT_OUTCOMES


Probe = Callable[[Any, str, str], Lookup]


def plain_probe(cache: BaseCache, prompt: str, llm_string: str) -> Lookup:
    value = cache.lookup(prompt, llm_string)
    return Lookup(MISS if value is None else HIT, value)


def level_probe(cache: MultiLevelCache, prompt: str, llm_string: str) -> Lookup:
    # The level comes from the cache's own counters; a lookup never awaits, so no
    # other request can move them in between.
    l1_before = cache.stats.l1_hits
    value = cache.lookup(prompt, llm_string)
    if value is None:
        return Lookup(MISS)
    return Lookup(L1_HIT if cache.stats.l1_hits > l1_before else L2_HIT, value)


def semantic_probe(cache: SemanticCache, prompt: str, llm_string: str) -> Lookup:
    found = cache.lookup_with_score(prompt, llm_string)
    outcome = MISS if found.value is None else HIT
    return Lookup(outcome, found.value, found.score, found.matched_prompt)


@dataclass(frozen=True)
class LookupCost:
    """Modelled seconds a lookup or a write takes, by outcome (see strategies.py)."""

    by_outcome: dict[str, float]
    write_s: float

    def of(self, outcome: str) -> float:
        return self.by_outcome[outcome]


_lookups: contextvars.ContextVar[list[Lookup] | None] = contextvars.ContextVar(
    "caching_lookups", default=None
)


@contextlib.contextmanager
def recording_lookups() -> Iterator[list[Lookup]]:
    """Collect the lookups made while serving one request (call it inside that request's task)."""
    records: list[Lookup] = []
    token = _lookups.set(records)
    try:
        yield records
    finally:
        _lookups.reset(token)


class ObservedCache(BaseCache):
    """``inner`` as langchain sees it, plus a record and a modelled cost per lookup."""

    def __init__(self, inner: BaseCache, probe: Probe, cost: LookupCost) -> None:
        self.inner = inner
        self._probe = probe
        self._cost = cost

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        return self._observe(prompt, llm_string).value

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        self.inner.update(prompt, llm_string, return_val)

    def clear(self, **kwargs: Any) -> None:
        self.inner.clear(**kwargs)

    async def alookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        found = self._observe(prompt, llm_string)
        await asyncio.sleep(self._cost.of(found.outcome))
        return found.value

    async def aupdate(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        self.inner.update(prompt, llm_string, return_val)
        # langchain awaits the write before returning the answer, so it is part of the latency.
        await asyncio.sleep(self._cost.write_s)

    async def aclear(self, **kwargs: Any) -> None:
        self.inner.clear(**kwargs)

    def _observe(self, prompt: str, llm_string: str) -> Lookup:
        found = self._probe(self.inner, prompt, llm_string)
        records = _lookups.get()
        if records is not None:
            records.append(found)
        return found
