"""Worker processes for fresh simulation runs, behind a per-process admission gate.

Why processes: a run is CPU-bound Python, and one interpreter runs one thread at
a time, so threads queue for a single core while their wall-time budgets tick
away.  A worker process per core runs them side by side, and measures a run's
time limit on the run alone.  A run that outlives its limit (plus a margin) is
not asked to stop: its process is killed and replaced, so the limit bounds the
request, whatever the run is doing.

Why a gate: there are as many runs at once as workers; a short queue waits at
most ``queue_wait_s`` for one to come free, and anything beyond that is refused
at once with :class:`Busy`, which carries how long to wait before retrying.
The queue is short in time, not in places: a request joins it only if the runs
ahead of it should be done within ``queue_wait_s`` (by the recent average run
time), so a burst of quick runs queues, a burst of slow ones is told to come
back; ``queue`` caps its length whatever the estimate.
A request never waits longer than ``queue_wait_s`` + the run's limit + ``KILL_MARGIN_S``.

Workers come from a ``forkserver`` that has imported the simulations once: a
new or replacement worker starts in milliseconds, and nothing is forked from
this multi-threaded server process.  They import ``simulations``, never Django.
Workers are started by a thread of the pool's own, never by a request, so a
request's wait stays bounded even while the first workers are still loading
(it is told to come back, like any other time the pool is busy).
With ``workers=0`` runs happen in the calling thread (one at a time, and a stuck
run cannot be stopped): for debugging only.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from simulations import worker as worker_module

log = logging.getLogger(__name__)

KILL_MARGIN_S = 0.5  # past its own limit, a run has this long to answer before its process is killed
MAX_RETRY_AFTER_S = 20
_ABANDON_CHECK_S = 0.05  # how often a waiting job asks whether it is still wanted
WARM_UP_TIMEOUT_S = 120.0
PRELOAD = ["simulations.worker", "simulations.registry"]


class Busy(Exception):
    """Every worker is taken and the queue is full (or did not move in time)."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"all workers are busy; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class Abandoned(Exception):
    """The caller gave up (its client left) while waiting for a worker: it never ran."""


class RunKilled(Exception):
    """The run did not answer within its limit plus the margin; its process was killed."""


class WorkerError(Exception):
    """The job failed in the worker: ``kind`` is timeout, deadlock, redis, bug or crashed."""

    def __init__(self, kind: str, message: Any) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


class _Worker:
    def __init__(self, context: multiprocessing.context.BaseContext, warm: bool) -> None:
        self.connection, child = context.Pipe(duplex=True)
        self.process = context.Process(target=worker_module.serve, args=(child, warm),
                                       name="simulation-worker", daemon=True)
        self.process.start()
        child.close()
        self.jobs = 0

    def wait_ready(self, timeout_s: float) -> None:
        """Block until the worker has warmed up; WorkerError if it dies or takes too long."""
        try:
            if not self.connection.poll(timeout_s):
                raise WorkerError("crashed", f"not ready within {timeout_s:g} s")
            self.connection.recv()
        except (EOFError, OSError) as exc:
            raise WorkerError("crashed", f"ended while warming up ({exc.__class__.__name__})") from None

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def call(self, target: str, payload: Any, timeout_s: float) -> tuple:
        """The worker's reply; RunKilled when none comes in ``timeout_s``; WorkerError if it died."""
        try:
            self.connection.send((target, payload))
            if not self.connection.poll(timeout_s):
                raise RunKilled(f"no answer within {timeout_s:g} s")
            reply = self.connection.recv()
        except (EOFError, OSError) as exc:
            raise WorkerError("crashed", f"the worker process ended ({exc.__class__.__name__})") from None
        self.jobs += 1
        return reply

    def alive(self) -> bool:
        return self.process.is_alive()

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)  # the forkserver reaps it; join reads its exit status
        self.connection.close()


