"""What a class does together: predict then reveal, be the traffic, a live A/B test.

A room runs one activity at a time (``Room.activity_kind`` and ``activity_id``).
Each activity is stored row by row (every answer, request and vote), so a
restart loses nothing and the summary page can show it all afterwards.  A tally
is what the class sees live: counts and statistics computed from those rows.

"Be the traffic" sends each press through the real Redis rate limiters of
``simulations.ratelimit`` on Redis's own clock; the A/B test assigns students
with the experiments lab's stable hash and judges with its statistics.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_noop

from simulations import ratelimit
from simulations.params import Param, ParamError, ParamSpec
from webapp.redis_conn import redis_client

from .models import ABTest, Answer, Participant, Press, Question, Room, TrafficRun, Vote
from .rooms import Refusal, _bump, current_metrics

MAX_PROMPT_CHARS = 200
MAX_VARIANT_CHARS = 400
MAX_ANSWER = 1e12
HISTOGRAM_BINS = 10
TIMELINE_S = 60  # seconds of traffic the live chart shows
AB_HISTORY_POINTS = 40


def _text(raw: Any, limit: int, field: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise Refusal("bad_text", gettext_noop("%(field)s: write something."), field=field)
    text = " ".join(raw.split())
    if len(text) > limit:
        raise Refusal("bad_text", gettext_noop("%(field)s: at most %(n)s characters."), field=field, n=limit)
    return text


def _current(room: Room, kind: str, model: type) -> Any:
    if room.activity_kind != kind or room.activity_id is None:
        raise Refusal("no_activity", gettext_noop("That activity is not running in this class."))
    return model.objects.get(pk=room.activity_id)


def stop_current(room: Room) -> None:
    """Close whatever is running (a traffic run, an A/B test) before the room moves on."""
    now = timezone.now()
    if room.activity_kind == "traffic":
        TrafficRun.objects.filter(pk=room.activity_id, ended_at=None).update(ended_at=now)
    elif room.activity_kind == "ab":
        ABTest.objects.filter(pk=room.activity_id, ended_at=None).update(ended_at=now)


def clear(room: Room) -> Room:
    stop_current(room)
    return _bump(room, activity_kind="", activity_id=None)


# -- predict then reveal -----------------------------------------------------

SCALES = (1.0, 100.0)


def ask(room: Room, prompt: Any, metric: Any, scale: Any = 1) -> Room:
    """Open a question about ``metric`` (a path into the current result's metrics)."""
    prompt = _text(prompt, MAX_PROMPT_CHARS, "prompt")
    if not isinstance(metric, str) or metric not in current_metrics(room):
        raise Refusal("unknown_metric", gettext_noop("Choose a number of the current result."))
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or float(scale) not in SCALES:
        raise Refusal("bad_scale", gettext_noop("The scale is 1 or 100."))
    stop_current(room)
    question = Question.objects.create(room=room, prompt=prompt, metric=metric, scale=float(scale),
                                       component=room.component)
    return _bump(room, activity_kind="predict", activity_id=question.pk)


def reveal(room: Room) -> Room:
    """Close the answers and read the true value from the room's result as it is now."""
    question = _current(room, "predict", Question)
    if question.revealed_at is not None:
        raise Refusal("already_revealed", gettext_noop("The answer is already shown."))
    if question.component != room.component:
        raise Refusal("unknown_metric", gettext_noop("The class has moved to another lab since the question."))
    metrics = current_metrics(room)
    if question.metric not in metrics:
        raise Refusal("unknown_metric", gettext_noop("Choose a number of the current result."))
    Question.objects.filter(pk=question.pk).update(
        revealed_at=timezone.now(), true_value=metrics[question.metric] * question.scale,
        params=room.params, seed=room.seed)
    return _bump(room)


def answer(room: Room, participant: Participant, value: Any) -> float:
    question = _current(room, "predict", Question)
    if question.revealed_at is not None:
        raise Refusal("closed", gettext_noop("The answers are closed."))
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise Refusal("bad_answer", gettext_noop("Answer with a number."))
    try:
        number = float(Param("answer", 0.0, min=-MAX_ANSWER, max=MAX_ANSWER).coerce(value))
    except ParamError:
        raise Refusal("bad_answer", gettext_noop("Answer with a number between -10¹² and 10¹².")) from None
    Answer.objects.update_or_create(question=question, participant=participant, defaults={"value": number})
    return number


def histogram(values: list[float], truth: float | None = None, bins: int = HISTOGRAM_BINS) -> list[dict[str, Any]]:
    """Counts of ``values`` in up to ``bins`` equal bins with round edges; the range includes ``truth``."""
    points = values + ([truth] if truth is not None else [])
    if not points:
        return []
    low, high = min(points), max(points)
    if high - low < 1e-9 * max(1.0, abs(high)):
        pad = max(abs(low) * 0.05, 0.5)
        low, high = low - pad, high + pad
    step = _nice_step((high - low) / bins)
    start = math.floor(low / step) * step
    count = max(1, math.ceil((high - start) / step - 1e-9))
    if start + count * step <= high:
        count += 1
    edges = [_clean(start + i * step) for i in range(count + 1)]
    tally = [0] * count
    for value in values:
        tally[min(count - 1, max(0, int((value - start) // step)))] += 1
    out = []
    for i in range(count):
        holds_truth = truth is not None and edges[i] <= truth < edges[i + 1]
        out.append({"lo": edges[i], "hi": edges[i + 1], "count": tally[i], "truth": holds_truth})
    return out


def _nice_step(raw: float) -> float:
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))


def _clean(x: float) -> float:
    return float(f"{x:.10g}")


def predict_tally(question: Question) -> dict[str, Any]:
    values = list(question.answers.values_list("value", flat=True))
    return {
        "answers": len(values),
        "truth": question.true_value,
        "mean": statistics.fmean(values) if values else None,
        "median": statistics.median(values) if values else None,
        "bins": histogram(values, question.true_value),
    }


# -- be the traffic -----------------------------------------------------------

TRAFFIC_SPEC = ParamSpec((
    Param("limiter", "sliding", choices=("sliding", "bucket", "fixed"),
          label=gettext_noop("Rate limiter"),
          choice_labels={"sliding": gettext_noop("Sliding window"), "bucket": gettext_noop("Token bucket"),
                         "fixed": gettext_noop("Fixed window")}),
    Param("limit", 10, min=1, max=1000, step=1, label=gettext_noop("Requests per window"),
          help=gettext_noop("Sliding and fixed windows: how many requests a window admits.")),
    Param("window_s", 10.0, min=1, max=120, step=1, label=gettext_noop("Window"), unit=gettext_noop("s")),
    Param("rate_per_s", 1.0, min=0.1, max=100, step=0.1, label=gettext_noop("Refill rate"),
          unit=gettext_noop("requests/s"), help=gettext_noop("Token bucket: tokens added per second.")),
    Param("capacity", 10, min=1, max=1000, step=1, label=gettext_noop("Bucket capacity"),
          help=gettext_noop("Token bucket: the largest burst it admits.")),
))


def start_traffic(room: Room, raw: Any) -> Room:
    if not isinstance(raw, Mapping) or len(raw) > len(TRAFFIC_SPEC.params):
        raise Refusal("bad_params", gettext_noop("Send the parameters as one object of names and values."))
    values, errors = TRAFFIC_SPEC.parse_all({str(k): v for k, v in raw.items()})
    if errors:
        from .rooms import ParamErrors

        raise ParamErrors(errors)
    stop_current(room)
    run = TrafficRun.objects.create(room=room, limiter=values["limiter"],
                                    settings={k: v for k, v in values.items() if k != "limiter"})
    return _bump(room, activity_kind="traffic", activity_id=run.pk)


def stop_traffic(room: Room) -> Room:
    run = _current(room, "traffic", TrafficRun)
    TrafficRun.objects.filter(pk=run.pk, ended_at=None).update(ended_at=timezone.now())
    return _bump(room)


def limiter_for(run: TrafficRun, code: str) -> ratelimit._Limiter:
    client = redis_client()
    key = f"llmopslab:classroom:{code}:traffic:{run.pk}"
    s = run.settings
    if run.limiter == "bucket":
        return ratelimit.TokenBucketLimiter(client, key, rate_per_s=s["rate_per_s"], capacity=s["capacity"])
    if run.limiter == "fixed":
        return ratelimit.FixedWindowLimiter(client, key, limit=s["limit"], window_s=s["window_s"])
    return ratelimit.SlidingWindowLimiter(client, key, limit=s["limit"], window_s=s["window_s"])


def press(room: Room, participant: Participant) -> ratelimit.Decision:
    """One request from one student through the run's limiter, on Redis's clock."""
    run = _current(room, "traffic", TrafficRun)
    if run.ended_at is not None:
        raise Refusal("closed", gettext_noop("The traffic run has stopped."))
    decision = limiter_for(run, room.code).hit()
    Press.objects.create(run=run, participant=participant, allowed=decision.allowed,
                         remaining=decision.remaining, retry_after_s=decision.retry_after_s)
    return decision


def traffic_tally(run: TrafficRun) -> dict[str, Any]:
    counts = dict(run.presses.values("allowed").annotate(n=Count("id")).values_list("allowed", "n"))
    rows = list(run.presses.order_by("at").values_list("at", "allowed"))
    per_second: dict[int, list[int]] = {}
    for at, allowed in rows:
        second = max(0, int((at - run.started_at).total_seconds()))
        per_second.setdefault(second, [0, 0])[0 if allowed else 1] += 1
    end = int(((run.ended_at or timezone.now()) - run.started_at).total_seconds())
    if rows:
        end = max(end, max(per_second))
    first = max(0, end - TIMELINE_S + 1)
    timeline = [[s, *per_second.get(s, [0, 0])] for s in range(first, end + 1)]
    return {"accepted": counts.get(True, 0), "rejected": counts.get(False, 0),
            "students": run.presses.values("participant").distinct().count(),
            "running": run.ended_at is None, "timeline": timeline}


# -- a live A/B test ----------------------------------------------------------

def start_ab(room: Room, question: Any, variant_a: Any, variant_b: Any, split: Any = 0.5) -> Room:
    question = _text(question, MAX_PROMPT_CHARS, "question")
    variant_a = _text(variant_a, MAX_VARIANT_CHARS, "A")
    variant_b = _text(variant_b, MAX_VARIANT_CHARS, "B")
    try:
        share = float(Param("split", 0.5, min=0.1, max=0.9).coerce(split))
    except ParamError:
        raise Refusal("bad_split", gettext_noop("The share of B is between 0.1 and 0.9.")) from None
    stop_current(room)
    with transaction.atomic():
        test = ABTest.objects.create(room=room, question=question, variant_a=variant_a, variant_b=variant_b,
                                     split=share)
        test.experiment = f"classroom-{room.code}-ab-{test.pk}"
        test.save(update_fields=["experiment"])
    return _bump(room, activity_kind="ab", activity_id=test.pk)


def stop_ab(room: Room) -> Room:
    test = _current(room, "ab", ABTest)
    ABTest.objects.filter(pk=test.pk, ended_at=None).update(ended_at=timezone.now())
    return _bump(room)


def variant_of(experiment: str, token: str, split: float) -> str:
    """The variant a student sees: the experiments lab's stable hash of (experiment, student)."""
    from simulations.experiments.assignment import assign

    return assign(experiment, token, split=split)


def vote(room: Room, participant: Participant, success: Any) -> str:
    test = _current(room, "ab", ABTest)
    if test.ended_at is not None:
        raise Refusal("closed", gettext_noop("The test has stopped."))
    if not isinstance(success, bool):
        raise Refusal("bad_vote", gettext_noop("Vote yes or no."))
    variant = variant_of(test.experiment, participant.token, test.split)
    Vote.objects.update_or_create(test=test, participant=participant,
                                  defaults={"variant": variant, "success": success})
    return variant


def ab_tally(test: ABTest) -> dict[str, Any]:
    from simulations.experiments.stats import compare_proportions

    rows = list(test.votes.order_by("voted_at", "id").values_list("variant", "success"))
    n = {"A": 0, "B": 0}
    yes = {"A": 0, "B": 0}
    history = []
    every = max(1, math.ceil(len(rows) / AB_HISTORY_POINTS))
    for i, (variant, success) in enumerate(rows, start=1):
        n[variant] += 1
        yes[variant] += int(success)
        if (i % every == 0 or i == len(rows)) and n["A"] and n["B"]:
            stats = compare_proportions(yes["A"], n["A"], yes["B"], n["B"])
            history.append({"votes": i, "diff": stats["diff"], "ci_low": stats["ci_low"],
                            "ci_high": stats["ci_high"]})
    stats = None
    if n["A"] and n["B"]:
        found = compare_proportions(yes["A"], n["A"], yes["B"], n["B"])
        stats = {k: float(found[k]) for k in ("diff", "ci_low", "ci_high", "p_value")}
        stats["significant"] = bool(found["significant"])
    return {"a": {"units": n["A"], "yes": yes["A"]}, "b": {"units": n["B"], "yes": yes["B"]},
            "stats": stats, "history": history, "running": test.ended_at is None}


# -- what clients see ----------------------------------------------------------

def payload(room: Room) -> dict[str, Any] | None:
    """The current activity and its tally, or None."""
    kind, pk = room.activity_kind, room.activity_id
    if not kind or pk is None:
        return None
    if kind == "predict":
        q = Question.objects.get(pk=pk)
        return {"kind": kind, "id": pk, "prompt": q.prompt, "metric": q.metric, "scale": q.scale,
                "revealed": q.revealed_at is not None, "tally": predict_tally(q)}
    if kind == "traffic":
        run = TrafficRun.objects.get(pk=pk)
        return {"kind": kind, "id": pk, "limiter": run.limiter, "settings": run.settings,
                "tally": traffic_tally(run)}
    test = ABTest.objects.get(pk=pk)
    return {"kind": kind, "id": pk, "question": test.question, "variant_a": test.variant_a,
            "variant_b": test.variant_b, "split": test.split, "experiment": test.experiment,
            "tally": ab_tally(test)}


def tally(room: Room) -> dict[str, Any] | None:
    """Just the live figures of the current activity (sent often, so kept small)."""
    current = payload(room)
    if current is None:
        return None
    return {"type": "tally", "kind": current["kind"], "id": current["id"], "tally": current["tally"],
            **({"revealed": current["revealed"]} if current["kind"] == "predict" else {})}
