"""The embedded Redis, supervised: for real, with its own var dir per test (never the session's server)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import redis

from simulations.redis_server import EmbeddedRedis

ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate, timeout_s: float):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    return None


def servers_on(socket: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if b"redis-server" in cmdline and str(socket).encode() in cmdline and state != "Z":
                found.append(int(entry.name))
    return found


@pytest.fixture
def embedded(tmp_path):
    server = EmbeddedRedis(tmp_path / "var", check_interval_s=0.1)
    server.ensure()
    yield server
    server.stop()


def test_a_killed_server_is_reaped_and_started_again(embedded):
    old = embedded.pid
    os.kill(old, signal.SIGKILL)
    new = wait_for(lambda: embedded.pid not in (None, old) and embedded.answers() and embedded.pid, 5)
    assert new and embedded.restarts == 1
    assert wait_for(lambda: not Path(f"/proc/{old}").exists(), 2)  # reaped, not left a zombie
    assert servers_on(embedded.socket) == [new]


def test_a_hung_server_is_waited_for_not_replaced(embedded):
    pid = embedded.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(1.0)  # ten supervision rounds
        assert embedded.pid == pid and embedded.restarts == 0 and servers_on(embedded.socket) == [pid]
    finally:
        os.kill(pid, signal.SIGCONT)
    assert wait_for(embedded.answers, 5)


def test_limits_memory_with_an_eviction_policy_for_a_cache(embedded):
    config = redis.Redis(unix_socket_path=str(embedded.socket)).config_get("maxmemory*")
    assert int(config["maxmemory"]) > 0 and config["maxmemory-policy"] == "volatile-lru"


_USER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from simulations import redis_server
    url = redis_server.ensure_redis_url(Path(sys.argv[1]))
    print("owner" if redis_server.embedded().owner else "user", flush=True)
    while True:
        time.sleep(0.1)
""")


def start_user(var_dir: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    return subprocess.Popen([sys.executable, "-c", _USER, str(var_dir)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, text=True)


def test_two_processes_racing_start_one_server_and_the_survivor_takes_over_with_the_data(tmp_path):
    var_dir = tmp_path / "var"
    first, second = start_user(var_dir), start_user(var_dir)
    try:
        roles = {first: first.stdout.readline().strip(), second: second.stdout.readline().strip()}
        assert sorted(roles.values()) == ["owner", "user"]
        socket = var_dir / "redis.sock"
        assert len(servers_on(socket)) == 1
        client = redis.Redis(unix_socket_path=str(socket), socket_timeout=1)
        client.set("llmops-test:kept", "yes")

        owner = next(p for p, role in roles.items() if role == "owner")
        survivor = second if owner is first else first
        old = servers_on(socket)[0]
        owner.kill()  # its server gets SIGTERM from the kernel, writes its snapshot and exits
        owner.wait()
        taken = wait_for(lambda: (pids := servers_on(socket)) and pids[0] != old and pids, 10)
        assert taken and len(taken) == 1, "the surviving process did not start Redis again"
        assert wait_for(lambda: _get(socket, "llmops-test:kept") == b"yes", 5)
        assert survivor.poll() is None
    finally:
        for process in (first, second):
            process.kill()
            process.wait()
    assert wait_for(lambda: not servers_on(var_dir / "redis.sock"), 10)  # gone with the last owner


def _get(socket: Path, key: str) -> bytes | None:
    try:
        return redis.Redis(unix_socket_path=str(socket), socket_timeout=1).get(key)
    except redis.RedisError:
        return None
