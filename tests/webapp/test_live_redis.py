"""Redis failing under a real server: killed (restarted by its supervisor), hung (SIGSTOP), gone and back.

Each server here owns its embedded Redis, or uses an external one started by
the test, so killing or stopping it disturbs no other test.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
import redis

from simulations.redis_server import _server_binary
from tests.servers import launched, wait_for

CACHING = "/en/lab/caching-comparison/"
CACHING_HTMX = {"HX-Request": "true", "HX-Target": "lab-caching-comparison-result"}
BATCHING_HTMX = {"HX-Request": "true", "HX-Target": "lab-batching-result"}


def fresh() -> int:
    return random.randrange(10**9)


def timed(server, path, headers=None):
    started = time.monotonic()
    status, headers_out, body = server.get(path, headers=headers, timeout=30)
    return status, headers_out, body.decode(), time.monotonic() - started


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _exists(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with launched(tmp_path_factory.mktemp("redis")) as running:
        yield running


def test_a_killed_embedded_redis_is_restarted_reaped_and_the_app_recovers(server):
    old = server.redis_pid()
    os.kill(old, signal.SIGKILL)
    new = wait_for(lambda: (pid := server.redis_pid()) != old and _alive(pid) and pid, 5)
    assert new, "the supervisor did not start Redis again within 5 s"
    assert wait_for(lambda: not _exists(old), 5), "the dead server was left a zombie"
    assert wait_for(lambda: server.health()[0] == 200, 5)
    status, _, body, _ = timed(server, f"{CACHING}?seed={fresh()}", CACHING_HTMX)
    assert status == 200 and "Live results are paused" not in body


def test_a_hung_redis_costs_a_request_about_a_second_and_pages_keep_teaching(server):
    pid = server.redis_pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        status, _, body, elapsed = timed(server, "/healthz")
        assert status == 503 and json.loads(body)["redis"].startswith("down") and elapsed < 2.5
        status, _, body, elapsed = timed(server, f"/en/lab/batching/?seed={fresh()}", BATCHING_HTMX)
        assert status == 200 and "computed without the result cache" in body and elapsed < 2.5
        status, headers, body, elapsed = timed(server, f"{CACHING}?seed={fresh()}", CACHING_HTMX)
        assert status == 503 and int(headers["Retry-After"]) >= 1 and elapsed < 2.5
        assert "Live results are paused" in body
        status, _, body, elapsed = timed(server, f"/en/lessons/caching-basics/?seed={fresh()}")
        assert status == 200 and "Live results are paused" in body and elapsed < 2.5
        status, _, _, elapsed = timed(server, "/metrics")
        assert status == 503 and elapsed < 2.5
    finally:
        os.kill(pid, signal.SIGCONT)
    assert wait_for(lambda: timed(server, "/healthz")[0] == 200, 5), "not back within 5 s of Redis"
    assert wait_for(lambda: timed(server, f"{CACHING}?seed={fresh()}", CACHING_HTMX)[0] == 200, 5)
    assert server.redis_pid() == pid  # a hung server is waited for, not replaced


def _start_redis(socket: Path, directory: Path) -> subprocess.Popen:
    process = subprocess.Popen([_server_binary(), "--port", "0", "--unixsocket", str(socket), "--save", "",
                                "--dir", str(directory), "--logfile", str(directory / "external.log")])
    probe = redis.Redis(unix_socket_path=str(socket), socket_timeout=1)
    assert wait_for(lambda: socket.exists() and probe.ping(), 10)
    return process


def test_an_external_redis_that_goes_away_and_comes_back(tmp_path):
    socket = tmp_path / "external.sock"
    external = _start_redis(socket, tmp_path)
    try:
        with launched(tmp_path, REDIS_URL=f"unix://{socket}") as server:
            seed = fresh()
            assert timed(server, f"{CACHING}?seed={seed}", CACHING_HTMX)[0] == 200
            external.kill()
            external.wait()
            status, _, body, elapsed = timed(server, "/healthz")
            assert status == 503 and json.loads(body)["redis"].startswith("down") and elapsed < 2.5
            status, headers, body, _ = timed(server, f"{CACHING}?seed={fresh()}", CACHING_HTMX)
            assert status == 503 and "Retry-After" in headers and "Live results are paused" in body
            status, _, body, _ = timed(server, f"/en/lab/batching/?seed={fresh()}", BATCHING_HTMX)
            assert status == 200 and "computed without the result cache" in body
            assert timed(server, "/metrics")[0] == 503

            external = _start_redis(socket, tmp_path)  # an empty Redis, as after an operator's restart
            assert wait_for(lambda: timed(server, "/healthz")[0] == 200, 5), "not back within 5 s of Redis"
            assert wait_for(lambda: timed(server, f"{CACHING}?seed={seed}", CACHING_HTMX)[0] == 200, 5)
    finally:
        external.kill()
        external.wait()
