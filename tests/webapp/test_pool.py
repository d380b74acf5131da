"""The worker pool, with real processes: bounded waits, stuck runs killed and replaced, Busy with Retry-After."""

from __future__ import annotations

import threading
import time

import pytest

from webapp.lab.pool import KILL_MARGIN_S, Busy, RunKilled, RunPool, WorkerError

JOBS = "tests.webapp.worker_jobs"


@pytest.fixture
def pool():
    runs = RunPool(workers=2, queue=4, queue_wait_s=0.3, warm=False)
    assert runs.start(wait_s=60)
    yield runs
    runs.shutdown()


def test_jobs_run_in_worker_processes_that_never_import_django(pool):
    import os

    pids = {pool.call(f"{JOBS}:pid", None, limit_s=5) for _ in range(6)}
    assert pids and os.getpid() not in pids and pids <= set(pool.pids())
    assert pool.call(f"{JOBS}:imported_django", None, limit_s=5) is False


def test_a_stuck_run_is_killed_at_its_limit_and_its_worker_replaced(pool):
    before = set(pool.pids())
    started = time.monotonic()
    with pytest.raises(RunKilled):
        pool.call(f"{JOBS}:spin", None, limit_s=0.5)
    assert time.monotonic() - started < 0.5 + KILL_MARGIN_S + 1.0  # bounded: not "whenever it ends"
    assert pool.killed == 1
    assert pool.start(wait_s=30) and pool.live == 2  # the replacement is up
    after = set(pool.pids())
    assert len(after) == 2 and after != before
    assert pool.call(f"{JOBS}:pid", None, limit_s=5) in after


def test_a_crashed_worker_is_an_error_and_is_replaced(pool):
    with pytest.raises(WorkerError) as failed:
        pool.call(f"{JOBS}:crash", None, limit_s=5)
    assert failed.value.kind == "crashed"
    assert pool.start(wait_s=30) and pool.live == 2


def test_past_the_workers_and_the_short_queue_the_answer_is_busy_with_a_retry_after(pool):
    results: list[object] = []

    def occupy() -> None:
        try:
            results.append(pool.call(f"{JOBS}:nap", 1.5, limit_s=5, kind="nap"))
        except Busy as exc:
            results.append(exc)

    threads = [threading.Thread(target=occupy) for _ in range(12)]
    for thread in threads:
        thread.start()
        time.sleep(0.02)
    for thread in threads:
        thread.join()
    refused = [r for r in results if isinstance(r, Busy)]
    served = [r for r in results if not isinstance(r, Busy)]
    assert len(served) == 2  # one per worker: the queue waits 0.3 s, a nap takes 1.5
    assert len(refused) == 10 and all(r.retry_after_s >= 1 for r in refused)
    assert max(r.retry_after_s for r in refused) > min(r.retry_after_s for r in refused)  # spread


def test_a_queue_of_quick_runs_is_served_not_refused():
    pool = RunPool(workers=2, queue=32, queue_wait_s=0.5, warm=False)
    assert pool.start(wait_s=60)
    for _ in range(3):
        pool.call(f"{JOBS}:nap", 0.01, limit_s=5, kind="quick")  # the pool learns they are quick
    results: list[object] = []

    def quick() -> None:
        try:
            results.append(pool.call(f"{JOBS}:nap", 0.01, limit_s=5, kind="quick"))
        except Busy as exc:
            results.append(exc)

    threads = [threading.Thread(target=quick) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pool.shutdown()
    assert not [r for r in results if isinstance(r, Busy)]  # 8 waiting, yet well within 0.5 s of work


def test_inline_mode_runs_in_the_calling_thread():
    import os

    inline = RunPool(workers=0, queue=0, queue_wait_s=0.1, warm=False)
    assert inline.ready()
    assert inline.call(f"{JOBS}:pid", None, limit_s=1) == os.getpid()


def test_a_job_whose_caller_has_gone_gives_its_place_up_and_never_runs(pool):
    from webapp.lab.pool import Abandoned

    blockers = [threading.Thread(target=pool.call, args=(f"{JOBS}:nap", 1.0), kwargs={"limit_s": 5})
                for _ in range(2)]
    for thread in blockers:
        thread.start()
    time.sleep(0.2)  # both workers are napping
    gone = threading.Event()
    threading.Timer(0.1, gone.set).start()
    started = time.monotonic()
    with pytest.raises(Abandoned):
        pool.call(f"{JOBS}:pid", None, limit_s=5, abandoned=gone.is_set)
    assert time.monotonic() - started < 0.3 and pool.abandoned == 1  # did not wait out the queue
    for thread in blockers:
        thread.join()
