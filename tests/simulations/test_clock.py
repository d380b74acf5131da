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
    def steps(count: int):
        async def main():
            for _ in range(count):
                time.sleep(0.01)
                await asyncio.sleep(1)
        return main

    # Generous margins both ways: a loaded machine only makes sleeps longer.
    with wall_limit(1.0):
        run_virtual(steps(10))  # about 0.1 s of the 1 s budget
        with pytest.raises(SimulationTimeout):
            run_virtual(steps(150))  # 1.5 s: more than the whole budget, let alone what is left


def test_thread_results_arrive_without_moving_the_clock():
    async def main():
        value = await asyncio.get_running_loop().run_in_executor(None, lambda: (time.sleep(0.02), 7)[1])
        return value, now()

    assert run_virtual(main) == (7, 0.0)
