"""Students join at /join/ or /join/<CODE>/: anonymous, a name optional, attempts limited."""

from __future__ import annotations

import re

import pytest

from webapp.classroom import rooms
from webapp.classroom.consumers import SESSION_KEY
from webapp.classroom.models import CODE_ALPHABET, CODE_LENGTH, Participant, new_code

from .classroom_helpers import fresh_limits, make_instructor, make_room  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def room():
    return make_room(make_instructor())


def test_codes_are_easy_to_read_aloud_and_hard_to_guess():
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert not set("0O1I") & set(CODE_ALPHABET)
    assert len(CODE_ALPHABET) ** CODE_LENGTH > 10**9


@pytest.mark.parametrize(("typed", "ok"), [("k7p4xm", True), ("K7P 4XM", True), ("k7p-4xm", True),
                                           ("K7P4X", False), ("K0P4XM", False), ("K7P4XMM", False), ("", False)])
def test_codes_are_read_as_typed(typed, ok):
    assert bool(rooms.normalise_code(typed)) is ok


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_joining_with_the_code_and_a_name(client, room, language):
    assert client.get(f"/{language}/join/").status_code == 200
    spoken = room.code.lower()[:3] + " " + room.code.lower()[3:]
    response = client.post(f"/{language}/join/", {"code": spoken, "name": "  Mei   Lin "})
    assert response.status_code == 302 and response["Location"] == f"/{language}/room/{room.code}/"
    participant = Participant.objects.get(room=room)
    assert participant.name == "Mei Lin" and client.session[SESSION_KEY] == {room.code: participant.pk}
    assert client.get(response["Location"]).status_code == 200


def test_anonymous_by_default_and_joining_twice_is_one_student(client, room):
    client.post("/en/join/", {"code": room.code})
    client.post("/en/join/", {"code": room.code})
    assert list(Participant.objects.filter(room=room).values_list("name", flat=True)) == [""]


def test_the_join_link_fills_in_the_code(client, room):
    html = client.get(f"/en/join/{room.code}/").content.decode()
    assert room.spoken_code in html and 'name="name"' in html
    assert client.get("/en/join/ZZZZZZ/").status_code == 404


def test_a_wrong_code_is_explained(client, room):
    response = client.post("/en/join/", {"code": "ZZZ ZZZ"})
    assert response.status_code == 400 and "No class is running with this code" in response.content.decode()
    response = client.post("/en/join/", {"code": "hello"})
    assert response.status_code == 400 and "six letters and digits" in response.content.decode()


def test_an_ended_class_cannot_be_joined(client, room):
    rooms.end(room)
    assert client.post("/en/join/", {"code": room.code}).status_code == 400


def test_guessing_codes_is_stopped(client, room, settings):
    settings.CLASSROOM_WRONG_CODES_PER_10_MIN = 5
    for _ in range(5):
        assert client.post("/en/join/", {"code": "ZZZZZZ"}).status_code == 400
    refused = client.post("/en/join/", {"code": room.code})  # even the right code, once over the limit
    assert refused.status_code == 429 and refused["Retry-After"]
    assert not Participant.objects.exists()


def test_a_class_behind_one_address_can_join_at_once(client, room, settings):
    settings.CLASSROOM_JOINS_PER_MINUTE = 40
    for _ in range(40):
        client.cookies.clear()
        assert client.post("/en/join/", {"code": room.code}).status_code == 302
    client.cookies.clear()
    assert client.post("/en/join/", {"code": room.code}).status_code == 429
    assert Participant.objects.filter(room=room).count() == 40


def test_a_long_name_is_cut(client, room):
    client.post("/en/join/", {"code": room.code, "name": "x" * 40})
    assert re.fullmatch("x{40}", Participant.objects.get().name)
    assert client.post("/en/join/", {"code": room.code, "name": "x" * 41}).status_code in (302, 400)
