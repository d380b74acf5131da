"""``make run``: start the app's server processes on one address, and keep them running.

    python -m webapp.launch --host 127.0.0.1 --port 8000 [--servers N] [--class-mode]

This process owns the embedded Redis (unless ``REDIS_URL`` is set), binds the
listening socket once, and starts ``N`` server processes (webapp/server.py, i.e.
daphne) that all accept on it; the kernel spreads connections among them.  A
server that dies is started again; killing one loses no result and no state,
since results, rate limits and sessions live in Redis and the database, and
Redis belongs to this process.  Ctrl-C stops everything.

Each server runs fresh simulations in worker processes of its own (one per core
by default, see SIMULATION_WORKERS), so one server already uses every core;
more servers help when rendering pages, not simulating, is the bottleneck.

Class mode (``--class-mode``, or any host that is not loopback such as
``0.0.0.0``): the laptop serves a classroom on its network.  Debug is off, the
static files are collected (compressed, cached for a year), the laptop's own
addresses are accepted as host names, and the URLs students should open are printed.
"""

from __future__ import annotations

import argparse
import ctypes
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from simulations.redis_server import ensure_redis_url
from webapp.netaddr import local_addresses

ROOT = Path(__file__).resolve().parent.parent
_RESTART_PAUSE_S = 0.5
_EARLY_EXIT_S = 10.0  # a server that dies this soon after starting, twice in a row, is not restarted
_prctl = ctypes.CDLL(None, use_errno=True).prctl


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webapp.launch", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--servers", type=int, default=int(os.environ.get("SERVERS", "1") or 1))
    parser.add_argument("--class-mode", action="store_true", help="serve a classroom (implied by a non-loopback host)")
    args = parser.parse_args(argv)
    if args.servers < 1:
        parser.error("--servers must be at least 1")
    try:
        host = _ipv4(args.host)
    except ValueError as exc:
        parser.error(str(exc))
    class_mode = args.class_mode or not ipaddress.ip_address(host).is_loopback

    env = dict(os.environ)
    if class_mode:
        env["CLASS_MODE"] = "true"
    var_dir = Path(env.get("VAR_DIR", ROOT / "var"))
    os.environ.update(env)
    env["REDIS_URL"] = ensure_redis_url(var_dir)  # owned here: it outlives any one server
    if class_mode:
        _collect_static(env)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, args.port))
    listener.listen(1024)
    listener.set_inheritable(True)
    port = listener.getsockname()[1]

    servers = [_Server(i, listener.fileno(), env) for i in range(args.servers)]
    _banner(host, port, class_mode, args.servers)
    stopping = False

    def stop(signum, frame):  # noqa: ARG001
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    status = 0
    try:
        while not stopping:
            for server in servers:
                code = server.process.poll()
                if code is None or stopping:
                    continue
                if server.failing_at_start():
                    print(f"server {server.index} keeps exiting at start-up (status {code}); stopping",
                          file=sys.stderr, flush=True)
                    stopping, status = True, code or 1
                    break
                print(f"server {server.index} (pid {server.process.pid}) exited with {code}; starting it again",
                      file=sys.stderr, flush=True)
                time.sleep(_RESTART_PAUSE_S)
                server.start()
            time.sleep(0.2)
    finally:
        for server in servers:
            server.stop()
        listener.close()
    return status


class _Server:
    def __init__(self, index: int, fd: int, env: dict[str, str]) -> None:
        self.index, self.fd, self.env = index, fd, env
        self.early_exits = 0
        self.start()

    def start(self) -> None:
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "webapp.server", "--fd", str(self.fd), "webapp.asgi:application"],
            cwd=ROOT, env=self.env, pass_fds=(self.fd,), preexec_fn=_die_with_parent)

    def failing_at_start(self) -> bool:
        if time.monotonic() - self.started < _EARLY_EXIT_S:
            self.early_exits += 1
        else:
            self.early_exits = 0
        return self.early_exits >= 2

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _die_with_parent() -> None:
    _prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: a server never outlives this launcher


def _ipv4(host: str) -> str:
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"HOST must be an IPv4 address such as 127.0.0.1 or 0.0.0.0, got {host!r}") from None
    if address.version != 4:
        raise ValueError(f"HOST must be an IPv4 address (the servers share one IPv4 socket), got {host!r}")
    return host


def _collect_static(env: dict[str, str]) -> None:
    print("Collecting and compressing the static files for the class…", flush=True)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
                   cwd=ROOT, env=env, check=True)


def _banner(host: str, port: int, class_mode: bool, servers: int) -> None:
    shown = "127.0.0.1" if ipaddress.ip_address(host).is_unspecified else host
    lines = [f"LLM Ops Lab on http://{shown}:{port}/  ({servers} server process{'es' if servers > 1 else ''}; "
             "Ctrl-C stops it, and the embedded Redis with it)"]
    if class_mode:
        addresses = [a for a in local_addresses() if ":" not in a] if ipaddress.ip_address(host).is_unspecified \
            else [host]
        if addresses:
            lines.append("Students open:")
            lines += [f"    http://{address}:{port}/" for address in addresses]
        else:
            lines.append("No network address found: students cannot reach this machine yet.")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
