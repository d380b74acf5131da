"""The classroom's WebSocket: one connection per open page (instructor, projector or student).

Every change goes the same way: a client message, checked here (type, size,
rate, role) and by the room's functions (values, through the component's own
spec), saved in the database, then broadcast to the room's group as a
``room.state`` event with the whole state and a higher version.  A client that
reconnects, or a student who rejoins after exploring, asks for ``resync`` and
gets the state as stored.

Client to server (``type``): the instructor's ``set_params``, ``set_mode``,
``move``, ``ask``, ``reveal``, ``clear``, ``traffic_start``, ``traffic_stop``,
``ab_start``, ``ab_stop``, ``end``; a student's ``answer``, ``press``, ``vote``;
anyone's ``resync``.  Server to client: ``state``, ``result`` (after a change of
values, the new result's HTML in the page's language, for the pages that follow:
rendered once for the whole room, not fetched by each student), ``tally`` (live
figures of the current activity, at most a few times a second), ``presence``
(students present, to the instructor's pages), ``decision`` (a student's own
press), ``ok`` and ``error`` (a code and a message in the page's language; the
socket stays open).

Groups live on Redis (channels-redis), so a room works across several daphne
processes: an instructor on one and students on another see the same events.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.consumer import get_handler_name
from django.conf import settings
from django.http import QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from webapp.redis_conn import redis_client

from . import activities, rooms
from .models import Participant, Room

log = logging.getLogger(__name__)

# Channel-layer groups, one pair per room: everyone, and the instructor's own pages.
ROOM_GROUP = "classroom.{code}"
STAFF_GROUP = "classroom.{code}.staff"

# Channel-layer events; each is handled by the method of the same name (dots as underscores).
ROOM_STATE = "room.state"
ROOM_TALLY = "room.tally"
ROOM_PRESENCE = "room.presence"
ROOM_RESULT = "room.result"
BROADCASTS = frozenset({ROOM_STATE, ROOM_TALLY, ROOM_PRESENCE, ROOM_RESULT})

INSTRUCTOR_EVENTS = frozenset({"set_params", "set_mode", "move", "ask", "reveal", "clear", "traffic_start",
                               "traffic_stop", "ab_start", "ab_stop", "end"})
STUDENT_EVENTS = frozenset({"answer", "press", "vote"})
ANYONE_EVENTS = frozenset({"resync"})

SESSION_KEY = "classroom_participants"  # {code: participant id} in a student's session
MAX_FRAME_CHARS = 4_096
MESSAGES_PER_S = 10.0  # per connection; a burst of BURST is allowed
BURST = 20
TALLY_INTERVAL_S = 0.25
PRESENCE_INTERVAL_S = 0.5
PRESENCE_TTL_S = 90.0
HEARTBEAT_S = 30.0
DENIED = 4403  # close code for a socket that may not join the room


def room_group(code: str) -> str:
    return ROOM_GROUP.format(code=code)


def staff_group(code: str) -> str:
    return STAFF_GROUP.format(code=code)


class RoomConsumer(AsyncJsonWebsocketConsumer):
    channel_layer_alias = "classroom"  # pub/sub: one delivery per process, not per socket

    async def connect(self) -> None:
        self.code = rooms.normalise_code(self.scope["url_route"]["kwargs"].get("code", ""))
        self.language = _language(self.scope)
        self.role = ""
        self.heartbeat: asyncio.Task[None] | None = None
        self.tokens, self.refilled, self.warned = float(BURST), time.monotonic(), 0.0
        found = await database_sync_to_async(self._identify)() if self.code else None
        if found is None:
            await self.close(code=DENIED)
            return
        self.room_id, self.role, self.participant, snapshot, self.mine = found
        await self.channel_layer.group_add(room_group(self.code), self.channel_name)
        if self.role != "student":
            await self.channel_layer.group_add(staff_group(self.code), self.channel_name)
        await self.accept()
        await self.send_json(self._personal(snapshot))
        if self.role == "student":
            await _run(presence_touch, self.code, self._member())
            self.heartbeat = asyncio.create_task(self._beat())
            await schedule(self.channel_layer, "presence", self.code, self.room_id)
        else:
            await self.send_json({"type": "presence", "students": await _run(presence_count, self.code)})

    def _identify(self) -> tuple[int, str, Participant | None, dict, dict] | None:
        room = Room.objects.filter(code=self.code).first()
        if room is None:
            return None
        user = self.scope.get("user")
        if user is not None and user.is_authenticated and room.instructor_id == user.pk:
            role = "projector" if _query(self.scope, "view") == "projector" else "instructor"
            return room.pk, role, None, rooms.state(room), {}
        session = self.scope.get("session")
        joined = session.get(SESSION_KEY, {}) if session is not None else {}
        pid = joined.get(self.code) if isinstance(joined, dict) else None
        participant = Participant.objects.filter(pk=pid, room=room).first() if isinstance(pid, int) else None
        if participant is None:
            return None
        return room.pk, "student", participant, rooms.state(room), _mine(room, participant)

    async def disconnect(self, code: int) -> None:
        if not self.role:
            return
        await self.channel_layer.group_discard(room_group(self.code), self.channel_name)
        if self.role != "student":
            await self.channel_layer.group_discard(staff_group(self.code), self.channel_name)
            return
        if self.heartbeat is not None:
            self.heartbeat.cancel()
        try:
            await _run(presence_drop, self.code, self._member())
            await schedule(self.channel_layer, "presence", self.code, self.room_id)
        except Exception:  # Redis away: the entry expires by itself
            log.warning("presence not updated for room %s", self.code)

    # -- from the client ---------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if not self._within_rate():
            if time.monotonic() - self.warned > 1.0:
                self.warned = time.monotonic()
                await self._error("too_fast", gettext_noop("Too many messages; slow down a little."))
            return
        content = None
        if text_data is not None and len(text_data) <= MAX_FRAME_CHARS:
            try:
                content = json.loads(text_data)
            except (ValueError, RecursionError):
                content = None
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if not isinstance(kind, str) or kind not in INSTRUCTOR_EVENTS | STUDENT_EVENTS | ANYONE_EVENTS:
            await self._error("bad_message", gettext_noop(
                "Send one JSON object of at most %(n)s characters with a known type."), n=MAX_FRAME_CHARS)
            return
        if kind in INSTRUCTOR_EVENTS and self.role != "instructor":
            await self._error("forbidden", gettext_noop("Only this class's instructor can do that."))
            return
        if kind in STUDENT_EVENTS and self.role != "student":
            await self._error("forbidden", gettext_noop("Only students take part in that."))
            return
        try:
            await getattr(self, f"on_{kind}")(content)
        except rooms.Refusal as refusal:
            await self._error(refusal.code, refusal.template, **refusal.data)
        except rooms.ParamErrors as refused:
            await self._param_errors(refused.errors)
        except Exception:
            log.exception("classroom message %s failed", kind)
            await self._error("server_error", gettext_noop("Something went wrong on the server."))

    def _within_rate(self) -> bool:
        now = time.monotonic()
        self.tokens = min(BURST, self.tokens + (now - self.refilled) * MESSAGES_PER_S)
        self.refilled = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    async def on_resync(self, content: Mapping[str, Any]) -> None:
        snapshot, self.mine = await self._db(lambda room: (rooms.state(room), _mine(room, self.participant)))
        await self.send_json(self._personal(snapshot))

    async def on_set_params(self, content: Mapping[str, Any]) -> None:
        snapshot = await self._change(rooms.set_params, content.get("params"), content.get("seed"),
                                      content.get("preset"), result_follows=True)
        task = asyncio.ensure_future(push_result(self.channel_layer, self.code, snapshot))
        _pending.add(task)
        task.add_done_callback(_pending.discard)

    async def on_set_mode(self, content: Mapping[str, Any]) -> None:
        await self._change(rooms.set_mode, content.get("mode"))

    async def on_move(self, content: Mapping[str, Any]) -> None:
        await self._change(rooms.move, content.get("lesson"), content.get("component"))

    async def on_end(self, content: Mapping[str, Any]) -> None:
        await self._change(rooms.end)

    async def on_ask(self, content: Mapping[str, Any]) -> None:
        await self._change(activities.ask, content.get("prompt"), content.get("metric"), content.get("scale", 1))

    async def on_reveal(self, content: Mapping[str, Any]) -> None:
        await self._change(activities.reveal)

    async def on_clear(self, content: Mapping[str, Any]) -> None:
        await self._change(activities.clear)

    async def on_traffic_start(self, content: Mapping[str, Any]) -> None:
        await self._change(activities.start_traffic, content.get("settings"))

    async def on_traffic_stop(self, content: Mapping[str, Any]) -> None:
        await self._change(activities.stop_traffic)

    async def on_ab_start(self, content: Mapping[str, Any]) -> None:
        await self._change(activities.start_ab, content.get("question"), content.get("variant_a"),
                           content.get("variant_b"), content.get("split", 0.5))

    async def on_ab_stop(self, content: Mapping[str, Any]) -> None:
        await self._change(activities.stop_ab)

    async def on_answer(self, content: Mapping[str, Any]) -> None:
        value = await self._db(lambda room: activities.answer(room, self.participant, content.get("value")))
        self.mine = {**self.mine, "answer": value}
        await self.send_json({"type": "ok", "of": "answer", "value": value})
        await schedule(self.channel_layer, "tally", self.code, self.room_id)

    async def on_press(self, content: Mapping[str, Any]) -> None:
        decision = await self._db(lambda room: activities.press(room, self.participant))
        await self.send_json({"type": "decision", "allowed": decision.allowed, "remaining": decision.remaining,
                              "retry_after_s": round(decision.retry_after_s, 3)})
        await schedule(self.channel_layer, "tally", self.code, self.room_id)

    async def on_vote(self, content: Mapping[str, Any]) -> None:
        success = content.get("yes")
        variant = await self._db(lambda room: activities.vote(room, self.participant, success))
        self.mine = {**self.mine, "vote": success, "variant": variant}
        await self.send_json({"type": "ok", "of": "vote", "yes": success, "variant": variant})
        await schedule(self.channel_layer, "tally", self.code, self.room_id)

    async def _db(self, fn: Callable[[Room], Any]) -> Any:
        """Run ``fn`` on the room as stored, in a worker thread, in this page's language."""
        def call() -> Any:
            with translation.override(self.language):
                return fn(Room.objects.get(pk=self.room_id))
        return await database_sync_to_async(call)()

    async def _change(self, change: Callable[..., Room], *args: Any, result_follows: bool = False) -> dict[str, Any]:
        """Apply one of the instructor's changes and send the new state to the whole room.

        ``result_follows``: the new result's HTML comes next (``room.result``); a
        following page waits for it rather than fetching the result itself.
        """
        snapshot = await self._db(lambda room: rooms.state(change(room, *args)))
        sent = {**snapshot, "result_follows": True} if result_follows else snapshot
        await self.channel_layer.group_send(room_group(self.code), {"type": ROOM_STATE, "state": sent})
        return snapshot

    # -- from the room's group ---------------------------------------------------

    async def dispatch(self, message: Mapping[str, Any]) -> None:
        # Channels tidies database connections in its worker thread before every
        # handler: one thread hop per message, serialised across every socket of the
        # process.  A broadcast's handlers only forward what they were given, so
        # they skip it; 300 students then get a change in one pass, not 300 hops.
        if message["type"] in BROADCASTS:
            await getattr(self, get_handler_name(message))(message)
            return
        await super().dispatch(message)

    async def room_state(self, event: Mapping[str, Any]) -> None:
        snapshot = event["state"]
        activity = snapshot.get("activity")
        if self.role == "student" and (activity or {}).get("id") != self.mine.get("activity"):
            self.mine = {"activity": (activity or {}).get("id")}  # a new activity: nothing answered yet
        # Every socket of one kind gets the same text: encode it once per process.  A
        # broadcast's "you" says only the role and the A/B variant; a student's own
        # answer and vote come with the answer itself and with every resync.
        variant = self._variant(activity)
        key = (self.code, snapshot["version"], self.role, variant)
        text = _encoded.get(key)
        if text is None:
            out = dict(snapshot)
            if activity:
                out["activity"] = self._visible(activity)
            out["you"] = {"role": self.role, **({"variant": variant} if variant else {})}
            text = _encoded[key] = json.dumps(out)
            if len(_encoded) > 512:
                _encoded.pop(next(iter(_encoded)))
        await self.send(text_data=text)

    async def room_result(self, event: Mapping[str, Any]) -> None:
        if self.role == "instructor":  # the instructor's page has its own result
            return
        key = (self.code, event["version"], self.language)
        text = _results.get(key)
        if text is None:
            html = event["html"].get(self.language) or event["html"].get(settings.LANGUAGE_CODE, "")
            text = _results[key] = json.dumps({"type": "result", "version": event["version"],
                                               "query": event["query"], "html": html})
            if len(_results) > 64:
                _results.pop(next(iter(_results)))
        await self.send(text_data=text)

    async def room_tally(self, event: Mapping[str, Any]) -> None:
        await self.send_json(self._visible(event["tally"]))

    async def room_presence(self, event: Mapping[str, Any]) -> None:
        await self.send_json({"type": "presence", "students": event["students"]})

    def _personal(self, snapshot: Mapping[str, Any]) -> dict[str, Any]:
        """The state as this connection may see it, with its own answer, variant and vote."""
        out = dict(snapshot)
        activity = snapshot.get("activity")
        if activity:
            out["activity"] = self._visible(activity)
        you: dict[str, Any] = {"role": self.role}
        if self.role == "student":
            you["name"] = self.participant.name
            you.update({k: v for k, v in self.mine.items() if k in ("answer", "vote")})
            variant = self._variant(activity)
            if variant:
                you["variant"] = variant
        out["you"] = you
        return out

    def _variant(self, activity: Mapping[str, Any] | None) -> str:
        """The A/B variant this student sees in the running test ("" when there is none)."""
        if self.role != "student" or not activity or activity.get("kind") != "ab":
            return ""
        return activities.variant_of(activity["experiment"], self.participant.token, activity["split"])

    def _visible(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """Before a reveal, only the instructor's own page sees the answers: the class sees how many."""
        out = dict(item)
        if item.get("kind") == "predict" and not item.get("revealed") and self.role != "instructor":
            out["tally"] = {"answers": item["tally"]["answers"], "truth": None}
        return out

    async def _error(self, code: str, template: str, **params: Any) -> None:
        with translation.override(self.language):
            message = gettext(template) % params if params else gettext(template)
        await self.send_json({"type": "error", "code": code, "message": message})

    async def _param_errors(self, errors: list[Any]) -> None:
        with translation.override(self.language):
            fields = {e.field: gettext(e.template) % e.data for e in errors}
        message = "; ".join(f"{name}: {text}" for name, text in fields.items())
        await self.send_json({"type": "error", "code": "bad_params", "message": message, "fields": fields})

    def _member(self) -> str:
        return f"{self.participant.pk}|{self.channel_name}"

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            try:
                await _run(presence_touch, self.code, self._member())
            except Exception:
                log.warning("presence heartbeat failed for room %s", self.code)


def _mine(room: Room, participant: Participant | None) -> dict[str, Any]:
    """A student's own answer or vote in the current activity, as stored."""
    if participant is None or room.activity_id is None:
        return {}
    mine: dict[str, Any] = {"activity": room.activity_id}
    if room.activity_kind == "predict":
        found = participant.answers.filter(question_id=room.activity_id).values_list("value", flat=True).first()
        if found is not None:
            mine["answer"] = found
    elif room.activity_kind == "ab":
        found = participant.votes.filter(test_id=room.activity_id).values_list("success", flat=True).first()
        if found is not None:
            mine["vote"] = found
    return mine


# -- presence: who is connected, across processes -----------------------------

def _presence_key(code: str) -> str:
    return f"llmopslab:classroom:{code}:present"


def presence_touch(code: str, member: str) -> None:
    pipe = redis_client().pipeline(transaction=False)
    pipe.zadd(_presence_key(code), {member: time.time() + PRESENCE_TTL_S})
    pipe.expire(_presence_key(code), 24 * 3600)
    pipe.execute()


def presence_drop(code: str, member: str) -> None:
    redis_client().zrem(_presence_key(code), member)


def presence_count(code: str) -> int:
    """Students with at least one open page (a student with two tabs counts once)."""
    client = redis_client()
    client.zremrangebyscore(_presence_key(code), "-inf", time.time())
    members = client.zrange(_presence_key(code), 0, -1)
    return len({m.split(b"|", 1)[0] for m in members})


# -- coalesced broadcasts ---------------------------------------------------------
# A burst of presses, answers or arrivals makes one broadcast per interval, not one
# per event: the first event in an interval sets a flag in Redis (so every process
# agrees) and sends the figures as they stand when the interval ends.

_pending: set[asyncio.Task[None]] = set()
_results: dict[tuple[str, int, str], str] = {}  # result messages, by (room, version, language)
_encoded: dict[tuple[str, int, str, str], str] = {}  # broadcast texts, by (room, version, role, variant)
_INTERVALS = {"tally": TALLY_INTERVAL_S, "presence": PRESENCE_INTERVAL_S}


async def schedule(channel_layer: Any, what: str, code: str, room_id: int) -> None:
    interval = _INTERVALS[what]
    first = await _run(lambda: redis_client().set(f"llmopslab:classroom:{code}:{what}:soon", 1, nx=True,
                                                  px=int(interval * 1000)))
    if first:
        task = asyncio.ensure_future(_broadcast_later(channel_layer, what, code, room_id, interval))
        _pending.add(task)
        task.add_done_callback(_pending.discard)


async def _broadcast_later(channel_layer: Any, what: str, code: str, room_id: int, delay: float) -> None:
    await asyncio.sleep(delay + 0.02)
    try:
        if what == "presence":
            count = await _run(presence_count, code)
            await channel_layer.group_send(staff_group(code), {"type": ROOM_PRESENCE, "students": count})
            return
        figures = await database_sync_to_async(lambda: activities.tally(Room.objects.get(pk=room_id)))()
        if figures is not None:
            await channel_layer.group_send(room_group(code), {"type": ROOM_TALLY, "tally": figures})
    except Exception:
        log.exception("classroom %s broadcast failed for room %s", what, code)


# -- the new result, rendered once for the room ------------------------------------
# After a change of values, the process that took the change builds the room's
# lab panel as the lab's own endpoint would (the shared result cache, the worker
# pool: no request here, so no client to have left and no learner's rate limit)
# and renders its result once per language; every process hands it to its
# following pages with the same one broadcast.  Where it cannot be had now (the
# pool busy, Redis away) nothing is sent, and the pages fetch the result themselves.

async def push_result(channel_layer: Any, code: str, snapshot: Mapping[str, Any]) -> None:
    try:
        html = await asyncio.to_thread(render_result, code, snapshot)
        if html:
            await channel_layer.group_send(room_group(code), {
                "type": ROOM_RESULT, "version": snapshot["version"], "query": snapshot["query"], "html": html})
    except Exception:
        log.exception("classroom result not pushed for room %s", code)


def render_result(code: str, snapshot: Mapping[str, Any]) -> dict[str, str] | None:
    """The result update of the room's lab for ``snapshot``, in every language; None if refused."""
    from webapp.lab.panel import build_panel  # the lab's panel imports the simulations: not at start-up

    query = snapshot["query"] + (f"&preset={snapshot['preset']}" if snapshot.get("preset") else "")
    out = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            panel = build_panel(snapshot["component"], QueryDict(query),
                                reverse("classroom:room_result", args=[code]), defer=True)
            if panel.error:
                return None
            out[language] = render_to_string("lab/panel.html#lab-update", {"lab": panel})
    return out


async def _run(fn: Callable[..., Any], *args: Any) -> Any:
    """A blocking Redis call off the event loop."""
    return await asyncio.to_thread(fn, *args)


def _query(scope: Mapping[str, Any], name: str) -> str:
    return parse_qs(scope.get("query_string", b"").decode("latin-1")).get(name, [""])[0]


def _language(scope: Mapping[str, Any]) -> str:
    try:
        return translation.get_supported_language_variant(_query(scope, "lang"))
    except LookupError:
        return settings.LANGUAGE_CODE
