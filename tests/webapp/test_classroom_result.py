"""The room's result, as the pages following the instructor fetch it: rendered once for the class.

Every registered component, the deferred part of a slow one batch by batch, the
room's own values whatever the query, members only, and no learner's rate limit.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from django.test import Client, override_settings

from simulations import registry
from webapp.classroom import rooms, views
from webapp.lab import limits as lab_limits

from .classroom_helpers import fresh_limits, make_instructor, student_session  # noqa: F401

pytestmark = pytest.mark.django_db


def _follower(room, name: str = "") -> Client:
    client = Client()
    client.cookies["sessionid"] = student_session(room, name)
    return client


def _fetch(client: Client, url: str, target: str):
    return client.get(url, headers={"HX-Request": "true", "HX-Target": target})


def _room_on(component: str, preset: str = ""):
    teacher = make_instructor("ada")
    room = rooms.create_room(teacher, "", component)
    if preset:
        room = rooms.set_params(room, {}, preset=preset)
    return teacher, room


@pytest.fixture(autouse=True)
def empty_render_cache():
    views._rendered.clear()
    yield
    views._rendered.clear()


@pytest.mark.parametrize("component", sorted(registry.COMPONENTS))
def test_every_component_answers_a_follower_with_the_rooms_result(component):
    _, room = _room_on(component)
    client = _follower(room)
    response = _fetch(client, f"/en/room/{room.code}/result/?{rooms.query_for(room.params, room.seed)}",
                      f"lab-{component}-result")
    html = response.content.decode()
    assert response.status_code == 200, html[:500]
    assert f'id="lab-{component}-result"' in html and f'id="lab-{component}-status"' in html
    assert 'data-state="result"' in html
    assert f'/en/room/{room.code}/result/?' in html  # its link goes through the room, to the lab's page


def test_the_room_serves_its_own_values_whatever_the_query_asks():
    _, room = _room_on("batching")
    room = rooms.set_params(room, {"requests": "17"})
    client = _follower(room)
    html = _fetch(client, f"/en/room/{room.code}/result/?requests=3&seed=9", "lab-batching-result").content.decode()
    assert "17 requests" in html and "3 requests" not in html
    # Without a query too: what a status line retrying with a locked (disabled) form sends.
    html = _fetch(client, f"/en/room/{room.code}/result/", "lab-batching-result").content.decode()
    assert "17 requests" in html


def test_a_class_following_one_change_renders_it_once(monkeypatch):
    _, room = _room_on("batching")
    room = rooms.set_params(room, {"requests": "21"})
    built = []
    real = views.build_panel
    monkeypatch.setattr(views, "build_panel", lambda *a, **k: built.append(a) or real(*a, **k))
    query = rooms.query_for(room.params, room.seed)
    bodies = {_fetch(_follower(room), f"/en/room/{room.code}/result/?{query}", "lab-batching-result").content
              for _ in range(12)}
    assert len(built) == 1 and len(bodies) == 1
    # Another language is another rendering; another change another again.
    _fetch(_follower(room), f"/zh-hans/room/{room.code}/result/?{query}", "lab-batching-result")
    rooms.set_params(room, {"requests": "22"})
    _fetch(_follower(room), f"/en/room/{room.code}/result/", "lab-batching-result")
    assert len(built) == 3


def test_only_the_class_may_ask_and_a_link_opens_the_labs_page():
    teacher, room = _room_on("batching")
    assert _fetch(Client(), f"/en/room/{room.code}/result/", "lab-batching-result").status_code == 404
    other = make_instructor("grace")
    outsider = Client()
    outsider.force_login(other)
    assert _fetch(outsider, f"/en/room/{room.code}/result/", "lab-batching-result").status_code == 404
    owner = Client()
    owner.force_login(teacher)  # the projector is the instructor's
    assert _fetch(owner, f"/en/room/{room.code}/result/", "lab-batching-result").status_code == 200
    follower = _follower(room)
    assert _fetch(follower, f"/en/room/{room.code}/result/", "lab-batching").status_code == 400
    link = follower.get(f"/en/room/{room.code}/result/?requests=3")
    assert link.status_code == 302
    assert link["Location"] == f"/en/lab/batching/?{rooms.query_for(room.params, room.seed)}"


def test_a_follower_gets_the_whole_deferred_result_batch_by_batch():
    """ab-dashboard's A/A preset has its repetitions in several batches: the progress line leads to the end."""
    _, room = _room_on("ab-dashboard", preset="aa-test")
    sizes = registry.get("ab-dashboard").deferred.sizes(room.params)
    assert len(sizes) > 1
    client = _follower(room)
    html = _fetch(client, f"/en/room/{room.code}/result/?{rooms.query_for(room.params, room.seed)}",
                  "lab-ab-dashboard-result").content.decode()
    steps = 0
    while 'id="lab-ab-dashboard-pending"' in html:
        url = unquote(re.search(r'id="lab-ab-dashboard-pending"[^>]*hx-get="([^"]+)"', html).group(1))
        url = url.replace("&amp;", "&")
        assert url.startswith(f"/en/room/{room.code}/result/?") and "batch=" in url
        response = _fetch(client, url, "lab-ab-dashboard-pending")
        assert response.status_code == 200
        html = response.content.decode()
        steps += 1
        assert steps <= len(sizes)
    assert steps == len(sizes)
    assert response["HX-Retarget"] == "closest .lab-result"  # the whole result replaces the one it belongs to
    assert 'id="lab-ab-dashboard-result"' in html and "repetitions" in html.lower()
    # A batch of values the room has left is not computed: the room's current result comes instead.
    rooms.set_params(room, {}, preset="aa-test", seed=5)
    stale = _fetch(client, f"/en/room/{room.code}/result/?{rooms.query_for(room.params, 0)}&batch=0",
                   "lab-ab-dashboard-pending").content.decode()
    assert "seed=5" in stale


@override_settings(ADDRESS_RATE_PER_S=0.01, ADDRESS_BURST=1, CLIENT_RATE_PER_S=0.01, CLIENT_BURST=1)
def test_no_learners_rate_limit_stands_between_a_class_and_its_instructors_change(redis_client):
    for key in redis_client.scan_iter(f"{lab_limits.KEY_PREFIX}:*", count=1000):
        redis_client.delete(key)
    _, room = _room_on("batching")
    followers = [_follower(room) for _ in range(5)]
    query = rooms.query_for(room.params, room.seed)
    assert [_fetch(c, f"/en/room/{room.code}/result/?{query}", "lab-batching-result").status_code
            for c in followers] == [200] * 5
    # The lab's own endpoint, from the same address, is limited as for any learner.
    lab = [_fetch(c, f"/en/lab/batching/?{query}", "lab-batching-result").status_code for c in followers]
    assert 429 in lab


def test_a_students_page_gives_them_a_learners_own_allowance():
    _, room = _room_on("batching")
    client = _follower(room)
    assert client.get(f"/en/room/{room.code}/").status_code == 200
    assert client.session.get(lab_limits.SESSION_MARK)
