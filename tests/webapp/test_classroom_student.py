"""The student's view: the room's lab at the room's values, and the following controls."""

from __future__ import annotations

import json
import re

import pytest

from webapp.classroom import rooms

from .classroom_helpers import fresh_limits, make_instructor, make_room  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def room():
    return make_room(make_instructor("ada"))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_student_sees_the_rooms_lab_and_can_break_away(client, room, language):
    rooms.set_params(room, {"requests": "17"}, seed=3)
    client.post(f"/{language}/join/", {"code": room.code, "name": "Mei"})
    html = client.get(f"/{language}/room/{room.code}/").content.decode()
    assert 'id="lab-batching"' in html and 'id="batching-requests"' in html and 'value="17"' in html
    assert 'id="room-break"' in html and 'id="room-rejoin"' in html and "Mei" in html
    config = json.loads(re.search(r'id="classroom-config" type="application/json">(.*?)</script>', html, re.S).group(1))
    assert config["role"] == "student" and config["state"]["seed"] == 3
    assert f"/{language}/lab/" == config["labPrefix"]


def test_without_joining_the_page_sends_you_to_join(client, room):
    response = client.get(f"/en/room/{room.code}/")
    assert response.status_code == 302 and response["Location"] == f"/en/join/{room.code}/"
    assert client.get("/en/room/ZZZZZZ/").status_code == 404
