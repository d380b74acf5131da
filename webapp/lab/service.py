"""Running a component for the web.

Results are cached in Redis by (component, parameters, seed, code version), and
identical concurrent requests share one run: the first takes a lock and runs,
the others wait for its result.  This is the chapter's own caching and
de-duplication lesson, applied to the app itself.

A fresh run goes to a worker process (:mod:`.pool`) under the process's
admission gate.  What can go wrong, and what the learner is told:

* the run is too big on its own (it used up its wall-time budget, measured on
  the run alone): 400, "try fewer requests";
* the server is busy (every worker taken, the queue full): 503 with
  ``Retry-After``, and the page retries by itself;
* Redis is away: the result cache and the shared lock are skipped, the run
  happens anyway, uncached; a component that itself needs Redis answers 503
  with ``Retry-After`` until Redis is back.

No request waits longer than :func:`request_bound_s`.

A component with a deferred part (:class:`simulations.component.Deferred`) can
also be run in pieces, each cached and shared the same way: its first result,
then one batch at a time, then the whole result put together from them.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings
from django.utils.translation import gettext as _

from simulations.component import Component, Result
from simulations.component import code_version
from simulations.params import ParamError, Value
from simulations.worker import BATCH_TARGET, COMPONENT_TARGET, FIRST_TARGET, pack, unpack, unpack_data
from webapp import metrics
from webapp.disconnect import client_gone
from webapp.redis_conn import breaker, guarded

from .pool import KILL_MARGIN_S, Abandoned, Busy, RunKilled, RunPool, WorkerError, get_pool

CODE_VERSION = code_version()
_POLL_S = 0.02
_POLL_MAX_S = 0.2
# Results never live forever: keys with a TTL are the ones Redis may evict under
# memory pressure (volatile-lru).  RESULT_CACHE_TTL_S=0 means "no age limit": a year.
_NO_AGE_LIMIT_S = 365 * 24 * 3600
REDIS_RETRY_AFTER_S = 3
# Components whose last run needed Redis while it was away: refused at once until it returns.
_needs_redis: set[str] = set()


class RunRefused(Exception):
    """No result this time; the message says why.

    ``status`` 400: the run itself cannot be done as asked (the learner may change
    it).  503 with ``retry_after`` (seconds): the server or Redis cannot do it now.
    """

    def __init__(self, message: str, *, status: int = 400, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class Outcome:
    result: Result
    from_cache: bool
    cached: bool = True  # False: computed while Redis was away, so not stored for others


def result_key(component: str, params: Mapping[str, Value], seed: int, part: str = "") -> str:
    """The cache key of a whole result, or of one ``part`` of it ("first", "batch-3")."""
    inputs = {"c": component, "p": params, "s": seed, "v": CODE_VERSION}
    if part:
        inputs["part"] = part
    canonical = json.dumps(inputs, sort_keys=True)
    return "llmopslab:result:" + hashlib.sha256(canonical.encode()).hexdigest()


def request_bound_s() -> float:
    """The longest any request waits for a result: queue, run, kill margin."""
    return settings.SIMULATION_QUEUE_WAIT_S + settings.SIMULATION_WALL_LIMIT_S + KILL_MARGIN_S


def pool() -> RunPool:
    return get_pool(lambda: RunPool(settings.SIMULATION_WORKERS, settings.SIMULATION_QUEUE,
                                    settings.SIMULATION_QUEUE_WAIT_S))


def run_cached(component: Component, params: Mapping[str, Value], seed: int) -> Outcome:
    """The result for these inputs, computed at most once across all processes."""
    job = (COMPONENT_TARGET, (component.name, dict(params), seed, settings.SIMULATION_WALL_LIMIT_S))
    packed, from_cache, stored = _shared(result_key(component.name, params, seed), component, job)
    return Outcome(unpack(packed), from_cache, stored)


def cached_whole(component: Component, params: Mapping[str, Value], seed: int) -> Result | None:
    """The whole result if an earlier run left it in the cache, without running anything."""
    packed = _cached(result_key(component.name, params, seed))
    return None if packed is None else unpack(packed)


def first_cached(component: Component, params: Mapping[str, Value], seed: int) -> Outcome:
    """The result without its deferred part."""
    job = (FIRST_TARGET, (component.name, dict(params), seed, settings.SIMULATION_WALL_LIMIT_S))
    packed, from_cache, stored = _shared(result_key(component.name, params, seed, "first"), component, job)
    return Outcome(unpack(packed), from_cache, stored)


def batch_cached(component: Component, params: Mapping[str, Value], seed: int, index: int) -> Any:
    """Batch ``index`` of the deferred part (plain data)."""
    job = (BATCH_TARGET, (component.name, dict(params), seed, index, settings.SIMULATION_WALL_LIMIT_S))
    packed, _from_cache, _stored = _shared(result_key(component.name, params, seed, f"batch-{index}"), component, job)
    return unpack_data(packed)


def complete_cached(component: Component, params: Mapping[str, Value], seed: int) -> Outcome:
    """The whole result put together from the first result and the batches (any missing is run again).

    It is then stored as the whole result: exactly what :func:`run_cached` would have computed.
    """
    first = first_cached(component, params, seed).result
    parts = [batch_cached(component, params, seed, index) for index in range(len(component.deferred.sizes(params)))]
    result = component.deferred.complete(first, parts)
    _store(result_key(component.name, params, seed), pack(result))
    return Outcome(result, from_cache=False)


def _shared(key: str, component: Component, job: tuple[str, Any]) -> tuple[bytes, bool, bool]:
    """The packed value of ``job`` under ``key``, computed at most once across all processes.

    Returns (the packed value, whether it came from the cache, whether it is stored for others).
    """
    bound_s = request_bound_s()
    deadline = time.monotonic() + bound_s
    pause = _POLL_S
    while True:
        try:
            cached = guarded(lambda r: r.get(key))
            if cached is not None:
                metrics.count("llmopslab_result_cache_hits_total", component=component.name)
                return cached, True, True
            token = secrets.token_hex(8)
            locked = guarded(lambda r: r.set(key + ":lock", token, nx=True, px=int(bound_s * 1000) + 1000))
        except redis.RedisError:
            return _run_without_redis(component, job), False, False
        if locked:
            try:
                # Another process may have stored the value between our read and our lock.
                cached = _cached(key)
                if cached is not None:
                    metrics.count("llmopslab_result_cache_hits_total", component=component.name)
                    return cached, True, True
                packed = _run(component, job)
                _store(key, packed)
            finally:
                _unlock(key + ":lock", token)
            metrics.count("llmopslab_result_cache_misses_total", component=component.name)
            return packed, False, True
        if time.monotonic() > deadline or client_gone():  # the run waited for was refused or lost
            raise RunRefused(busy_message(1), status=503, retry_after=1)
        time.sleep(pause)  # another request is computing this very value
        pause = min(pause * 1.5, _POLL_MAX_S)


def busy_message(seconds: int) -> str:
    return _("Many runs at once: the server is busy. Retrying in %(s)s s…") % {"s": seconds}


def paused_message(seconds: int) -> str:
    return _("Live results are paused: the result store (Redis) is not answering. Retrying in %(s)s s…") % {
        "s": seconds}


def _run_without_redis(component: Component, job: tuple[str, Any]) -> bytes:
    if component.name in _needs_redis and breaker.is_open:
        raise RunRefused(paused_message(REDIS_RETRY_AFTER_S), status=503, retry_after=REDIS_RETRY_AFTER_S)
    return _run(component, job)


def _cached(key: str) -> bytes | None:
    try:
        return guarded(lambda r: r.get(key))
    except redis.RedisError:
        return None


def _store(key: str, packed: bytes) -> None:
    ttl_s = settings.RESULT_CACHE_TTL_S or _NO_AGE_LIMIT_S
    try:
        guarded(lambda r: r.set(key, packed, ex=ttl_s))
    except redis.RedisError:
        pass  # the learner still gets the result; the next one computes it again


_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _unlock(lock: str, token: str) -> None:
    """Delete the lock only if it is still ours (it expires if a run outlives it)."""
    try:
        guarded(lambda r: r.eval(_UNLOCK, 1, lock, token))
    except redis.RedisError:
        pass  # it expires by itself


def _run(component: Component, job: tuple[str, Any]) -> bytes:
    """``job`` (a worker target and its payload) run in a worker under the admission gate."""
    limit_s = settings.SIMULATION_WALL_LIMIT_S
    started = time.perf_counter()
    outcome = "ok"
    try:
        target, payload = job
        # Parts of a deferred run cost differently from a whole run: the queue estimates them apart.
        kind = component.name if target == COMPONENT_TARGET else f"{component.name} {target}"
        return pool().call(target, payload, limit_s=limit_s, kind=kind, abandoned=client_gone)
    except Busy as exc:
        outcome = "busy"
        raise RunRefused(busy_message(exc.retry_after_s), status=503, retry_after=exc.retry_after_s) from None
    except Abandoned:  # nobody will read this answer: the learner's next drag replaced it
        outcome = "abandoned"
        raise RunRefused(busy_message(1), status=503, retry_after=1) from None
    except RunKilled:
        outcome = "timeout"
        raise RunRefused(_too_big()) from None
    except WorkerError as exc:
        outcome = exc.kind
        if exc.kind == "timeout":
            raise RunRefused(_too_big()) from None
        if exc.kind == "deadlock":
            raise RunRefused(_("The simulation could not finish: %(reason)s") % {"reason": exc.message}) from None
        if exc.kind == "param":
            field, code, data = exc.message
            raise ParamError(field, code, **data) from None
        if exc.kind == "redis":
            _needs_redis.add(component.name)
            raise RunRefused(paused_message(REDIS_RETRY_AFTER_S), status=503,
                             retry_after=REDIS_RETRY_AFTER_S) from None
        raise RuntimeError(f"simulation {component.name} failed in its worker: {exc.message}") from None
    finally:
        labels = {"component": component.name}
        histograms = [] if outcome in ("busy", "abandoned") else [
            ("llmopslab_simulation_duration_seconds", labels, time.perf_counter() - started)]
        metrics.record(counters=[("llmopslab_simulation_runs_total", {**labels, "outcome": outcome}, 1)],
                       histograms=histograms)
        if outcome == "ok":
            _needs_redis.discard(component.name)


def _too_big() -> str:
    return (_("This run needed more than %(limit)s s of real time and was stopped; try fewer requests.")
            % {"limit": f"{settings.SIMULATION_WALL_LIMIT_S:g}"})
