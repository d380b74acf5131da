"""Shared set-up for the classroom tests: instructors, rooms, students with real sessions, sockets."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.db import connections

from webapp.classroom import rooms
from webapp.classroom.consumers import SESSION_KEY
from webapp.classroom.models import Room
from webapp.classroom.routing import websocket_urlpatterns

PASSWORD = "a-long-test-password"
APP = AuthMiddlewareStack(URLRouter(websocket_urlpatterns))


def make_instructor(name: str = "ada") -> Any:
    call_command("create_instructor", name, password=PASSWORD, stdout=open("/dev/null", "w"))
    return get_user_model().objects.get(username=name)


def make_user(name: str) -> Any:
    """An account that may not host classrooms."""
    return get_user_model().objects.create_user(username=name, password=PASSWORD)


def make_room(user: Any, lesson: str = "batching-async") -> Room:
    return rooms.create_room(user, lesson)


def user_session(user: Any) -> str:
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def student_session(room: Room, name: str = "", session_key: str | None = None) -> str:
    """A student who joined ``room`` (in a new session, or in ``session_key``'s)."""
    participant = rooms.join(room, name)
    session = SessionStore(session_key=session_key)
    joined = dict(session.get(SESSION_KEY, {}))
    joined[room.code] = participant.pk
    session[SESSION_KEY] = joined
    session.save()
    return session.session_key


def socket(code: str, session_key: str | None = None, query: str = "lang=en",
           app: Any = APP, origin: str | None = None) -> WebsocketCommunicator:
    headers = []
    if session_key:
        headers.append((b"cookie", f"sessionid={session_key}".encode()))
    if origin:
        headers.append((b"origin", origin.encode()))
    return WebsocketCommunicator(app, f"/ws/classroom/{code}/?{query}", headers=headers)


async def connected(communicator: WebsocketCommunicator) -> dict[str, Any]:
    """Connect and return the first message (the room's state)."""
    ok, _ = await communicator.connect()
    assert ok
    first = await communicator.receive_json_from(timeout=5)
    assert first["type"] == "state"
    return first


async def next_of(communicator: WebsocketCommunicator, kind: str, timeout: float = 5) -> dict[str, Any]:
    """The next message of type ``kind``, skipping others (presence, tallies...)."""
    while True:
        message = await communicator.receive_json_from(timeout=timeout)
        if message["type"] == kind:
            return message


def params_of(state: Mapping[str, Any]) -> dict[str, Any]:
    return dict(state["params"])


@pytest.fixture(autouse=True)
def fresh_limits(redis_client):
    """Attempt counters start empty, so one test's logins and joins do not limit the next."""
    for key in redis_client.scan_iter("llmopslab:classroom:limit:*", count=1000):
        redis_client.delete(key)


async def presence_reaches(communicator: WebsocketCommunicator, students: int, timeout: float = 5) -> None:
    """Wait for a presence message saying ``students`` (earlier counts may come first)."""
    while (await next_of(communicator, "presence", timeout))["students"] != students:
        pass


async def close_all(*communicators: WebsocketCommunicator) -> None:
    """Disconnect together: the channel layer may take up to a second to let each one go."""
    await asyncio.gather(*(c.disconnect() for c in communicators))


@pytest.fixture
async def close_db_after(transactional_db):
    """Consumers reach the database from a shared worker thread.  Its connection to the in-memory
    test database cannot be closed (Django keeps in-memory databases open), so the thread forgets it:
    later tests without database access then find no connection there to check."""
    yield

    def forget() -> None:
        for alias in connections:
            try:
                delattr(connections._connections, alias)
            except AttributeError:
                pass

    await database_sync_to_async(forget)()
