"""A virtual-time asyncio event loop.

Simulated work (LLM latency, retry back-off, rate-limit windows) is expressed as
``asyncio.sleep`` and timers.  On :class:`VirtualClockLoop` those timers fire in
order, but the clock jumps straight to the next one instead of waiting, so ten
minutes of traffic run in a fraction of a second and every run is reproducible.

Real I/O still works: the loop polls its real selector without blocking, and it
only lets virtual time jump when no thread-pool job is in flight (a thread's
result would otherwise arrive "late" in virtual time).  Synchronous clients, such
as the Redis client used by the caches, take zero virtual time.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import selectors
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

T = TypeVar("T")

# Real seconds a single simulation run may take before it is stopped: the one default,
# which settings.SIMULATION_WALL_LIMIT_S overrides for the web app and the command line.
DEFAULT_WALL_LIMIT_S = 5.0
# (perf_counter deadline, budget in seconds) of the innermost wall_limit() block
_budget: contextvars.ContextVar[tuple[float, float] | None] = contextvars.ContextVar("budget", default=None)


@contextlib.contextmanager
def wall_limit(seconds: float | None = None) -> Iterator[None]:
    """Every run_virtual() inside this block shares one budget of ``seconds`` real seconds.

    A component that runs several simulations (one per strategy, a sweep) thus
    keeps one limit for the whole result.  Nested blocks keep the tighter one.
    ``None`` means :data:`DEFAULT_WALL_LIMIT_S`, read when the block starts (tests change it).
    """
    if seconds is None:
        seconds = DEFAULT_WALL_LIMIT_S
    deadline = time.perf_counter() + seconds
    outer = _budget.get()
    token = _budget.set(min(outer, (deadline, seconds)) if outer else (deadline, seconds))
    try:
        yield
    finally:
        _budget.reset(token)


class SimulationTimeout(RuntimeError):
    """The run used more real time than it was allowed."""


class SimulationDeadlock(RuntimeError):
    """Every task is waiting and no timer is pending: the run can never finish."""


class _VirtualSelector(selectors.DefaultSelector):
    """A selector whose timeout means 'advance the virtual clock', not 'wait'."""

    def __init__(self) -> None:
        super().__init__()
        self.loop: VirtualClockLoop | None = None

    def select(self, timeout: float | None = None):
        loop = self.loop
        if loop is None or self._real_io_possible():
            ready = super().select(0)
            if ready or timeout == 0 or loop is None:
                return ready
        elif timeout == 0:
            return []
        loop.check_wall_limit()
        if loop.threads_in_flight:
            # A worker thread will wake us through the self-pipe; wait for it in
            # real time, without moving the virtual clock.
            return super().select(0.05)
        if timeout is None:
            raise SimulationDeadlock("all tasks are waiting and no timer is pending")
        loop.advance_to_next_timer()
        return []

    def _real_io_possible(self) -> bool:
        # Nothing can arrive unless a worker thread is running or a file descriptor
        # other than the loop's own wake-up pipe is registered: skip the syscall.
        return bool(self.loop.threads_in_flight) or len(self.get_map()) > 1


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """An event loop whose ``time()`` is virtual and jumps to the next timer."""

    def __init__(self, wall_deadline: float, wall_limit_s: float) -> None:
        selector = _VirtualSelector()
        super().__init__(selector)
        selector.loop = self
        self._virtual_now = 0.0
        self._wall_deadline = wall_deadline  # time.perf_counter() value
        self._wall_limit_s = wall_limit_s
        self.threads_in_flight = 0

    def time(self) -> float:
        return self._virtual_now

    def advance_to_next_timer(self) -> None:
        # _scheduled is a heap of TimerHandles; its head is the next timer due.
        if self._scheduled:
            self._virtual_now = max(self._virtual_now, self._scheduled[0].when())

    def check_wall_limit(self) -> None:
        if time.perf_counter() > self._wall_deadline:
            raise SimulationTimeout(
                f"simulation stopped after {self._wall_limit_s:g} s of real time"
            )

    def run_in_executor(self, executor, func, *args):
        future = super().run_in_executor(executor, func, *args)
        self.threads_in_flight += 1

        def _done(_future: asyncio.Future) -> None:
            self.threads_in_flight -= 1

        future.add_done_callback(_done)
        return future


def run_virtual(main: Callable[[], Awaitable[T]], *, wall_limit_s: float | None = None) -> T:
    """Run ``main()`` to completion on a fresh virtual-time loop and return its value.

    Raises :class:`SimulationTimeout` if it needs more than ``wall_limit_s`` real
    seconds or outruns the enclosing wall_limit() budget, and
    :class:`SimulationDeadlock` if it can never finish.
    """
    own = wall_limit_s if wall_limit_s is not None else DEFAULT_WALL_LIMIT_S
    deadline, limit_s = time.perf_counter() + own, own
    shared = _budget.get()
    if shared and shared[0] < deadline:
        deadline, limit_s = shared
    loop = VirtualClockLoop(deadline, limit_s)
    try:
        return loop.run_until_complete(main())
    finally:
        try:
            _cancel_leftovers(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


def _cancel_leftovers(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


def now() -> float:
    """Seconds on the running loop's clock (virtual inside a simulation)."""
    return asyncio.get_running_loop().time()


def check_wall_limit() -> None:
    """Raise :class:`SimulationTimeout` once the enclosing :func:`wall_limit` budget is spent.

    For long computations outside :func:`run_virtual` (numpy loops over many seeds),
    which call it between batches.
    """
    budget = _budget.get()
    if budget and time.perf_counter() > budget[0]:
        raise SimulationTimeout(f"simulation stopped after {budget[1]:g} s of real time")
