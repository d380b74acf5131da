"""Classroom broadcast: how long an instructor's change takes to reach every student.

``python -m bench classroom --students 60 300`` starts its own daphne server
(state under ``var/bench``: its own database and embedded Redis), creates an
instructor, starts a room, lets N students join over HTTP as a browser would and
connects each one's WebSocket, then has the instructor move a slider several
times, as the instructor's page does: its own re-run first, then the change to
the class.  For each change it measures, for every student, the time from the
instructor sending the change until that student received the new state, and
prints one line per N:

    classroom broadcast: students=N p50_ms=X p95_ms=Y delivered=D/T

Target: p95 under 100 ms at 300 students.  The clients run in this one process,
on the same machine as the server, so the figure includes their own time to read
300 sockets.

A second line gives the time from the change until each student has the new
result's HTML: ``--follow push`` (what the pages do) waits for the result the
server sends each socket after the state, rendered once for the room;
``--follow room`` and ``--follow lab`` have each student fetch it instead, from
the room's result (rendered once, but one HTTP request per student) or from the
lab's own endpoint (rendered for each student), for comparison:

    classroom result: students=N follow=push p50_ms=X p95_ms=Y delivered=D/T
"""

from __future__ import annotations

import argparse
import asyncio
import http.cookiejar
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHANGES = 10
PAUSE_S = 0.3
DELIVERY_TIMEOUT_S = 5.0
RESULT_TIMEOUT_S = 60.0
PASSWORD = "bench-" + secrets.token_urlsafe(12)


class Browser:
    """Cookies and CSRF, like one browser tab: enough to log in, start a room and join it."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)

    def get(self, path: str) -> tuple[int, str, dict]:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, form: dict, *, from_page: str | None = None) -> tuple[int, str, dict]:
        _, html, _ = self.get(from_page or path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        data = urllib.parse.urlencode({**form, "csrfmiddlewaretoken": token}).encode()
        return self._open(urllib.request.Request(self.base + path, data=data))

    def cookie(self, name: str) -> str:
        return next((c.value for c in self.jar if c.name == name), "")

    def _open(self, request: urllib.request.Request) -> tuple[int, str, dict]:
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace"), dict(error.headers)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def login_and_start(base: str, user: str, password: str, lesson: str = "batching-async") -> tuple[Browser, str]:
    """An instructor's browser, logged in, and the code of a new room on ``lesson``."""
    browser = Browser(base)
    status, _, _ = browser.post("/en/accounts/login/", {"username": user, "password": password})
    assert status == 302, f"login answered {status}"
    status, _, headers = browser.post("/en/classroom/start/", {"lesson": lesson},
                                      from_page=f"/en/lessons/{lesson}/")
    assert status == 302, f"start answered {status}"
    return browser, headers["Location"].rstrip("/").rsplit("/", 1)[-1]


def join(base: str, code: str, name: str = "") -> Browser:
    browser = Browser(base)
    status, _, _ = browser.post("/en/join/", {"code": code, "name": name})
    assert status == 302, f"join answered {status}"
    return browser


async def open_socket(base: str, code: str, browser: Browser, query: str = "lang=en"):
    from websockets.asyncio.client import connect

    url = base.replace("http://", "ws://") + f"/ws/classroom/{code}/?{query}"
    return await connect(url, additional_headers={"Cookie": f"sessionid={browser.cookie('sessionid')}",
                                                  "Origin": base}, max_queue=None, open_timeout=30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def server(env: dict):
    """A daphne process serving the app, stopped afterwards."""
    port = free_port()
    daphne = Path(sys.executable).with_name("daphne")
    log = open(Path(env["VAR_DIR"]) / f"daphne-{port}.log", "wb")
    process = subprocess.Popen([str(daphne), "-b", "127.0.0.1", "-p", str(port), "webapp.asgi:application"],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"daphne did not start; see {log.name}") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def prepare(env: dict, user: str, password: str) -> None:
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([python, "manage.py", "create_instructor", user, "--password", password], cwd=ROOT, env=env,
                   check=True, stdout=subprocess.DEVNULL)


async def measure(base: str, user: str, password: str, students: int,
                  follow: str = "push") -> tuple[tuple[list[float], int, int], tuple[list[float], int, int]]:
    """(state latencies, delivered, expected) for the broadcast, then the same for the results."""
    teacher, code = login_and_start(base, user, password)
    with ThreadPoolExecutor(max_workers=16) as pool:
        browsers = list(pool.map(lambda i: join(base, code, f"s{i}"), range(students)))
    instructor = await open_socket(base, code, teacher)
    first = json.loads(await instructor.recv())
    sockets = []
    for i in range(0, students, 50):  # connect in waves, as a class arrives
        sockets += await asyncio.gather(*(open_socket(base, code, b) for b in browsers[i:i + 50]))
    for ws in sockets:
        json.loads(await ws.recv())  # each socket's first state
    await _wait_presence(instructor, students)
    params = dict(first["params"])
    latencies: list[float] = []
    delivered = 0
    for change in range(CHANGES):
        value = 10 + change + 1
        params["requests"] = value
        await asyncio.to_thread(_instructors_run, teacher, params)
        sent = time.perf_counter()
        await instructor.send(json.dumps({"type": "set_params", "params": params}))
        arrivals = await asyncio.gather(*(_arrival(ws, value) for ws in sockets))
        for arrived in arrivals:
            if arrived is not None:
                delivered += 1
                latencies.append(arrived - sent)
        await asyncio.sleep(PAUSE_S)
    broadcast = (latencies, delivered, CHANGES * students)

    import httpx  # installed with the OpenAI client; only the bench uses it directly

    results: list[float] = []
    fetched = 0
    url = {"push": "push", "room": f"/en/room/{code}/result/", "lab": "/en/lab/batching/"}[follow]
    limits = httpx.Limits(max_connections=students + 10, max_keepalive_connections=students + 10)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=RESULT_TIMEOUT_S) as http:
        for change in range(CHANGES):
            value = 40 + change + 1
            params["requests"] = value
            await asyncio.to_thread(_instructors_run, teacher, params)
            sent = time.perf_counter()
            await instructor.send(json.dumps({"type": "set_params", "params": params}))
            done = await asyncio.gather(*(_result(http, ws, b, url, value) for ws, b in zip(sockets, browsers)))
            for arrived in done:
                if arrived is not None:
                    fetched += 1
                    results.append(arrived - sent)
            await asyncio.sleep(PAUSE_S)
    await asyncio.gather(*(ws.close() for ws in [instructor, *sockets]))
    return broadcast, (results, fetched, CHANGES * students)


