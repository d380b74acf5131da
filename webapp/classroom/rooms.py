"""A room's state and every change to it, as plain functions over the database.

The consumer, the views and the tests call these; none of them needs a request
or a socket.  Parameters are checked by the component's own ``spec.parse_all``,
the same path as a lab page and the command line, so a room accepts exactly
what a learner alone could set.  A refused change raises :class:`Refusal`, whose
message is English marked with ``gettext_noop`` and worded for the reader later.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from simulations import registry
from simulations.params import ParamError, Value
from webapp.lab import forms as lab_forms
from webapp.lab.service import RunRefused, run_cached
from webapp.lessons import course

from .models import CODE_ALPHABET, CODE_LENGTH, Participant, Room, new_code

MAX_PARAMS = 64  # more names than any component has
MAX_NAME_CHARS = 40


class Refusal(Exception):
    """A change that was not made; ``template`` (gettext_noop) and ``data`` say why."""

    def __init__(self, code: str, template: str, **data: Any) -> None:
        self.code, self.template, self.data = code, template, data
        super().__init__(template % data if data else template)


# -- codes --------------------------------------------------------------------

def normalise_code(raw: Any) -> str:
    """A code as typed or read aloud ("abc def", "ABC-DEF") in its stored form; "" if it cannot be one."""
    if not isinstance(raw, str) or len(raw) > 32:
        return ""
    code = "".join(ch for ch in raw.upper() if not ch.isspace() and ch != "-")
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return ""
    return code


def _unique_code() -> str:
    for _ in range(20):
        code = new_code()
        if not Room.objects.filter(code=code).exists():
            return code
    raise RuntimeError("no free room code after 20 tries")  # ~1e9 codes: never in practice


# -- where a room can be ------------------------------------------------------

def places() -> list[tuple[str, str]]:
    """Every (lesson slug, component) a room can show: lessons with a lab, then labs no lesson embeds."""
    out = [(lesson.slug, lesson.component) for lesson in course.all_lessons()
           if lesson.component and lesson.component in registry.COMPONENTS]
    embedded = {component for _, component in out}
    out += [("", c.name) for c in registry.all_components() if c.name not in embedded]
    return out


def _place(lesson_slug: str, component_name: str) -> tuple[str, str, str]:
    """(lesson, component, preset) for a move, or Refusal."""
    if lesson_slug:
        try:
            lesson = course.get_lesson(lesson_slug)
        except KeyError:
            raise Refusal("unknown_place", gettext_noop("There is no such lesson.")) from None
        if not lesson.component or (component_name and component_name != lesson.component):
            raise Refusal("unknown_place", gettext_noop("That lesson has no lab."))
        return lesson.slug, lesson.component, lesson.preset or ""
    if component_name not in registry.COMPONENTS:
        raise Refusal("unknown_place", gettext_noop("There is no such lab."))
    home = course.lesson_for_component(component_name)
    return (home.slug if home else ""), component_name, ""


def create_room(user: Any, lesson_slug: str = "", component_name: str = "") -> Room:
    lesson, component, preset = _place(lesson_slug, component_name)
    values = registry.get(component).spec.parse(({}), preset or None)
    return Room.objects.create(code=_unique_code(), instructor=user, lesson=lesson, component=component,
                               params=values, preset=preset)


# -- what every client is sent ----------------------------------------------

def query_for(params: Mapping[str, Value], seed: int) -> str:
    """The lab's query for these values, as the lab's own panel writes it: the link a student fetches."""
    return urlencode({**{k: _query_value(v) for k, v in params.items()}, "seed": seed})


def _query_value(value: Value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def state(room: Room) -> dict[str, Any]:
    """Everything a client needs to show the room as it is now (no words: each page words it)."""
    from . import activities  # activities import this module

    return {
        "type": "state",
        "code": room.code,
        "version": room.version,
        "mode": room.mode,
        "lesson": room.lesson,
        "component": room.component,
        "params": room.params,
        "seed": room.seed,
        "preset": room.preset,
        "query": query_for(room.params, room.seed),
        "ended": room.ended_at is not None,
        "activity": activities.payload(room),
    }


def get_room(code: str) -> Room:
    try:
        return Room.objects.get(code=code)
    except Room.DoesNotExist:
        raise Refusal("no_room", gettext_noop("There is no class with this code.")) from None


def _bump(room: Room, **fields: Any) -> Room:
    """Save ``fields`` and raise the version in one statement; return the room as stored."""
    if room.ended_at is not None:
        raise Refusal("ended", gettext_noop("This class has ended."))
    Room.objects.filter(pk=room.pk).update(version=F("version") + 1, **fields)
    room.refresh_from_db()
    return room


# -- the instructor's changes ---------------------------------------------------

def set_params(room: Room, raw: Any, seed: Any = None, preset: Any = None) -> Room:
    """Set the lab's values; each checked by the component's spec (ParamErrors are raised as a list)."""
    if not isinstance(raw, Mapping) or len(raw) > MAX_PARAMS:
        raise Refusal("bad_params", gettext_noop("Send the parameters as one object of names and values."))
    if preset is not None and not isinstance(preset, str):
        raise Refusal("bad_params", gettext_noop("Send the parameters as one object of names and values."))
    spec = registry.get(room.component).spec
    clean = {str(k): v for k, v in raw.items() if isinstance(v, (str, int, float, bool))}
    if len(clean) != len(raw):
        raise Refusal("bad_params", gettext_noop("Send the parameters as one object of names and values."))
    values, errors = spec.parse_all(clean, preset or None)
    try:
        seed_value = lab_forms.SEED.coerce(room.seed if seed is None else seed)
    except ParamError as error:
        errors.append(error)
        seed_value = room.seed
    if errors:
        raise ParamErrors(errors)
    return _bump(room, params=values, seed=seed_value, preset=preset or "")


class ParamErrors(Exception):
    def __init__(self, errors: list[ParamError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


def set_mode(room: Room, mode: Any) -> Room:
    if mode not in Room.Mode.values:
        raise Refusal("bad_mode", gettext_noop("The mode is instructor or student."))
    return _bump(room, mode=mode)


def move(room: Room, lesson_slug: Any, component_name: Any) -> Room:
    """Take the room to another lesson or lab, at that lesson's own starting values."""
    lesson_slug = lesson_slug if isinstance(lesson_slug, str) else ""
    component_name = component_name if isinstance(component_name, str) else ""
    lesson, component, preset = _place(lesson_slug[:64], component_name[:64])
    values = registry.get(component).spec.parse({}, preset or None)
    return _bump(room, lesson=lesson, component=component, params=values, seed=0, preset=preset,
                 activity_kind="", activity_id=None)


