"""The classroom's pages: log in, start a room, the instructor's, projector's and students' views, joining, the summary.

Thin views: the work is in :mod:`rooms`, :mod:`activities` and :mod:`summary`.
The live part of every page is the WebSocket (:mod:`consumers`); a page renders
the room as it is stored, so a reload or a restart shows the same thing.
"""

from __future__ import annotations

import csv
import threading
from collections import OrderedDict
from typing import Any

import redis
import segno
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from simulations import registry
from webapp.lab import limits as lab_limits
from webapp.lab.panel import BATCH, build_panel
from webapp.lab.views import respond
from webapp.lessons import course

from . import activities, limits, rooms, summary
from .consumers import SESSION_KEY
from .forms import JoinForm, StartForm
from .models import Room

host_required = permission_required("classroom.host_room")


# -- instructors ---------------------------------------------------------------

def login(request: HttpRequest) -> HttpResponse:
    """Django's login view and its standard fields, behind a limit on attempts per address."""
    if request.method == "POST":
        try:
            decision = limits.login_attempt(request)
        except redis.RedisError:
            return _busy(request)
        if not decision.allowed:
            response = render(request, "classroom/login.html", {
                "form": auth_views.AuthenticationForm(request), "refused": True,
                "retry_after": decision.retry_after_header}, status=429)
            response["Retry-After"] = decision.retry_after_header
            return response
    return auth_views.LoginView.as_view(template_name="classroom/login.html",
                                        redirect_authenticated_user=True)(request)


logout = auth_views.LogoutView.as_view()


@require_safe
@host_required
def room_list(request: HttpRequest) -> HttpResponse:
    mine = Room.objects.filter(instructor=request.user).order_by("-created_at")[:50]
    return render(request, "classroom/rooms.html", {"rooms": mine, "places": _places()})


@require_POST
@host_required
def start(request: HttpRequest) -> HttpResponse:
    form = StartForm(request.POST)
    form.is_valid()
    try:
        room = rooms.create_room(request.user, form.cleaned_data.get("lesson", ""),
                                 form.cleaned_data.get("component", ""))
    except rooms.Refusal as refusal:
        return HttpResponse(gettext(refusal.template) % refusal.data, status=400,
                            content_type="text/plain; charset=utf-8")
    return redirect("classroom:instructor", room.code)


def _own_room(request: HttpRequest, code: str) -> Room:
    return get_object_or_404(Room, code=rooms.normalise_code(code), instructor=request.user)


@require_safe
@host_required
def instructor(request: HttpRequest, code: str) -> HttpResponse:
    room = _own_room(request, code)
    join_url = request.build_absolute_uri(reverse("classroom:join_code", args=[room.code]))
    context = {
        **_room_context(room, "instructor"),
        "join_url": join_url,
        "qr_svg": _qr_svg(join_url),
        "places": _places(),
        "metric_options": _metric_options(room),
        "traffic_fields": _traffic_fields(),
        "ab_defaults": {"question": _("Would this answer satisfy you?"),
                        "variant_a": _("Caching stores each answer under a key built from the model, its settings "
                                       "and the exact prompt; a repeated request is answered from the store."),
                        "variant_b": _("A cache keeps answers you already paid for. Example: the second time "
                                       "someone asks “How do I reset my password?” with the same model and "
                                       "settings, the answer comes from Redis in a millisecond instead of the "
                                       "model in two seconds.")},
    }
    return render(request, "classroom/instructor.html", context)


@require_safe
@host_required
def metric_options(request: HttpRequest, code: str) -> HttpResponse:
    """The numbers of the room's current result, for the question form (htmx)."""
    room = _own_room(request, code)
    return render(request, "classroom/metric_options.html", {"metric_options": _metric_options(room)})


@require_safe
@host_required
def projector(request: HttpRequest, code: str) -> HttpResponse:
    room = _own_room(request, code)
    join_url = request.build_absolute_uri(reverse("classroom:join_code", args=[room.code]))
    return render(request, "classroom/projector.html", {
        **_room_context(room, "projector"), "join_url": join_url, "qr_svg": _qr_svg(join_url)})


