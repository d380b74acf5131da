"""A process that runs simulations for a server, one job at a time, and its result format.

A server (webapp/lab/pool.py) keeps a few of these processes so that fresh runs
use every core, not the one its interpreter lock allows, and so that a run that
overstays its time limit can be stopped for sure: the process is killed and
replaced.  A worker imports ``simulations`` and what it needs, never Django.

A job is ``(target, payload)``: ``target`` names a function as
``"module:function"``, which is called with ``payload``.  The reply is
``("ok", value)`` or ``("error", kind, message)``, where ``kind`` is one of
``timeout`` (the run's own wall-time budget ran out), ``deadlock``, ``redis``
(a Redis the run needs did not answer), ``param`` (the run refused a combination
of values; the message is the ParamError's field, code and data) or ``bug``
(anything else; the message carries the traceback).

Results travel and are cached in one compact form, :func:`pack`: JSON without
spaces, compressed with zlib, so a result read from the cache and one just
computed are the same bytes, decoded the same way.
"""

from __future__ import annotations

import gc
import importlib
import json
import signal
import traceback
import zlib
from collections.abc import Callable, Mapping
from functools import cache
from multiprocessing.connection import Connection
from typing import Any

import redis

from .clock import SimulationDeadlock, SimulationTimeout
from .component import Result
from .params import ParamError, Value

COMPONENT_TARGET = "simulations.worker:run_component"
FIRST_TARGET = "simulations.worker:run_first"  # a result without its deferred part
BATCH_TARGET = "simulations.worker:run_batch"  # one batch of a deferred part
_ZLIB_LEVEL = 6


def serve(connection: Connection, warm: bool = True) -> None:
    """Say ``("ready", None)`` once warmed up, then answer jobs from ``connection`` until it closes."""
    # Ctrl-C in a terminal reaches the whole process group: the server stops its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if warm:
        warm_up()
    # What is loaded and warmed so far lives as long as the process: keep the collector off it.
    gc.collect()
    gc.freeze()
    try:
        connection.send(("ready", None))
    except (BrokenPipeError, OSError):
        return
    while True:
        try:
            target, payload = connection.recv()
        except (EOFError, OSError):
            return  # the server has gone
        reply = execute(target, payload)
        try:
            connection.send(reply)
        except (BrokenPipeError, OSError):
            return


def execute(target: str, payload: Any) -> tuple:
    """Run one job and describe its outcome as a picklable reply."""
    try:
        return ("ok", resolve(target)(payload))
    except SimulationTimeout as exc:
        return ("error", "timeout", str(exc))
    except SimulationDeadlock as exc:
        return ("error", "deadlock", str(exc))
    except redis.RedisError as exc:
        return ("error", "redis", f"{exc.__class__.__name__}: {exc}")
    except ParamError as exc:  # a rule between several values, checked by the run itself
        return ("error", "param", (exc.field, exc.code, dict(exc.data)))
    except Exception:
        return ("error", "bug", traceback.format_exc())


def warm_up() -> None:
    """Run every component once at its defaults, so a learner's first run is not the one that
    fills the process's lazy caches (tokenizers, intent catalogue...), which can take several
    times as long as the run itself."""
    from . import registry

    for component in registry.all_components():
        try:
            component.run_parsed(component.spec.parse({}, None), 0, 60.0)
        except Exception:  # e.g. Redis not answering yet: the first real run will say so
            pass


@cache
def resolve(target: str) -> Callable[[Any], Any]:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def run_component(job: tuple[str, Mapping[str, Value], int, float]) -> bytes:
    """``(name, parsed params, seed, wall limit in s)`` -> the packed result."""
    from . import registry  # preloaded by the pool; imported here so this module stays light

    name, params, seed, wall_limit_s = job
    return pack(registry.get(name).run_parsed(params, seed, wall_limit_s))


def run_first(job: tuple[str, Mapping[str, Value], int, float]) -> bytes:
    """As :func:`run_component`, without the component's deferred part."""
    from . import registry

    name, params, seed, wall_limit_s = job
    return pack(registry.get(name).run_first(params, seed, wall_limit_s))


def run_batch(job: tuple[str, Mapping[str, Value], int, int, float]) -> bytes:
    """``(name, parsed params, seed, batch index, wall limit in s)`` -> that batch, packed."""
    from . import registry

    name, params, seed, index, wall_limit_s = job
    return pack_data(registry.get(name).run_batch(params, seed, index, wall_limit_s))


def pack(result: Result) -> bytes:
    return pack_data(result.to_dict())


def unpack(data: bytes) -> Result:
    return Result.from_dict(unpack_data(data))


def pack_data(value: Any) -> bytes:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return zlib.compress(text.encode(), _ZLIB_LEVEL)


def unpack_data(data: bytes) -> Any:
    return json.loads(zlib.decompress(data))
