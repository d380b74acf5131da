"""Running a component for the web.

Results are cached in Redis by (component, parameters, seed, code version), and
identical concurrent requests share one run: the first takes a lock and runs,
the others wait for its result.  This is the chapter's own caching and
de-duplication lesson, applied to the app itself.

A component with a deferred part (:class:`simulations.component.Deferred`) can
also be run in pieces, each cached the same way: its first result, then one
batch at a time, then the whole result put together from them.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.utils.translation import gettext as _

from simulations.clock import SimulationDeadlock, SimulationTimeout
from simulations.component import Component, Result, code_version
from simulations.params import Value
from webapp import metrics
from webapp.redis_conn import redis_client

CODE_VERSION = code_version()
_POLL_S = 0.02
T = TypeVar("T")


class RunRefused(Exception):
    """The run was stopped (time limit) or could not finish; the message says why."""


@dataclass(frozen=True)
class Outcome:
    result: Result
    from_cache: bool


def result_key(component: str, params: Mapping[str, Value], seed: int, part: str = "") -> str:
    """The cache key of a whole result, or of one ``part`` of it ("first", "batch-3")."""
    inputs = {"c": component, "p": params, "s": seed, "v": CODE_VERSION}
    if part:
        inputs["part"] = part
    canonical = json.dumps(inputs, sort_keys=True)
    return "llmopslab:result:" + hashlib.sha256(canonical.encode()).hexdigest()


def run_cached(component: Component, params: Mapping[str, Value], seed: int) -> Outcome:
    """The result for these inputs, computed at most once across all processes."""
    result, from_cache = _cached(result_key(component.name, params, seed), component.name,
                                 lambda: component.run_parsed(params, seed, settings.SIMULATION_WALL_LIMIT_S),
                                 Result.to_dict, Result.from_dict)
    return Outcome(result, from_cache)


def cached_whole(component: Component, params: Mapping[str, Value], seed: int) -> Result | None:
    """The whole result if some earlier run left it in the cache, without running anything."""
    cached = redis_client().get(result_key(component.name, params, seed))
    return None if cached is None else Result.from_dict(json.loads(cached))


def first_cached(component: Component, params: Mapping[str, Value], seed: int) -> Outcome:
    """The result without its deferred part."""
    result, from_cache = _cached(result_key(component.name, params, seed, "first"), component.name,
                                 lambda: component.run_first(params, seed, settings.SIMULATION_WALL_LIMIT_S),
                                 Result.to_dict, Result.from_dict)
    return Outcome(result, from_cache)


def batch_cached(component: Component, params: Mapping[str, Value], seed: int, index: int) -> Any:
    """Batch ``index`` of the deferred part (plain data)."""
    part, _ = _cached(result_key(component.name, params, seed, f"batch-{index}"), component.name,
                      lambda: component.run_batch(params, seed, index, settings.SIMULATION_WALL_LIMIT_S))
    return part


def complete_cached(component: Component, params: Mapping[str, Value], seed: int) -> Outcome:
    """The whole result put together from the cached first result and batches (any missing is run again).

    It is then cached as the whole result, exactly what :func:`run_cached` would have computed.
    """
    deferred = component.deferred
    first = first_cached(component, params, seed).result
    parts = [batch_cached(component, params, seed, index) for index in range(len(deferred.sizes(params)))]
    result, from_cache = _cached(result_key(component.name, params, seed), component.name,
                                 lambda: deferred.complete(first, parts), Result.to_dict, Result.from_dict)
    return Outcome(result, from_cache)


def _cached(key: str, component: str, compute: Callable[[], T], dump: Callable[[T], Any] = lambda value: value,
            load: Callable[[Any], T] = lambda data: data) -> tuple[T, bool]:
    """``compute()``'s value under ``key``, computed at most once across all processes; (value, from cache)."""
    redis = redis_client()
    lock_s = settings.SIMULATION_WALL_LIMIT_S + 5
    deadline = time.monotonic() + lock_s
    while True:
        cached = redis.get(key)
        if cached is not None:
            metrics.count("llmopslab_result_cache_hits_total", component=component)
            return load(json.loads(cached)), True
        if redis.set(key + ":lock", "1", nx=True, ex=int(lock_s) + 1):
            try:
                # Another process may have stored the value between our read and our lock.
                cached = redis.get(key)
                if cached is not None:
                    metrics.count("llmopslab_result_cache_hits_total", component=component)
                    return load(json.loads(cached)), True
                value = _timed(component, compute)
                redis.set(key, json.dumps(dump(value)), ex=settings.RESULT_CACHE_TTL_S or None)
            finally:
                redis.delete(key + ":lock")
            metrics.count("llmopslab_result_cache_misses_total", component=component)
            return value, False
        if time.monotonic() > deadline:
            raise RunRefused(_("An identical run is still going on; try again in a moment."))
        time.sleep(_POLL_S)  # another request is computing this very result


def _timed(component: str, compute: Callable[[], T]) -> T:
    """Run ``compute``, record its outcome and duration, and turn a stopped run into :class:`RunRefused`."""
    started = time.perf_counter()
    outcome = "ok"
    try:
        return compute()
    except SimulationTimeout:
        outcome = "timeout"
        raise RunRefused(
            _("This run needed more than %(limit)s s of real time and was stopped; try fewer requests.")
            % {"limit": f"{settings.SIMULATION_WALL_LIMIT_S:g}"}
        ) from None
    except SimulationDeadlock as exc:
        outcome = "deadlock"
        raise RunRefused(_("The simulation could not finish: %(reason)s") % {"reason": exc}) from None
    finally:
        labels = {"component": component}
        metrics.record(
            counters=[("llmopslab_simulation_runs_total", {**labels, "outcome": outcome}, 1)],
            histograms=[("llmopslab_simulation_duration_seconds", labels, time.perf_counter() - started)],
        )
