"""A daily budget on a shared Redis: the check-then-spend race, and the reservation that fixes it.

Money is kept in whole micro-dollars (HINCRBY on integers: no float drift).  Each
run keeps its state in hashes under ``llmops:budget:<run>:...``, remembers the keys
it wrote and deletes exactly those at the end: the app's Redis is shared, and a
SCAN over it would be slow and could touch other runs' keys.

* Naive: read what was spent, compare with the budget, call the model, add the
  cost.  Requests that arrive together all read the same "room left", all go
  ahead, and together they overspend.
* Reserve, then settle: one Lua script checks ``spent + reserved + estimate <=
  budget`` and reserves the estimate in the same atomic step; after the call a
  second script releases the reservation and adds the actual cost.  The estimate
  is a worst case (the prompt's tokens plus the output cap), so the budget holds.
"""

from __future__ import annotations

import asyncio
import functools
import math
import os
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import redis

from .. import redis_server
from ..clock import now, run_virtual

MICROS = 1_000_000
ALERT_THRESHOLDS = (0.5, 0.8, 1.0)
RACE_WINDOW_S = 2.0  # the burst's requests arrive within this many seconds
SAFETY_EXPIRY_MS = 10 * 60 * 1000  # a crashed run's keys go by themselves

# KEYS[1] the budget hash; ARGV: limit, estimate (micro-dollars).  Reserve if it fits.
RESERVE = """
local spent = tonumber(redis.call('HGET', KEYS[1], 'spent') or '0')
local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')
local limit, estimate = tonumber(ARGV[1]), tonumber(ARGV[2])
if spent + reserved + estimate > limit then
  return {0, spent, reserved}
end
redis.call('HINCRBY', KEYS[1], 'reserved', estimate)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, spent, reserved + estimate}
"""
# KEYS[1] the budget hash; ARGV: estimate, actual.  Release the reservation, book the cost.
SETTLE = """
redis.call('HINCRBY', KEYS[1], 'reserved', -tonumber(ARGV[1]))
local spent = redis.call('HINCRBY', KEYS[1], 'spent', tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return spent
"""


@dataclass(frozen=True)
class Call:
    """One request of the burst: its actual cost, its worst-case estimate, its duration."""

    cost_micros: int
    estimate_micros: int
    latency_s: float


@dataclass
class Outcome:
    strategy: str  # naive or reserve
    limit_micros: int
    start_micros: int
    admitted: int = 0
    refused: int = 0
    spent_micros: int = 0
    events: list[dict] = field(default_factory=list)  # time, request, what happened, spent after

    @property
    def overspend_micros(self) -> int:
        return max(0, self.spent_micros - self.limit_micros)


@functools.cache
def _client(url: str) -> redis.Redis:
    return redis_server.client(url)


class BudgetStore:
    """One run's budgets in Redis; every key it writes is listed, and :meth:`close` deletes them."""

    def __init__(self, client: redis.Redis | None = None) -> None:
        self.client = client if client is not None else _client(os.environ.get("REDIS_URL", ""))
        self.prefix = f"llmops:budget:{uuid.uuid4().hex}"
        self.keys: list[str] = []
        self._reserve = self.client.register_script(RESERVE)
        self._settle = self.client.register_script(SETTLE)

    def key(self, name: str) -> str:
        key = f"{self.prefix}:{name}"
        self.keys.append(key)
        return key

    def start(self, key: str, spent_micros: int) -> None:
        with self.client.pipeline(transaction=False) as pipe:  # one round trip
            pipe.hset(key, mapping={"spent": spent_micros, "reserved": 0})
            pipe.pexpire(key, SAFETY_EXPIRY_MS)
            pipe.execute()

    # -- the naive way ---------------------------------------------------------------

    def spent(self, key: str) -> int:
        return int(self.client.hget(key, "spent") or 0)

    def add(self, key: str, micros: int) -> int:
        return int(self.client.hincrby(key, "spent", micros))

    # -- the atomic way ------------------------------------------------------------------

    def reserve(self, key: str, limit_micros: int, estimate_micros: int) -> bool:
        allowed, _spent, _reserved = self._reserve(keys=[key], args=[limit_micros, estimate_micros, SAFETY_EXPIRY_MS])
        return bool(allowed)

    def settle(self, key: str, estimate_micros: int, actual_micros: int) -> int:
        return int(self._settle(keys=[key], args=[estimate_micros, actual_micros, SAFETY_EXPIRY_MS]))

    def close(self) -> None:
        if self.keys:
            self.client.delete(*self.keys)
        self.keys.clear()


async def naive_request(store: BudgetStore, key: str, limit: int, index: int, call: Call,
                        outcome: Outcome) -> None:
    """Check, call, spend: three steps another request can slip between."""
    if store.spent(key) >= limit:
        outcome.refused += 1
        outcome.events.append({"t_s": now(), "request": index, "event": "refused", "spent": None})
        return
    outcome.admitted += 1
    await asyncio.sleep(call.latency_s)  # the model call
    spent = store.add(key, call.cost_micros)
    outcome.events.append({"t_s": now(), "request": index, "event": "spent", "spent": spent})


async def reserved_request(store: BudgetStore, key: str, limit: int, index: int, call: Call,
                           outcome: Outcome) -> None:
    """Reserve the worst case atomically, call, then settle the actual cost."""
    if not store.reserve(key, limit, call.estimate_micros):
        outcome.refused += 1
        outcome.events.append({"t_s": now(), "request": index, "event": "refused", "spent": None})
        return
    outcome.admitted += 1
    await asyncio.sleep(call.latency_s)
    spent = store.settle(key, call.estimate_micros, call.cost_micros)
    outcome.events.append({"t_s": now(), "request": index, "event": "spent", "spent": spent})


STRATEGIES = {"naive": naive_request, "reserve": reserved_request}


def race(calls: Sequence[Call], limit_micros: int, start_micros: int, seed: int,
         store: BudgetStore | None = None) -> dict[str, Outcome]:
    """The same burst against the same budget, both ways, on the real Redis and the virtual clock."""
    rng = random.Random(f"burst|{seed}")
    arrivals = sorted(rng.uniform(0.0, RACE_WINDOW_S) for _ in calls)
    own = store is None
    store = store or BudgetStore()
    try:
        results = {}
        for name, request in STRATEGIES.items():
            key = store.key(name)
            store.start(key, start_micros)
            outcome = Outcome(name, limit_micros, start_micros)

            async def burst() -> None:
                async def one(index: int, call: Call, at: float) -> None:
                    await asyncio.sleep(at)
                    await request(store, key, limit_micros, index, call, outcome)

                await asyncio.gather(*(one(i, c, t) for i, (c, t) in enumerate(zip(calls, arrivals))))

            run_virtual(burst)
            spends = [e["spent"] for e in outcome.events if e["spent"] is not None]
            outcome.spent_micros = max(spends, default=start_micros)  # the last write's answer
            outcome.events.sort(key=lambda e: (e["t_s"], e["request"]))
            results[name] = outcome
        return results
    finally:
        if own:
            store.close()


def micros(usd: float) -> int:
    return round(usd * MICROS)


def ceil_micros(usd: float) -> int:
    return math.ceil(usd * MICROS)


def alert_hours(cost_per_day: float, budget: float) -> dict[float, float | None]:
    """Hour of the day each alert fires with steady traffic (None: the day ends first)."""
    out: dict[float, float | None] = {}
    for threshold in ALERT_THRESHOLDS:
        hour = 24.0 * threshold * budget / cost_per_day if cost_per_day > 0 else math.inf
        out[threshold] = hour if hour <= 24.0 else None
    return out
