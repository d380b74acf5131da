"""Only the room's instructor changes the room: students and other instructors are refused."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from webapp.asgi import application
from webapp.classroom import consumers
from webapp.classroom.models import Room

from .classroom_helpers import (
    close_all,
    close_db_after,  # noqa: F401
    connected,
    fresh_limits,  # noqa: F401
    make_instructor,
    make_room,
    make_user,
    next_of,
    socket,
    student_session,
    user_session,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_db_after")]

CONTROL = [
    {"type": "set_params", "params": {"requests": "50"}},
    {"type": "set_mode", "mode": "student"},
    {"type": "move", "lesson": "caching-basics"},
    {"type": "ask", "prompt": "Guess", "metric": "speedup_abatch"},
    {"type": "reveal"},
    {"type": "clear"},
    {"type": "traffic_start", "settings": {}},
    {"type": "traffic_stop"},
    {"type": "ab_start", "question": "q", "variant_a": "a", "variant_b": "b"},
    {"type": "ab_stop"},
    {"type": "end"},
]


@pytest.fixture
def rooms_of_two():
    ada, bob = make_instructor("ada"), make_instructor("bob")
    room = make_room(ada)
    # Bob hosts rooms of his own, is logged in, and has joined Ada's room with its code.
    bob_key = user_session(bob)
    student_session(room, "Bob", session_key=bob_key)
    return {"room": room, "ada": user_session(ada), "bob": bob_key, "student": student_session(room)}


async def _refused(room: Room, key: str) -> None:
    sock = socket(room.code, key)
    state = await connected(sock)
    assert state["you"]["role"] == "student"
    for message in CONTROL:
        await sock.send_json_to(message)
        error = await next_of(sock, "error")
        assert error["code"] == "forbidden", message
    stored = await sync_to_async(Room.objects.get)(pk=room.pk)
    assert stored.version == state["version"] and stored.mode == "instructor" and stored.ended_at is None
    assert stored.params == room.params
    await close_all(sock)


async def test_a_students_control_messages_are_refused(rooms_of_two):
    await _refused(rooms_of_two["room"], rooms_of_two["student"])


async def test_another_instructors_control_messages_are_refused(rooms_of_two):
    await _refused(rooms_of_two["room"], rooms_of_two["bob"])


async def test_the_instructor_may_not_act_as_a_student(rooms_of_two):
    sock = socket(rooms_of_two["room"].code, rooms_of_two["ada"])
    await connected(sock)
    for message in ({"type": "answer", "value": 3}, {"type": "press"}, {"type": "vote", "yes": True}):
        await sock.send_json_to(message)
        assert (await next_of(sock, "error"))["code"] == "forbidden"
    await close_all(sock)


@pytest.mark.parametrize("who", ["nobody", "instructor_not_joined", "plain_user", "wrong_room"])
async def test_a_socket_that_did_not_join_is_turned_away(who):
    ada = await sync_to_async(make_instructor)("ada")
    room = await sync_to_async(make_room)(ada)
    key = None
    if who == "instructor_not_joined":
        key = await sync_to_async(lambda: user_session(make_instructor("carol")))()
    elif who == "plain_user":
        key = await sync_to_async(lambda: user_session(make_user("dan")))()
    elif who == "wrong_room":
        other = await sync_to_async(make_room)(ada)
        key = await sync_to_async(student_session)(other)
    sock = socket(room.code, key)
    connected_ok, code = await sock.connect()
    assert not connected_ok and code == consumers.DENIED


async def test_an_unknown_code_is_turned_away(rooms_of_two):
    sock = socket("ZZZZZZ", rooms_of_two["ada"])
    ok, code = await sock.connect()
    assert not ok and code == consumers.DENIED


@pytest.mark.parametrize(("origin", "allowed"), [
    ("http://localhost", True), ("http://evil.example", False), (None, False)])
async def test_the_origin_is_checked(rooms_of_two, origin, allowed):
    sock = socket(rooms_of_two["room"].code, rooms_of_two["ada"], app=application, origin=origin)
    ok, _ = await sock.connect()
    assert ok is allowed
    if ok:
        await close_all(sock)
