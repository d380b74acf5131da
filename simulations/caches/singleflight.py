"""Single-flight: identical requests in flight at the same time share one call.

A cache only helps once the first answer is stored.  While that first call is
still running, every identical request misses too and starts its own call (a
"stampede").  ``SingleFlight.do(key, factory)`` runs ``factory()`` for the first
caller of a key; callers arriving while it runs await the same result, or the
same exception.  Once it is done the key is free again: single-flight shares
calls in flight, it does not cache results.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class _Flight(Generic[T]):
    task: asyncio.Task[T]
    waiters: int = 0


class SingleFlight(Generic[T]):
    """Coalesces concurrent calls per key.

    ``started`` counts underlying calls run; ``joined`` counts calls saved.
    """

    def __init__(self) -> None:
        self._flights: dict[Hashable, _Flight[T]] = {}
        self.started = 0
        self.joined = 0

    def in_flight(self, key: Hashable) -> bool:
        return key in self._flights

    async def do(self, key: Hashable, factory: Callable[[], Awaitable[T]]) -> T:
        """The result of ``factory()``, run once for all callers of ``key`` in flight together."""
        flight = self._flights.get(key)
        if flight is None:
            # Look-up and registration happen with no await in between, so no
            # second caller can slip in and start a duplicate call.
            flight = _Flight(asyncio.ensure_future(factory()))
            self._flights[key] = flight
            flight.task.add_done_callback(lambda _task: self._land(key, flight))
            self.started += 1
        else:
            self.joined += 1
        flight.waiters += 1
        try:
            # shield: one caller giving up (a closed connection, a timeout) must
            # not cancel the call the others are waiting for.
            return await asyncio.shield(flight.task)
        finally:
            flight.waiters -= 1
            if flight.waiters == 0 and not flight.task.done():
                # Every caller gave up: stop the work, and free the key now so a
                # new caller starts afresh instead of joining a cancelled call.
                flight.task.cancel()
                self._land(key, flight)

    def _land(self, key: Hashable, flight: _Flight[T]) -> None:
        # Only this flight's own entry: a newer flight for the key may have taken its place.
        if self._flights.get(key) is flight:
            del self._flights[key]
