import asyncio
import time

import pytest

from simulations.clock import SimulationDeadlock, SimulationTimeout, now, run_virtual, wall_limit


def test_time_jumps_to_the_next_timer():
    async def main():
        stamps = []
        for delay in (2.0, 0.5, 600.0):
            await asyncio.sleep(delay)
            stamps.append(now())
        return stamps

    assert run_virtual(main) == [2.0, 2.5, 602.5]


def test_concurrent_sleeps_overlap_in_virtual_time():
    async def main():
        await asyncio.gather(*(asyncio.sleep(2.0) for _ in range(1000)))
        return now()

    assert run_virtual(main) == 2.0


def test_a_task_that_waits_forever_is_a_deadlock_not_a_hang():
    async def main():
        await asyncio.Event().wait()

    with pytest.raises(SimulationDeadlock):
        run_virtual(main)


def test_a_run_past_its_wall_limit_is_stopped():
    async def main():
        while True:  # endless virtual time, a little real time per step
            time.sleep(0.001)
            await asyncio.sleep(1)

    with pytest.raises(SimulationTimeout, match="0.05 s"):
        run_virtual(main, wall_limit_s=0.05)


def test_runs_inside_wall_limit_share_one_budget():
    async def slow():
        for _ in range(40):
            time.sleep(0.001)
            await asyncio.sleep(1)

    with wall_limit(0.06):
        run_virtual(slow)  # about 0.04 s of the 0.06 s budget
        with pytest.raises(SimulationTimeout):
            run_virtual(slow)  # the rest of the budget is not enough


def test_thread_results_arrive_without_moving_the_clock():
    async def main():
        value = await asyncio.get_running_loop().run_in_executor(None, lambda: (time.sleep(0.02), 7)[1])
        return value, now()

    assert run_virtual(main) == (7, 0.0)
