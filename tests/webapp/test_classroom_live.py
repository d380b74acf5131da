"""A classroom on real daphne processes sharing one Redis and one database.

Two processes at once: the instructor on one, students on the other, and the
students see the instructor's changes.  A restart: the room, its values and its
answers come back from the database, and a reconnecting client resyncs.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys

import pytest

from bench.classroom import join, login_and_start, open_socket
from tests.browser.harness import ROOT, daphne_server

PASSWORD = "live-" + secrets.token_urlsafe(10)

# Three server starts take most of a minute on a busy machine: `make test-long` and CI run it.
pytestmark = pytest.mark.long


@pytest.fixture(scope="module")
def instructor() -> str:
    """An instructor in the database the servers use (tests.settings: var/test), migrated first."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    name = "live-" + secrets.token_hex(4)
    script = ("from django.core.management import call_command as c; c('migrate', verbosity=0); "
              f"c('create_instructor', {name!r}, password={PASSWORD!r})")
    subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return name


async def _next(ws, kind: str, timeout: float = 10) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == kind:
                return message


def test_two_processes_share_a_room_and_a_restart_loses_nothing(instructor):
    with daphne_server() as second:
        with daphne_server() as first:
            two_processes(first, second, instructor)
            code, teacher, student, last = teach(first, instructor)
        # The first server is gone; a new one starts on the same database and Redis.
        with daphne_server() as after:
            asyncio.run(resume(after, code, teacher, student, last))


def two_processes(first: str, second: str, instructor: str) -> None:
    """The instructor on one process, students on the other: the students see the changes."""
    teacher, code = login_and_start(first, instructor, PASSWORD)
    students = [join(second, code, f"s{i}") for i in range(3)]

    async def scenario() -> None:
        lead = await open_socket(first, code, teacher)
        state = await _next(lead, "state")
        class_ = [await open_socket(second, code, s) for s in students]
        for ws in class_:
            await _next(ws, "state")
        while (await _next(lead, "presence"))["students"] != 3:  # counted across processes
            pass
        await lead.send(json.dumps({"type": "set_params", "params": {**state["params"], "requests": 33},
                                    "seed": 5}))
        for ws in class_:
            seen = await _next(ws, "state")
            assert seen["params"]["requests"] == 33 and seen["seed"] == 5
            assert seen["version"] == state["version"] + 1
        await class_[0].send(json.dumps({"type": "set_mode", "mode": "student"}))
        assert (await _next(class_[0], "error"))["code"] == "forbidden"
        for ws in [lead, *class_]:
            await ws.close()

    asyncio.run(scenario())


def teach(server: str, instructor: str):
    teacher, code = login_and_start(server, instructor, PASSWORD)
    student = join(server, code, "Mei")

    async def lesson() -> dict:
        lead = await open_socket(server, code, teacher)
        state = await _next(lead, "state")
        mei = await open_socket(server, code, student)
        await _next(mei, "state")
        await lead.send(json.dumps({"type": "set_params", "params": {**state["params"], "requests": 21}}))
        await _next(mei, "state")
        await lead.send(json.dumps({"type": "ask", "prompt": "How much faster?", "metric": "speedup_abatch"}))
        asked = await _next(mei, "state")
        await mei.send(json.dumps({"type": "answer", "value": "3.5"}))
        await _next(mei, "ok")
        await lead.send(json.dumps({"type": "set_mode", "mode": "student"}))
        final = await _next(mei, "state")
        assert asked["activity"]["kind"] == "predict"
        return final

    return code, teacher, student, asyncio.run(lesson())


async def resume(after: str, code: str, teacher, student, last: dict) -> None:
    mei = await open_socket(after, code, student)
    state = await _next(mei, "state")
    for key in ("version", "mode", "params", "seed", "lesson", "component"):
        assert state[key] == last[key], key
    assert state["activity"]["prompt"] == "How much faster?"
    assert state["activity"]["tally"]["answers"] == 1
    assert state["you"]["answer"] == 3.5  # the student's own answer survives too
    lead = await open_socket(after, code, teacher)
    assert (await _next(lead, "state"))["you"]["role"] == "instructor"  # the login survives
    await lead.send(json.dumps({"type": "reveal"}))
    revealed = await _next(mei, "state")
    assert revealed["activity"]["revealed"] and revealed["activity"]["tally"]["truth"] > 0
    await mei.close()
    await lead.close()
