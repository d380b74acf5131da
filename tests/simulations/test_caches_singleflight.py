"""Single-flight on the virtual clock: one call per key in flight; errors and cancellations."""

from __future__ import annotations

import asyncio

import pytest

from simulations.caches import SingleFlight
from simulations.clock import now, run_virtual

CALL_S = 2.0  # how long the slow underlying call takes


class SlowBackend:
    """Counts real calls; each takes CALL_S of virtual time and may fail."""

    def __init__(self, failures: int = 0) -> None:
        self.calls: list[str] = []
        self.failures = failures

    async def answer(self, key: str) -> str:
        self.calls.append(key)
        await asyncio.sleep(CALL_S)
        if self.failures:
            self.failures -= 1
            raise RuntimeError(f"backend failed for {key}")
        return f"answer to {key}"


def test_fifty_identical_concurrent_calls_make_one_underlying_call():
    flight: SingleFlight[str] = SingleFlight()
    backend = SlowBackend()

    async def main() -> tuple[list[str], float]:
        calls = [flight.do("q", lambda: backend.answer("q")) for _ in range(50)]
        results = await asyncio.gather(*calls)
        return results, now()

    results, finished_at = run_virtual(main)
    assert backend.calls == ["q"]
    assert results == ["answer to q"] * 50
    assert finished_at == CALL_S
    assert (flight.started, flight.joined) == (1, 49)
    assert not flight.in_flight("q")


def test_distinct_keys_run_separately_and_concurrently():
    flight: SingleFlight[str] = SingleFlight()
    backend = SlowBackend()

    async def main() -> tuple[list[str], float]:
        keys = ("a", "b", "c") * 10
        calls = [flight.do(key, lambda key=key: backend.answer(key)) for key in keys]
        return await asyncio.gather(*calls), now()

    results, finished_at = run_virtual(main)
    assert sorted(backend.calls) == ["a", "b", "c"]
    assert results == ["answer to a", "answer to b", "answer to c"] * 10
    assert finished_at == CALL_S


def test_an_error_reaches_every_waiter_and_the_next_call_retries():
    flight: SingleFlight[str] = SingleFlight()
    backend = SlowBackend(failures=1)

    async def main() -> tuple[list[object], str]:
        calls = [flight.do("q", lambda: backend.answer("q")) for _ in range(10)]
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
        return outcomes, await flight.do("q", lambda: backend.answer("q"))

    outcomes, retried = run_virtual(main)
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    assert len({id(o) for o in outcomes}) == 1  # the very same exception, raised once
    assert retried == "answer to q"
    assert backend.calls == ["q", "q"]


def test_a_call_after_the_flight_landed_runs_again():
    flight: SingleFlight[str] = SingleFlight()
    backend = SlowBackend()

    async def main() -> None:
        await flight.do("q", lambda: backend.answer("q"))
        await flight.do("q", lambda: backend.answer("q"))

    run_virtual(main)
    assert backend.calls == ["q", "q"]  # coalescing, not caching


def test_one_caller_giving_up_does_not_cancel_the_others():
    flight: SingleFlight[str] = SingleFlight()
    backend = SlowBackend()

    async def main() -> tuple[str, bool]:
        impatient = asyncio.ensure_future(flight.do("q", lambda: backend.answer("q")))
        patient = asyncio.ensure_future(flight.do("q", lambda: backend.answer("q")))
        await asyncio.sleep(CALL_S / 2)
        impatient.cancel()
        return await patient, impatient.cancelled()

    assert run_virtual(main) == ("answer to q", True)
    assert backend.calls == ["q"]


def test_when_every_caller_gives_up_the_call_stops_and_the_key_is_free():
    flight: SingleFlight[str] = SingleFlight()
    backend = SlowBackend()
    finished: list[str] = []

    async def tracked() -> str:
        result = await backend.answer("q")
        finished.append(result)
        return result

    async def main() -> str:
        waiters = [asyncio.ensure_future(flight.do("q", tracked)) for _ in range(3)]
        await asyncio.sleep(CALL_S / 2)
        for waiter in waiters:
            waiter.cancel()
        await asyncio.sleep(0)
        assert not flight.in_flight("q")
        return await flight.do("q", tracked)

    assert run_virtual(main) == "answer to q"
    assert backend.calls == ["q", "q"]
    assert finished == ["answer to q"]  # the abandoned call never completed


def test_a_factory_that_fails_before_awaiting_leaves_nothing_behind():
    flight: SingleFlight[str] = SingleFlight()

    def broken():
        raise ValueError("bad request")

    async def main() -> None:
        with pytest.raises(ValueError):
            await flight.do("q", broken)
        assert not flight.in_flight("q")

    run_virtual(main)