def _instructors_run(teacher: Browser, params: dict) -> None:
    """What the instructor's page does before it tells the class: its own slider's re-run."""
    query = urllib.parse.urlencode({k: ("on" if v is True else "off" if v is False else v) for k, v in params.items()})
    request = urllib.request.Request(f"{teacher.base}/en/lab/batching/?{query}&seed=0",
                                     headers={"HX-Request": "true", "HX-Target": "lab-batching-result"})
    with teacher.opener.open(request, timeout=60) as response:
        response.read()


async def _result(http, ws, browser: Browser, url: str, value: int) -> float | None:
    """When this student had the HTML of the result with requests == value."""
    if url == "push":
        return await _pushed(ws, value)
    if await _arrival(ws, value) is None:
        return None
    query = urllib.parse.urlencode({"requests": value})  # the room answers with its own values anyway
    headers = {"HX-Request": "true", "HX-Target": "lab-batching-result",
               "Cookie": f"sessionid={browser.cookie('sessionid')}"}
    try:
        response = await http.get(f"{url}?{query}", headers=headers)
    except Exception:  # noqa: BLE001 - a failed fetch is a result not delivered
        return None
    if response.status_code != 200 or f"{value} requests".encode() not in response.content:
        return None
    return time.perf_counter()


async def _arrival(ws, value: int) -> float | None:
    """When this socket received the state with requests == value (None if it never came)."""
    try:
        async with asyncio.timeout(DELIVERY_TIMEOUT_S):
            wanted = f'"requests": {value},'
            while True:
                text = await ws.recv()
                if text.startswith('{"type": "state"') and wanted in text:  # no need to parse it all
                    return time.perf_counter()
    except TimeoutError:
        return None


async def _pushed(ws, value: int) -> float | None:
    """When this socket received the result message whose HTML shows requests == value."""
    try:
        async with asyncio.timeout(RESULT_TIMEOUT_S):
            wanted = f"{value} requests"
            while True:
                text = await ws.recv()
                if text.startswith('{"type": "result"') and wanted in text:
                    return time.perf_counter()
    except TimeoutError:
        return None


async def _wait_presence(instructor, students: int) -> None:
    async with asyncio.timeout(30):
        while True:
            message = json.loads(await instructor.recv())
            if message.get("type") == "presence" and message["students"] >= students:
                return


def _figures(latencies: list[float], delivered: int, total: int) -> str:
    p50 = statistics.median(latencies) * 1000 if latencies else float("nan")
    p95 = _p95(latencies) * 1000 if latencies else float("nan")
    return f"p50_ms={p50:.1f} p95_ms={p95:.1f} delivered={delivered}/{total}"


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench classroom")
    parser.add_argument("--students", type=int, nargs="+", default=[60, 300])
    parser.add_argument("--follow", choices=["push", "room", "lab"], default="push",
                        help="how students get the result: sent over their socket (as the pages do), or fetched "
                             "from the room's result or from the lab's own endpoint")
    args = parser.parse_args(argv)
    var_dir = ROOT / "var" / "bench"
    var_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "webapp.settings", "VAR_DIR": str(var_dir),
           "CLASSROOM_JOINS_PER_MINUTE": "100000", "LOG_LEVEL": "WARNING",
           # One address for the whole class: "--follow lab" must measure rendering, not refusals.
           "ADDRESS_RATE_PER_S": "100000", "ADDRESS_BURST": "100000",
           "CLIENT_RATE_PER_S": "100000", "CLIENT_BURST": "100000"}
    env.pop("REDIS_URL", None)  # the server starts its own embedded Redis under var/bench
    user = "bench-" + secrets.token_hex(4)
    prepare(env, user, PASSWORD)
    with server(env) as base:
        for n in args.students:
            broadcast, results = asyncio.run(measure(base, user, PASSWORD, n, args.follow))
            print(f"classroom broadcast: students={n} {_figures(*broadcast)}", flush=True)
            print(f"classroom result: students={n} follow={args.follow} {_figures(*results)}", flush=True)


if __name__ == "__main__":
    main()
