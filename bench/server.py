"""A server for a benchmark: the launcher of `make run`, on 127.0.0.1 only, with a var dir of its own.

Its Redis and database are its own (under bench/out/), so a benchmark starts
from an empty result cache and leaves the developer's var/ alone.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def loopback_only(url: str) -> str:
    """Benchmarks load this machine only: refuse any other address."""
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SystemExit(f"benchmarks target 127.0.0.1 only, not {host!r}")
    return url.rstrip("/")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(var_dir: Path, overrides: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "VAR_DIR", "DJANGO_SETTINGS_MODULE"}}
    env.update({"VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "webapp.settings", "LOG_LEVEL": "WARNING"})
    env.update(overrides)
    return env


@contextlib.contextmanager
def started(*, servers: int = 1, class_mode: bool = True, label: str = "server",
            **settings: str) -> Iterator[str]:
    """Yield the base URL of a fresh launcher; stop it (and its Redis) afterwards."""
    var_dir = OUT / f"var-{label}-{os.getpid()}"
    shutil.rmtree(var_dir, ignore_errors=True)
    var_dir.mkdir(parents=True)
    env = _env(var_dir, settings)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT,
                   env={**env, "REDIS_URL": "redis://127.0.0.1:1/0"}, check=True)
    port = _free_port()
    args = [sys.executable, "-m", "webapp.launch", "--host", "127.0.0.1", "--port", str(port),
            "--servers", str(servers)] + (["--class-mode"] if class_mode else [])
    log = (var_dir / "launch.log").open("wb")
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, var_dir)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        shutil.rmtree(var_dir, ignore_errors=True)


def _wait_healthy(url: str, process: subprocess.Popen, var_dir: Path, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited:\n{(var_dir / 'launch.log').read_text(errors='replace')}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        time.sleep(0.3)
    raise SystemExit(f"{url} was not healthy within {timeout_s:g} s")
