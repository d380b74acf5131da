"""Running a component for the web.

Results are cached in Redis by (component, parameters, seed, code version), and
identical concurrent requests share one run: the first takes a lock and runs,
the others wait for its result.  This is the chapter's own caching and
de-duplication lesson, applied to the app itself.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from simulations.clock import SimulationDeadlock, SimulationTimeout
from simulations.component import Component, Result, code_version
from simulations.params import Value
from webapp import metrics
from webapp.redis_conn import redis_client

CODE_VERSION = code_version()
_POLL_S = 0.02


class RunRefused(Exception):
    """The run was stopped (time limit) or could not finish; the message says why."""


@dataclass(frozen=True)
class Outcome:
    result: Result
    from_cache: bool


def result_key(component: str, params: Mapping[str, Value], seed: int) -> str:
    canonical = json.dumps({"c": component, "p": params, "s": seed, "v": CODE_VERSION}, sort_keys=True)
    return "llmopslab:result:" + hashlib.sha256(canonical.encode()).hexdigest()


def run_cached(component: Component, params: Mapping[str, Value], seed: int) -> Outcome:
    """The result for these inputs, computed at most once across all processes."""
    redis = redis_client()
    key = result_key(component.name, params, seed)
    lock_s = settings.SIMULATION_WALL_LIMIT_S + 5
    deadline = time.monotonic() + lock_s
    while True:
        cached = redis.get(key)
        if cached is not None:
            metrics.count("llmopslab_result_cache_hits_total", component=component.name)
            return Outcome(Result.from_dict(json.loads(cached)), from_cache=True)
        if redis.set(key + ":lock", "1", nx=True, ex=int(lock_s) + 1):
            try:
                # Another process may have stored the result between our read and our lock.
                cached = redis.get(key)
                if cached is not None:
                    metrics.count("llmopslab_result_cache_hits_total", component=component.name)
                    return Outcome(Result.from_dict(json.loads(cached)), from_cache=True)
                result = _run_and_time(component, params, seed)
                redis.set(key, json.dumps(result.to_dict()), ex=settings.RESULT_CACHE_TTL_S or None)
            finally:
                redis.delete(key + ":lock")
            metrics.count("llmopslab_result_cache_misses_total", component=component.name)
            return Outcome(result, from_cache=False)
        if time.monotonic() > deadline:
            raise RunRefused(_("An identical run is still going on; try again in a moment."))
        time.sleep(_POLL_S)  # another request is computing this very result


def _run_and_time(component: Component, params: Mapping[str, Value], seed: int) -> Result:
    started = time.perf_counter()
    outcome = "ok"
    try:
        return component.run_parsed(params, seed, settings.SIMULATION_WALL_LIMIT_S)
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
        labels = {"component": component.name}
        metrics.record(
            counters=[("llmopslab_simulation_runs_total", {**labels, "outcome": outcome}, 1)],
            histograms=[("llmopslab_simulation_duration_seconds", labels, time.perf_counter() - started)],
        )