class RunPool:
    def __init__(self, workers: int, queue: int, queue_wait_s: float, *,
                 context: str = "forkserver", preload: list[str] | None = None, warm: bool = True) -> None:
        self.workers = workers
        self.warm = warm
        self.queue = queue
        self.queue_wait_s = queue_wait_s
        self._context_name = context
        self._preload = PRELOAD if preload is None else preload
        self._context: multiprocessing.context.BaseContext | None = None
        self._cond = threading.Condition()
        self._idle: list[_Worker | None] = []  # None only in inline mode (workers=0)
        self._started = False
        self._live = 0  # workers started and not yet killed
        self._missing = 0  # workers the starter thread is to start
        self._starter: threading.Thread | None = None
        self._waiting = 0
        self._waiting_s = 0.0  # expected run time of the jobs waiting
        self._running_s = 0.0  # expected run time of the jobs running
        self._estimates: dict[str, float] = {}  # moving average of a job's real time, per kind
        self._promised_s = 0.0  # expected run time of refused jobs told to come back
        self._promised_at = time.monotonic()
        self.killed = 0
        self.abandoned = 0
        self.refused = 0
        self.completed = 0

    @property
    def slots(self) -> int:
        return max(1, self.workers)

    # -- life ---------------------------------------------------------------------------

    def start(self, wait_s: float = 0.0) -> bool:
        """Start the workers (otherwise the first job does); wait up to ``wait_s`` for all of them."""
        deadline = time.monotonic() + wait_s
        with self._cond:
            self._ensure_started()
            while self.workers and self._live < self.workers and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            return self.ready()

    def ready(self) -> bool:
        """At least one worker can take a job (always, inline)."""
        return self.workers == 0 or self._live > 0

    @property
    def live(self) -> int:
        return self._live

    def shutdown(self) -> None:
        with self._cond:
            workers = [w for w in self._idle if w is not None]
            self._idle, self._started, self._missing = [], False, 0
            self._live -= len(workers)
            self._cond.notify_all()
        for worker in workers:
            worker.kill()

    def pids(self) -> list[int]:
        with self._cond:
            return [w.pid for w in self._idle if w is not None and w.pid is not None]

    # -- jobs ---------------------------------------------------------------------------

    def call(self, target: str, payload: Any, *, limit_s: float, kind: str = "",
             abandoned: Callable[[], bool] | None = None) -> Any:
        """``target(payload)`` in a worker; Busy, Abandoned, RunKilled or WorkerError when it cannot be had.

        ``kind`` groups jobs of similar cost (a component's name) for the queue's estimates;
        ``abandoned()`` says, while the job waits in the queue, that nobody wants it any more.
        """
        estimate_s = self._estimate(kind)
        worker = self._admit(estimate_s, abandoned)
        started = time.perf_counter()
        try:
            if worker is None:  # inline: one at a time, in this thread
                reply = worker_module.execute(target, payload)
            else:
                reply = worker.call(target, payload, limit_s + KILL_MARGIN_S)
        except RunKilled:
            self.killed += 1
            log.warning("a run overstayed %.1f s: worker %s killed and replaced", limit_s, worker.pid)
            self._replace(worker)
            worker = None
            raise
        except WorkerError:
            self._replace(worker)
            worker = None
            raise
        finally:
            self._release(worker, kind, estimate_s, time.perf_counter() - started)
        return _value(reply)

    def _admit(self, estimate_s: float, abandoned: Callable[[], bool] | None = None) -> _Worker | None:
        with self._cond:
            self._ensure_started()
            if not self._idle and not self._queue_has_room(estimate_s):
                raise self._busy(estimate_s)
            self._waiting += 1
            self._waiting_s += estimate_s
            try:
                deadline = time.monotonic() + self.queue_wait_s
                while True:
                    while not self._idle:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            raise self._busy(estimate_s)
                        if abandoned is not None and abandoned():
                            self.abandoned += 1
                            raise Abandoned()
                        self._cond.wait(min(remaining, _ABANDON_CHECK_S))
                    worker = self._idle.pop()
                    if worker is None or worker.alive():
                        self._running_s += estimate_s
                        return worker
                    self._live -= 1  # died while idle (killed from outside): replace it, wait on
                    self._missing += 1
                    self._wake_starter()
            finally:
                self._waiting -= 1
                self._waiting_s -= estimate_s

    def _release(self, worker: _Worker | None, kind: str, estimate_s: float, elapsed_s: float) -> None:
        with self._cond:
            self._running_s -= estimate_s
            self.completed += 1
            previous = self._estimates.get(kind)
            self._estimates[kind] = elapsed_s if previous is None else previous + 0.2 * (elapsed_s - previous)
            if worker is None and self.workers:
                return  # killed: the starter thread brings its replacement
            if self._started:
                self._idle.append(worker)
                self._cond.notify()
            elif worker is not None:
                self._live -= 1
                worker.kill()

    def _estimate(self, kind: str) -> float:
        with self._cond:
            if kind in self._estimates:
                return self._estimates[kind]
            known = list(self._estimates.values())
            return sum(known) / len(known) if known else 0.5

    def _queue_has_room(self, estimate_s: float) -> bool:
        """Room in the queue if the work ahead (waiting, and half of what runs) is done within queue_wait_s."""
        if self._waiting >= self.queue:
            return False
        expected_wait_s = (self._waiting_s + self._running_s / 2) / self.slots
        return self._waiting < self.slots or expected_wait_s <= self.queue_wait_s

    def _ensure_started(self) -> None:
        """Called with the lock held: on first use, ask the starter thread for every worker."""
        if self._started:
            return
        self._started = True
        if self.workers == 0:
            self._idle = [None]  # one job at a time, in the caller's thread
            return
        self._missing += self.workers
        self._wake_starter()

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        with self._cond:
            self._live -= 1
            if self._started:
                self._missing += 1
                self._wake_starter()

    def _wake_starter(self) -> None:
        if self._starter is None or not self._starter.is_alive():
            self._starter = threading.Thread(target=self._start_missing, name="simulation-pool-starter",
                                             daemon=True)
            self._starter.start()

    def _start_missing(self) -> None:
        while True:
            with self._cond:
                if not self._started or self._missing <= 0:
                    self._starter = None
                    return
                self._missing -= 1
            try:
                worker = self._new_worker()
                try:
                    worker.wait_ready(WARM_UP_TIMEOUT_S)
                except WorkerError:
                    worker.kill()
                    raise
            except Exception:
                log.exception("could not start a simulation worker; trying again in a second")
                with self._cond:
                    self._missing += 1
                time.sleep(1.0)
                continue
            with self._cond:
                if not self._started:
                    worker.kill()
                    continue
                self._live += 1
                self._idle.append(worker)
                self._cond.notify_all()

    def _new_worker(self) -> _Worker:
        if self._context is None:
            context = multiprocessing.get_context(self._context_name)
            if self._context_name == "forkserver":
                context.set_forkserver_preload(self._preload)
            self._context = context
        return _Worker(self._context, self.warm)

    def _busy(self, estimate_s: float) -> Busy:
        """A refusal whose Retry-After spreads a refused crowd over the time it takes to serve it.

        Each refusal promises its run time to the future; the promises drain at the
        rate the workers work, so the k-th refused request of a burst is told to come
        back about k runs' time (divided among the workers) later.
        """
        self.refused += 1
        now = time.monotonic()
        self._promised_s = max(0.0, self._promised_s - (now - self._promised_at) * self.slots)
        self._promised_at = now
        backlog_s = (self._waiting_s + self._running_s + self._promised_s + estimate_s) / self.slots
        self._promised_s += estimate_s
        seconds = min(MAX_RETRY_AFTER_S, max(1, math.ceil(backlog_s)))
        return Busy(seconds + random.randint(0, 1))


def _value(reply: tuple) -> Any:
    if reply[0] == "ok":
        return reply[1]
    _, kind, message = reply
    raise WorkerError(kind, message)


_pool: RunPool | None = None
_pool_lock = threading.Lock()


def get_pool(factory: Callable[[], RunPool]) -> RunPool:
    """The process's one pool, made by ``factory`` on first use."""
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = factory()
    return _pool


def reset_pool() -> None:
    """Stop the process's pool (tests that change its size)."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown()
