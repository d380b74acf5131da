"""The instructor's view: join code, link, QR code, students present, the lab as a learner's panel."""

from __future__ import annotations

import json
import re

import pytest

from webapp.classroom import rooms

from .classroom_helpers import fresh_limits, make_instructor, make_room, student_session  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def room():
    return make_room(make_instructor("ada"))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_view_shows_how_to_join(client, room, language):
    client.force_login(room.instructor)
    response = client.get(f"/{language}/classroom/{room.code}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-join-code="{room.code}"' in html
    assert f"http://testserver/{language}/join/{room.code}/" in html
    svg = re.search(r"<svg[^>]*class=\"segno\".*?</svg>", html, re.S)
    assert svg and "<path" in svg.group(0)
    assert 'id="room-present"' in html
    assert 'id="lab-batching"' in html and 'id="lab-batching-result"' in html and 'id="batching-requests"' in html
    assert "js/classroom.js" in html and "css/classroom.css" in html
    assert " style=" not in html.split("<main", 1)[1]  # no inline styles: a strict CSP is coming


def test_the_page_carries_the_rooms_state_for_its_script(client, room):
    rooms.set_params(room, {"requests": "30"}, seed=4)
    client.force_login(room.instructor)
    html = client.get(f"/en/classroom/{room.code}/").content.decode()
    config = json.loads(re.search(r'<script id="classroom-config" type="application/json">(.*?)</script>',
                                  html, re.S).group(1))
    assert config["role"] == "instructor" and config["socket"] == f"/ws/classroom/{room.code}/"
    assert config["state"]["params"]["requests"] == 30 and config["labPrefix"] == "/en/lab/"
    assert 'value="30"' in html  # the panel renders the room's values


def test_the_question_form_offers_every_number_of_the_current_result(client, room):
    client.force_login(room.instructor)
    html = client.get(f"/en/classroom/{room.code}/metrics/").content.decode()
    assert 'value="speedup_abatch"' in html and 'value="strategies.abatch.throughput_rps"' in html
    assert 'value="order_kept"' not in html  # a flag is not a number


def test_only_the_rooms_instructor_sees_it(client, room):
    assert client.get(f"/en/classroom/{room.code}/").status_code == 302
    client.force_login(make_instructor("bob"))
    for path in ("", "metrics/", "projector/", "summary/", "summary.csv"):
        assert client.get(f"/en/classroom/{room.code}/{path}").status_code == 404


def test_my_classrooms_lists_them(client, room):
    client.force_login(room.instructor)
    html = client.get("/en/classroom/").content.decode()
    assert room.spoken_code in html and f"/en/classroom/{room.code}/" in html
