"""Processes and deployment, for real: two servers on one address, class mode, production checks."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.servers import ROOT, base_env, free_port, launched, wait_for
from webapp.netaddr import local_addresses, local_hosts

LAB = "/en/lab/batching/"
HTMX = {"HX-Request": "true", "HX-Target": "lab-batching-result"}
PRODUCTION = {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "x" * 20 + "-production-key-for-tests-" + "y" * 20,
              "ALLOWED_HOSTS": "lab.example.edu", "REDIS_URL": "redis://127.0.0.1:1/0"}


def _shell(server, script: str) -> str:
    """Run ``script`` in a Django shell on the server's own database and Redis; its printed output."""
    env = base_env(server.var_dir)
    done = subprocess.run([sys.executable, "manage.py", "shell", "-v", "0", "-c", script], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def _join(server, code: str) -> str:
    """A student joins the room over HTTP, as the join form does; their session cookie."""
    status, headers, body = server.get(f"/en/join/{code}/")
    assert status == 200
    csrf = next(re.match(r"csrftoken=([^;]+)", c).group(1) for c in headers.get_all("Set-Cookie")
                if c.startswith("csrftoken="))
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "code": code, "name": "Mei"}).encode()
    request = urllib.request.Request(server.url + "/en/join/", data=form, method="POST", headers={
        "Cookie": f"csrftoken={csrf}", "Referer": server.url + f"/en/join/{code}/",
        "Content-Type": "application/x-www-form-urlencoded"})

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        urllib.request.build_opener(Stay).open(request, timeout=30)
    except urllib.error.HTTPError as answer:
        assert answer.code == 302 and answer.headers["Location"].endswith(f"/room/{code}/"), answer.code
        return next(re.match(r"sessionid=([^;]+)", c).group(1) for c in answer.headers.get_all("Set-Cookie")
                    if c.startswith("sessionid="))
    raise AssertionError("joining did not redirect to the room")


def test_two_servers_on_one_address_lose_nothing_when_one_is_killed(tmp_path):
    """A result, a learner's session and allowance, and a classroom outlive the process that served them."""
    with launched(tmp_path, servers=2, CLIENT_RATE_PER_S="0.01", CLIENT_BURST="5") as server:
        assert wait_for(lambda: len(server.server_pids()) == 2, 30)
        seed = random.randrange(10**9)
        status, _, body = server.get(f"{LAB}?seed={seed}", headers=HTMX)
        assert status == 200 and "served from the result cache" not in body.decode()
        # A learner's session (in the database) and their allowance (in Redis): 1 page + 3 re-runs of 5.
        status, headers, _ = server.get(LAB)
        cookie = next(re.match(r"sessionid=([^;]+)", c).group(1) for c in headers.get_all("Set-Cookie")
                      if c.startswith("sessionid="))
        learner = {**HTMX, "Cookie": f"sessionid={cookie}"}
        assert [server.get(f"{LAB}?seed={seed + i}", headers=learner)[0] for i in (1, 2, 3)] == [200] * 3
        # A class: the instructor's room at their values, and a student who joined it over HTTP.
        code = _shell(server, (
            "from django.contrib.auth import get_user_model; from webapp.classroom import rooms; "
            "u = get_user_model().objects.create_user('teacher', password='x' * 20); "
            "r = rooms.create_room(u, component_name='batching'); print(r.code)"))
        student = _join(server, code)
        _shell(server, f"from webapp.classroom import rooms; rooms.set_params(rooms.get_room({code!r}), "
                       "{'requests': '25'}, seed=3)")

        victim = server.server_pids()[0]
        os.kill(victim, signal.SIGKILL)
        for _ in range(4):  # whichever server answers, it finds the result and the state
            status, _, body = server.get(f"{LAB}?seed={seed}", headers=HTMX)
            assert status == 200 and "served from the result cache" in body.decode()
        assert [server.get(f"{LAB}?seed={seed + i}", headers=learner)[0] for i in (4, 5, 6)] == [200, 200, 429]
        for _ in range(4):  # the student is still in the room, at the instructor's values
            status, _, body = server.get(f"/en/room/{code}/", headers={"Cookie": f"sessionid={student}"})
            assert status == 200
            assert re.search(r'<input[^>]*id="batching-requests"[^>]*>', body.decode()).group(0).count('value="25"')
        socket_url = server.url.replace("http", "ws") + f"/ws/classroom/{code}/"
        for _ in range(4):  # and their socket, on whichever server, gets the room as it is
            with connect(socket_url, origin=server.url, additional_headers={"Cookie": f"sessionid={student}"}) as ws:
                state = json.loads(ws.recv(timeout=10))
            assert state["type"] == "state" and state["params"]["requests"] == 25 and state["seed"] == 3
            assert state["you"]["role"] == "student" and state["you"]["name"] == "Mei"
        replaced = wait_for(lambda: len(pids := server.server_pids()) == 2 and victim not in pids, 60)
        assert replaced, "the launcher did not start the killed server again"
        assert "exited with -9; starting it again" in server.log()


