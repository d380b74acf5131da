"""A burst of fresh runs against a real server: nobody is blamed, nothing waits past the bound.

The server is the one `make run` starts (webapp/launch.py), with its worker
processes and its own Redis.  The figures asserted are bounds that follow from
the settings (queue wait + run limit + kill margin), not speeds.
"""

from __future__ import annotations

import random
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.servers import launched
from webapp.lab.pool import KILL_MARGIN_S

QUEUE_WAIT_S = 1.0
LAB = "/en/lab/caching-comparison/"
HTMX = {"HX-Request": "true", "HX-Target": "lab-caching-comparison-result"}


def bound_s(limit_s: float) -> float:
    """The longest answer the settings allow, plus rendering and HTTP on a machine other work shares."""
    return QUEUE_WAIT_S + limit_s + KILL_MARGIN_S + 3.0


def serve(tmp_path_factory, limit_s: int):
    return launched(tmp_path_factory.mktemp("overload"), SIMULATION_WALL_LIMIT_S=str(limit_s),
                    SIMULATION_QUEUE_WAIT_S=str(QUEUE_WAIT_S), SIMULATION_WORKERS="2",
                    ADDRESS_RATE_PER_S="1000", ADDRESS_BURST="10000")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory, 5) as running:
        yield running


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory):
    """A one-second limit: the heaviest runs cannot finish in it, on any machine."""
    with serve(tmp_path_factory, 1) as running:
        yield running


def timed(server, path, headers=None):
    started = time.monotonic()
    status, headers_out, body = server.get(path, headers=headers, timeout=60)
    return status, headers_out, body.decode(), time.monotonic() - started


def test_forty_students_at_once_get_results_or_a_calm_retry_never_blame(server):
    bound = bound_s(5)
    seeds = random.sample(range(10**9), 40)
    server.get(LAB)  # the defaults, now cached
    side: dict[str, tuple] = {}

    def meanwhile() -> None:
        time.sleep(0.3)  # while the burst queues
        side["health"] = timed(server, "/healthz")
        side["cached"] = timed(server, LAB, HTMX)

    watcher = threading.Thread(target=meanwhile)
    watcher.start()
    with ThreadPoolExecutor(40) as pool:
        answers = list(pool.map(lambda seed: timed(server, f"{LAB}?seed={seed}", HTMX), seeds))
    watcher.join()

    statuses = [a[0] for a in answers]
    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(200) >= 2
    for status, headers, body, elapsed in answers:
        assert elapsed < bound, f"{status} after {elapsed:.1f} s"
        assert "try fewer" not in body
        if status == 503:
            assert int(headers["Retry-After"]) >= 1
            assert "Retrying in" in body and 'hx-trigger="load delay:' in body
    # The queue is for fresh runs: while it refuses them, health and a cached result are served.
    assert side["health"][0] == 200 and side["health"][3] < bound
    assert side["cached"][0] == 200 and side["cached"][3] < bound

    # Every refused student, retrying when told as the page does, gets a result.
    waiting = {seed: int(a[1]["Retry-After"]) for seed, a in zip(seeds, answers) if a[0] == 503}
    deadline = time.monotonic() + 90
    while waiting and time.monotonic() < deadline:
        due = min(waiting.values())
        time.sleep(1)
        ready = [seed for seed, after in waiting.items() if after <= due]
        with ThreadPoolExecutor(len(ready)) as pool:
            retried = list(pool.map(lambda seed: timed(server, f"{LAB}?seed={seed}", HTMX), ready))
        for seed, (status, headers, body, elapsed) in zip(ready, retried):
            assert elapsed < bound and "try fewer" not in body
            if status == 200:
                del waiting[seed]
            else:
                assert status == 503
                waiting[seed] = due + int(headers["Retry-After"])
        waiting = {seed: after - due for seed, after in waiting.items()}
    assert not waiting, f"{len(waiting)} students never got a result"

    metrics = server.get("/metrics")[2].decode()
    assert re.search(r'llmopslab_simulation_runs_total\{component="caching-comparison",outcome="busy"\} [1-9]',
                     metrics)


def test_runs_too_big_are_stopped_at_the_limit_whatever_the_load(strict_server):
    server, bound = strict_server, bound_s(1)
    seeds = random.sample(range(10**9), 10)
    heavy = "?requests=300&distinct_intents=60&concurrency=64&seed={}"
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda seed: timed(server, LAB + heavy.format(seed), HTMX), seeds))
    for status, headers, body, elapsed in answers:
        assert status in {200, 400, 503}
        assert elapsed < bound, f"{status} after {elapsed:.1f} s: the limit did not bound the request"
        if status == 400:
            assert "try fewer requests" in body  # too big on its own: the learner can change that
    assert any(a[0] == 400 for a in answers)