def end(room: Room) -> Room:
    from . import activities

    activities.stop_current(room)
    room = _bump(room, activity_kind="", activity_id=None)
    Room.objects.filter(pk=room.pk).update(ended_at=timezone.now())
    room.refresh_from_db()
    return room


# -- the current result -------------------------------------------------------

def numeric_metrics(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Every number in a result's metrics by its path ("strategies.redis.hit_rate"); flags are not numbers."""
    out: dict[str, float] = {}
    for key, value in metrics.items():
        path = f"{prefix}{key}"
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            if math.isfinite(value):
                out[path] = float(value)
        elif isinstance(value, Mapping):
            out.update(numeric_metrics(value, path + "."))
    return out


def current_metrics(room: Room) -> dict[str, float]:
    """The numeric metrics of the room's current result, through the shared result cache."""
    component = registry.get(room.component)
    try:
        outcome = run_cached(component, room.params, room.seed)
    except RunRefused as exc:
        raise Refusal("run_refused", "%(reason)s", reason=str(exc)) from None
    return numeric_metrics(outcome.result.metrics)


# -- students ------------------------------------------------------------------

def join(room: Room, name: Any) -> Participant:
    if room.ended_at is not None:
        raise Refusal("ended", gettext_noop("This class has ended."))
    name = " ".join(name.split())[:MAX_NAME_CHARS] if isinstance(name, str) else ""
    for _ in range(3):
        try:
            with transaction.atomic():
                return Participant.objects.create(room=room, name=name)
        except IntegrityError:  # two equal random tokens: try another
            continue
    raise RuntimeError("could not create a participant")