def test_class_mode_accepts_the_laptops_addresses_and_serves_static_files_compressed(tmp_path):
    with launched(tmp_path, host="0.0.0.0") as server:  # `make run HOST=0.0.0.0`: class mode, implied
        printed = server.log()
        assert "Students open:" in printed
        for address in [a for a in local_addresses() if ":" not in a]:
            assert f"    http://{address}:{server.port}/" in printed
        for host in local_hosts()[:2]:
            status, _, _ = server.get("/en/", headers={"Host": f"{host}:{server.port}"})
            assert status == 200, host
        assert server.get("/en/", headers={"Host": "evil.example"})[0] == 400
        page = server.get("/en/lab/batching/")[2].decode()
        script = re.search(r'src="(/static/plotly/plotly\.min\.[0-9a-f]{12}\.js)"', page).group(1)
        status, headers, body = server.get(script, headers={"Accept-Encoding": "gzip"})
        assert status == 200 and headers["Content-Encoding"] == "gzip"
        assert len(body) < 0.4 * os.path.getsize(server.var_dir / "static" / script.removeprefix("/static/"))
        assert "max-age=315360000" in headers["Cache-Control"] and "immutable" in headers["Cache-Control"]
        assert server.get("/metrics")[0] == 200  # the laptop itself may scrape
        assert "Traceback" not in server.get("/en/no-such-page/")[2].decode()  # debug is off


def test_the_launcher_prints_the_address_students_should_open(capsys, monkeypatch):
    from webapp import launch

    monkeypatch.setattr(launch, "local_addresses", lambda: ["192.168.1.23", "fd00::2"])
    launch._banner("0.0.0.0", 8000, True, 1)
    printed = capsys.readouterr().out
    assert "Students open:" in printed and "http://192.168.1.23:8000/" in printed
    assert "fd00::2" not in printed  # the servers listen on IPv4


def test_a_production_start_without_collectstatic_fails_loudly(tmp_path):
    env = base_env(tmp_path, **PRODUCTION)
    started = subprocess.run([sys.executable, "-m", "webapp.server", "-p", str(free_port()),
                              "webapp.asgi:application"], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=120)
    assert started.returncode != 0
    assert "The static files were never collected" in started.stdout + started.stderr
    assert "collectstatic" in started.stdout + started.stderr


def test_production_settings_pass_check_deploy_without_a_warning(tmp_path):
    checked = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                             cwd=ROOT, env=base_env(tmp_path, **PRODUCTION), capture_output=True, text=True,
                             timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "System check identified no issues" in checked.stdout


@pytest.fixture(scope="module")
def socket_server(tmp_path_factory):
    with launched(tmp_path_factory.mktemp("sockets")) as server:
        yield server


def test_a_frame_over_the_servers_cap_is_closed_with_1009_not_dropped(socket_server):
    url = socket_server.url.replace("http", "ws") + "/ws/stream/"
    with connect(url, origin=socket_server.url, max_size=None) as socket:
        socket.send("x" * (2 * 1024 * 1024))
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_an_unknown_socket_path_is_refused_with_403(socket_server):
    url = socket_server.url.replace("http", "ws") + "/ws/no-such-thing/"
    with pytest.raises(InvalidStatus) as refused:
        connect(url, origin=socket_server.url)
    assert refused.value.response.status_code == 403
