"""A circuit breaker ("熔断") in front of a model: stop calling a provider that keeps failing.

Three states:

* **closed**: calls go through; ``failure_threshold`` failures in a row open it;
* **open**: calls fail at once with :class:`CircuitOpenError`, without reaching
  the provider (a fallback takes over); after ``cooldown_s`` the next call is let
  through as a probe;
* **half_open**: one probe is in flight (other calls still fail at once); if it
  succeeds the breaker closes, if it fails the breaker opens for another cool-down.

Only transient failures count (timeouts, 429, 5xx): a 400 or 401 says the
request or the key is wrong, not that the provider is down, so it counts as an
answer from a healthy provider.  Every change of state is recorded with its
time, for the chart of the breaker over time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from langchain_core.runnables import Runnable

from .errors import is_transient

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
STATES = (CLOSED, OPEN, HALF_OPEN)


class CircuitOpenError(Exception):
    """The breaker is open (or probing): the call was not made."""

    def __init__(self, retry_in_s: float) -> None:
        super().__init__(f"circuit open; next probe in {retry_in_s:.2f} s")
        self.retry_in_s = retry_in_s


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


class CircuitBreaker:
    def __init__(self, failure_threshold: int = 5, cooldown_s: float = 30.0,
                 counts: Callable[[BaseException], bool] = is_transient,
                 clock: Callable[[], float] = _loop_time) -> None:
        if failure_threshold < 1 or cooldown_s <= 0:
            raise ValueError("need failure_threshold >= 1 and cooldown_s > 0")
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self._counts = counts
        self._clock = clock
        self.state = CLOSED
        self.failures = 0  # in a row, while closed
        self.opened_at = 0.0
        self.probing = False
        self.rejected = 0  # calls refused without reaching the provider
        self.history: list[tuple[float, str]] = [(0.0, CLOSED)]

    def _enter(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.history.append((self._clock(), state))

    def before_call(self) -> bool:
        """Let a call through (True when it is the half-open probe) or raise CircuitOpenError."""
        if self.state == OPEN:
            waited = self._clock() - self.opened_at
            if waited < self.cooldown_s:
                self.rejected += 1
                raise CircuitOpenError(self.cooldown_s - waited)
            self._enter(HALF_OPEN)
        if self.state == HALF_OPEN:
            if self.probing:
                self.rejected += 1
                raise CircuitOpenError(0.0)
            self.probing = True
            return True
        return False

    def on_success(self, probe: bool) -> None:
        if probe:
            self.probing = False
            self.failures = 0
            self._enter(CLOSED)
        elif self.state == CLOSED:
            self.failures = 0
        # An answer to a call started before the breaker opened changes nothing.

    def on_failure(self, error: BaseException, probe: bool) -> None:
        if not self._counts(error):
            self.on_success(probe)  # the provider answered; the request was at fault
            return
        if probe:
            self.probing = False
            self._open()
        elif self.state == CLOSED:
            self.failures += 1
            if self.failures >= self.failure_threshold:
                self._open()

    def _open(self) -> None:
        self.opened_at = self._clock()
        self.failures = 0
        self._enter(OPEN)

    async def call(self, runnable: Runnable, input_: Any, config: Any = None) -> Any:
        """``runnable.ainvoke(input_)`` through the breaker."""
        probe = self.before_call()
        try:
            output = await runnable.ainvoke(input_, config)
        except asyncio.CancelledError:
            if probe:
                self.probing = False  # a cancelled probe proves nothing; the next call probes again
            raise
        except Exception as error:
            self.on_failure(error, probe)
            raise
        self.on_success(probe)
        return output

    def guard(self, runnable: Runnable) -> Runnable:
        """A Runnable that calls ``runnable`` through this breaker (for chains and with_fallbacks)."""
        return _ThroughBreaker(self, runnable)

    def time_in(self, state: str, until_s: float) -> float:
        """Seconds spent in ``state`` from 0 to ``until_s``."""
        total = 0.0
        marks = [*self.history, (max(until_s, self.history[-1][0]), "")]
        for (start, name), (end, _) in zip(marks, marks[1:]):
            if name == state:
                total += end - start
        return total


class _ThroughBreaker(Runnable):
    """``bound`` behind a breaker, as a Runnable.

    A thin Runnable of its own rather than a RunnableLambda: it adds no run of
    its own to the callbacks, so the model's run is the only one recorded.
    """

    def __init__(self, breaker: CircuitBreaker, bound: Runnable) -> None:
        self.breaker = breaker
        self.bound = bound

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        return f"CircuitBreaker({self.bound.get_name()})"

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        probe = self.breaker.before_call()
        try:
            output = self.bound.invoke(input, config, **kwargs)
        except Exception as error:
            self.breaker.on_failure(error, probe)
            raise
        self.breaker.on_success(probe)
        return output

    async def ainvoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        return await self.breaker.call(self.bound, input, config)