@require_safe
@host_required
def room_summary(request: HttpRequest, code: str) -> HttpResponse:
    room = _own_room(request, code)
    return render(request, "classroom/summary.html", {"room": room, "summary": summary.build(room),
                                                      "place": _place_title(room)})


@require_safe
@host_required
def summary_csv(request: HttpRequest, code: str) -> HttpResponse:
    room = _own_room(request, code)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="classroom-{room.code}.csv"'
    writer = csv.writer(response)
    writer.writerow(summary.CSV_COLUMNS)
    for row in summary.csv_rows(room):
        writer.writerow(row)
    return response


# -- students ------------------------------------------------------------------

def join(request: HttpRequest, code: str = "") -> HttpResponse:
    """``/join/`` (type the code) and ``/join/<CODE>/`` (the link and the QR code): anonymous, a name optional."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD, POST"})
    if request.method != "POST":
        room = Room.objects.filter(code=rooms.normalise_code(code)).first() if code else None
        if code and room is None:
            raise Http404("no such class")
        if room is not None and _participant_id(request, room.code) is not None:
            return redirect("classroom:student", room.code)
        form = JoinForm(initial={"code": room.spoken_code if room else ""})
        return render(request, "classroom/join.html", {"form": form, "room": room})
    form = JoinForm(request.POST)
    try:
        if limits.too_many_wrong_codes(request) or not limits.join_attempt(request).allowed:
            form.is_valid()
            return _join_refused(request, form, _("Too many attempts from this network; wait a minute and "
                                                  "try again."), 429)
        if not form.is_valid():
            if "code" in form.errors:
                limits.wrong_code(request)
            return render(request, "classroom/join.html", {"form": form}, status=400)
        room = Room.objects.filter(code=form.cleaned_data["code"], ended_at=None).first()
        if room is None:
            limits.wrong_code(request)
            form.add_error("code", _("No class is running with this code; check it with your instructor."))
            return render(request, "classroom/join.html", {"form": form}, status=400)
    except redis.RedisError:
        return _busy(request)
    if _participant_id(request, room.code) is None:
        participant = rooms.join(room, form.cleaned_data.get("name", ""))
        joined = dict(request.session.get(SESSION_KEY, {}))
        joined[room.code] = participant.pk
        request.session[SESSION_KEY] = joined
    return redirect("classroom:student", room.code)


def _join_refused(request: HttpRequest, form: JoinForm, message: str, status: int) -> HttpResponse:
    response = render(request, "classroom/join.html", {"form": form, "refused": message}, status=status)
    response["Retry-After"] = "60"
    return response


def _participant_id(request: HttpRequest, code: str) -> int | None:
    joined = request.session.get(SESSION_KEY, {})
    pid = joined.get(code) if isinstance(joined, dict) else None
    return pid if isinstance(pid, int) else None


@require_safe
def student(request: HttpRequest, code: str) -> HttpResponse:
    room = get_object_or_404(Room, code=rooms.normalise_code(code))
    pid = _participant_id(request, room.code)
    participant = room.participants.filter(pk=pid).first() if pid else None
    if participant is None:
        return redirect("classroom:join_code", room.code)
    lab_limits.remember(request)  # exploring on their own, each student has a learner's allowance
    return render(request, "classroom/student.html", {**_room_context(room, "student"), "participant": participant})


# -- the room's result, rendered once for the whole class ----------------------------

RENDERED_MAX = 64
_rendered: OrderedDict[tuple[str, ...], tuple[int, bytes, dict[str, str]]] = OrderedDict()
_rendering: dict[tuple[str, ...], threading.Lock] = {}
_rendered_guard = threading.Lock()


@require_safe
def room_result(request: HttpRequest, code: str) -> HttpResponse:
    """``/room/<CODE>/result/``: the room's current result, for the pages that follow the instructor.

    It answers exactly as the lab's own endpoint would (the result update, or a
    batch of a deferred part), but always for the room's current values, whatever
    the query says (a batch of a deferred part only while its values are still the
    room's), and without a learner's rate limit: a class following one change asks
    for one result, and costs what the instructor's own, rate-limited, change did.
    Each answer is rendered once per process for a given result, target and
    language, however many students ask for it: the result comes from the shared
    cache, its HTML from this process's memory.
    """
    room = get_object_or_404(Room, code=rooms.normalise_code(code))
    is_instructor = request.user.is_authenticated and room.instructor_id == request.user.pk
    pid = _participant_id(request, room.code)
    if not is_instructor and not (pid and room.participants.filter(pk=pid).exists()):
        raise Http404("not in this class")
    current = QueryDict(rooms.query_for(room.params, room.seed) + (f"&preset={room.preset}" if room.preset else ""),
                        mutable=True)
    lab_path = reverse("lab:component", args=[room.component])
    if not request.htmx:  # a link to this result (the panel's "link to exactly this result")
        return redirect(f"{lab_path}?{current.urlencode()}")
    asked = request.GET.copy()
    batch = asked.pop(BATCH, [None])[-1]
    if batch is not None and sorted(asked.lists()) == sorted(current.lists()):
        current[BATCH] = batch
    target = request.htmx.target or ""
    dom_id = f"lab-{room.component}"
    if target not in (f"{dom_id}-result", f"{dom_id}-pending"):
        return HttpResponse("HX-Target: the lab's result or its progress line", status=400,
                            content_type="text/plain; charset=utf-8")
    key = (room.component, current.urlencode(), get_language(), target)
    found = _rendered_get(key)
    if found is None:
        try:
            with _rendering_lock(key):  # the first request renders; the others wait for it, then read
                found = _rendered_get(key)
                if found is None:
                    panel = build_panel(room.component, current,
                                        reverse("classroom:room_result", args=[room.code]), defer=True)
                    response = respond(request, panel, "lab/component.html", {})
                    if response.status_code != 200 or panel.error:
                        return response  # refused (busy, Redis away): not kept; the page retries
                    found = (response.status_code, response.content,
                             {k: v for k, v in response.items() if k.lower() != "content-length"})
                    _rendered_put(key, found)
        finally:
            with _rendered_guard:
                _rendering.pop(key, None)
    status, content, headers = found
    return HttpResponse(content, status=status, headers=headers)


def _rendered_get(key: tuple[str, ...]) -> tuple[int, bytes, dict[str, str]] | None:
    with _rendered_guard:
        found = _rendered.get(key)
        if found is not None:
            _rendered.move_to_end(key)
        return found


def _rendered_put(key: tuple[str, ...], value: tuple[int, bytes, dict[str, str]]) -> None:
    with _rendered_guard:
        _rendered[key] = value
        while len(_rendered) > RENDERED_MAX:
            _rendered.popitem(last=False)


def _rendering_lock(key: tuple[str, ...]) -> threading.Lock:
    with _rendered_guard:
        return _rendering.setdefault(key, threading.Lock())


# -- shared pieces ---------------------------------------------------------------

def _room_context(room: Room, role: str) -> dict[str, Any]:
    """What every room page shows: the room, its lab panel built as a learner's, the live state."""
    lab_path = reverse("lab:component", args=[room.component])
    query = rooms.query_for(room.params, room.seed) + (f"&preset={room.preset}" if room.preset else "")
    panel = build_panel(room.component, QueryDict(query), lab_path)
    return {
        "room": room,
        "role": role,
        "lab": panel,
        "place": _place_title(room),
        "lesson_url": reverse("lessons:lesson", args=[room.lesson]) if room.lesson else "",
        "texts": _texts(),
        "config": {
            "code": room.code, "role": role, "component": room.component, "lesson": room.lesson,
            "socket": reverse_socket(room.code), "labPrefix": reverse("lab:component", args=["-"])[:-2],
            "resultUrl": reverse("classroom:room_result", args=[room.code]),
            "metricsUrl": reverse("classroom:metric_options", args=[room.code]) if role == "instructor" else "",
            "state": rooms.state(room),
        },
    }


def _texts() -> dict[str, str]:
    """Words the page's script shows, in the page's language; {name} marks a value it fills in."""
    return {
        "connected": _("Connected to the class."),
        "reconnecting": _("Connection lost; reconnecting…"),
        "not_connected": _("Not connected to the class yet; try again in a moment."),
        "ended": _("This class has ended. Thank you!"),
        "confirm_end": _("End the class for everyone? Students can no longer join or answer."),
        "following": _("Following the instructor: the sliders move with theirs."),
        "away": _("Exploring on your own: the instructor's changes are not applied."),
        "away_changed": _("The instructor has changed the settings since you left."),
        "student_paced": _("Student-paced: explore freely."),
        "moved": _("The class has moved to another lesson."),
        "rejoin": _("Rejoin the class"),
        "match": _("Copy the instructor's settings"),
        "reveal": _("Reveal the answer"),
        "stop": _("Stop"),
        "clear": _("Close this activity"),
        "stopped": _("stopped"),
        "predict_title": _("Predict, then reveal"),
        "about_metric": _("About: {metric}"),
        "about_metric_pct": _("About: {metric}, in percent"),
        "answers_so_far": _("Answers so far: {n}"),
        "your_prediction": _("Your prediction"),
        "submit": _("Send my answer"),
        "change_answer": _("Change my answer"),
        "your_answer": _("Your answer: {value}"),
        "histogram_caption": _("The class's answers (anonymous)"),
        "range": _("Range"),
        "answers": _("Answers"),
        "true_value": _("true value"),
        "truth": _("True value: {value}"),
        "class_median": _("The class's median answer: {value}"),
        "only_you_see": _("Only you see the answers until you reveal them."),
        "traffic_title": _("Be the traffic"),
        "limiter_sliding": _("Sliding window: {limit} requests per {window} s"),
        "limiter_fixed": _("Fixed window: {limit} requests per {window} s"),
        "limiter_bucket": _("Token bucket: {rate} requests/s, capacity {capacity}"),
        "accepted": _("accepted"),
        "rejected": _("rejected"),
        "press": _("Send a request"),
        "your_accepted": _("Accepted: {remaining} more would pass right now."),
        "your_rejected": _("Rejected (429): retry in {s} s."),
        "timeline_label": _("Requests per second: accepted below, rejected above"),
        "timeline_axis": _("the last {n} seconds"),
        "ab_title": _("A/B test"),
        "you_see": _("You see variant {v}."),
        "yes": _("Yes"),
        "no": _("No"),
        "variant": _("Variant"),
        "students": _("Students"),
        "yes_rate": _("Said yes"),
        "ab_stats": _("B − A: {diff} points ({level} interval {low} to {high}), p = {p}."),
        "significant": _("Significant at the {alpha} level."),
        "not_significant": _("Not significant yet."),
        "ab_waiting": _("Statistics appear once both variants have votes."),
        "convergence_label": _("B − A and its {level} interval as votes arrive"),
        "convergence_axis": _("{n} votes"),
    }


def reverse_socket(code: str) -> str:
    return f"/ws/classroom/{code}/"


def _place_title(room: Room) -> str:
    if room.lesson:
        try:
            return str(course.get_lesson(room.lesson).title)
        except KeyError:
            pass
    return gettext(registry.get(room.component).title) if room.component in registry.COMPONENTS else room.component


def _places() -> list[dict[str, str]]:
    out = []
    for slug, component in rooms.places():
        title = str(course.get_lesson(slug).title) if slug else gettext(registry.get(component).title)
        out.append({"lesson": slug, "component": component, "title": title,
                    "value": f"{slug}|{component}"})
    return out


def _metric_options(room: Room) -> list[tuple[str, float]]:
    try:
        return sorted(rooms.current_metrics(room).items())
    except (rooms.Refusal, redis.RedisError):
        return []


def _traffic_fields() -> list[dict[str, Any]]:
    fields = []
    for param in activities.TRAFFIC_SPEC.params:
        fields.append({
            "name": param.name, "label": gettext(param.label), "unit": gettext(param.unit) if param.unit else "",
            "help": gettext(param.help) if param.help else "", "default": param.default, "kind": param.kind,
            "min": param.min, "max": param.max, "step": param.step,
            "choices": [(c, gettext(param.choice_labels.get(c, c))) for c in param.choices],
        })
    return fields


def _qr_svg(url: str) -> str:
    """The join link as a QR code, drawn as inline SVG on the server: no network, no script."""
    return segno.make(url, error="m").svg_inline(scale=6, border=2, dark="#000", light="#fff",
                                                  title=gettext("QR code of the join link"))


def _busy(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_("The class's live store (Redis) is not reachable right now; try again shortly."),
                            status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = "5"
    return response
