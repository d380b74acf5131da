"""Real servers for the tests that need them: the launcher of `make run`, each with a var dir of its own.

A server started here owns its embedded Redis (it does not share the test
process's), so a test may kill, stop or restart that Redis, or kill one of the
server processes, without disturbing any other test.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_MIGRATED: Path | None = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE", "VAR_DIR", "PYTEST_CURRENT_TEST"}}
    env.update({"DJANGO_SETTINGS_MODULE": "webapp.settings", "VAR_DIR": str(var_dir), "LOG_LEVEL": "WARNING"})
    env.update(overrides)
    return env


def migrated_database(tmp_root: Path) -> Path:
    """A database file with every migration applied, made once per test session and copied."""
    global _MIGRATED
    if _MIGRATED is None or not _MIGRATED.exists():
        template = tmp_root / "migrated"
        template.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT,
                       env=base_env(template, REDIS_URL="redis://127.0.0.1:1/0"), check=True, timeout=300)
        _MIGRATED = template / "db.sqlite3"
    return _MIGRATED


@dataclass
class Server:
    url: str
    port: int
    var_dir: Path
    process: subprocess.Popen
    log_path: Path
    children: list[int] = field(default_factory=list)

    def get(self, path: str, *, headers: dict[str, str] | None = None, timeout: float = 30.0
            ) -> tuple[int, Message, bytes]:
        return http_get(self.url + path, headers=headers, timeout=timeout)

    def health(self) -> tuple[int, dict]:
        status, _, body = self.get("/healthz", timeout=5)
        return status, json.loads(body or b"{}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def server_pids(self) -> list[int]:
        """The launcher's server processes (webapp.server), not its Redis."""
        return [pid for pid in _children(self.process.pid) if b"webapp.server" in _cmdline(pid)]

    def redis_pid(self) -> int:
        return int((self.var_dir / "redis.pid").read_text())


def http_get(url: str, *, headers: dict[str, str] | None = None, timeout: float = 30.0
             ) -> tuple[int, Message, bytes]:
    """Status, headers (``headers.get_all("Set-Cookie")`` for repeated ones) and body."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@contextlib.contextmanager
def launched(tmp_path: Path, *, servers: int = 1, host: str = "127.0.0.1", class_mode: bool = False,
             timeout_s: float = 120.0, **env: str) -> Iterator[Server]:
    """Run ``python -m webapp.launch`` on a free port with its own var dir; stop it afterwards."""
    var_dir = tmp_path / f"var-{free_port()}"
    var_dir.mkdir(parents=True)
    shutil.copy(migrated_database(tmp_path.parent), var_dir / "db.sqlite3")
    port = free_port()
    log_path = var_dir / "launch.log"
    log = log_path.open("wb")
    args = [sys.executable, "-m", "webapp.launch", "--host", host, "--port", str(port), "--servers", str(servers)]
    if class_mode:
        args.append("--class-mode")
    process = subprocess.Popen(args, cwd=ROOT, env=base_env(var_dir, **env), stdout=log, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", port, var_dir, process, log_path)
    try:
        wait_until_healthy(server, timeout_s)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_until_healthy(server: Server, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the launcher exited early:\n{server.log()}")
        try:
            if server.health()[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{server.url} was not healthy within {timeout_s} s:\n{server.log()}")


def wait_for(predicate, timeout_s: float, interval_s: float = 0.05):
    """The first truthy value of ``predicate()`` within ``timeout_s``, else None."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            value = predicate()
            if value:
                return value
        time.sleep(interval_s)
    return None


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
