"""What a class did, afterwards: predictions against the truth, traffic runs, A/B tests.

Built from the stored rows, so it is the same after a restart, and exported as
CSV with one row per activity (English column names, numbers unformatted).
"""

from __future__ import annotations

import statistics
from typing import Any

from django.utils.translation import gettext

from . import activities
from .models import Room

CSV_COLUMNS = ["room", "kind", "number", "started_at", "question_or_setup", "metric", "true_value", "answers",
               "mean_answer", "median_answer", "within_10pct", "accepted", "rejected", "students",
               "a_units", "a_yes", "b_units", "b_yes", "diff", "ci_low", "ci_high", "p_value", "significant"]


def _within(values: list[float], truth: float | None, share: float = 0.1) -> int | None:
    """How many answers fall within ``share`` of the truth (within 0.1 of it when the truth is 0)."""
    if truth is None:
        return None
    margin = abs(truth) * share if truth else share
    return sum(1 for v in values if abs(v - truth) <= margin)


def build(room: Room) -> dict[str, list[dict[str, Any]]]:
    predictions = []
    for number, question in enumerate(room.questions.all(), start=1):
        values = list(question.answers.values_list("value", flat=True))
        predictions.append({
            "number": number, "question": question, "answers": len(values),
            "mean": statistics.fmean(values) if values else None,
            "median": statistics.median(values) if values else None,
            "within": _within(values, question.true_value),
            "bins": activities.histogram(values, question.true_value),
        })
    traffic = []
    for number, run in enumerate(room.traffic_runs.all(), start=1):
        traffic.append({"number": number, "run": run, "tally": activities.traffic_tally(run),
                        "setup": describe_limiter(run.limiter, run.settings)})
    tests = []
    for number, test in enumerate(room.ab_tests.all(), start=1):
        tests.append({"number": number, "test": test, "tally": activities.ab_tally(test)})
    return {"predictions": predictions, "traffic": traffic, "ab": tests}


def describe_limiter(kind: str, settings: dict[str, Any]) -> str:
    if kind == "bucket":
        return gettext("Token bucket: %(rate)s requests/s, capacity %(capacity)s") % {
            "rate": f"{settings['rate_per_s']:g}", "capacity": settings["capacity"]}
    name = gettext("Fixed window") if kind == "fixed" else gettext("Sliding window")
    return gettext("%(name)s: %(limit)s requests per %(window)s s") % {
        "name": name, "limit": settings["limit"], "window": f"{settings['window_s']:g}"}


def csv_rows(room: Room) -> list[list[Any]]:
    data = build(room)
    blank = {c: "" for c in CSV_COLUMNS}
    rows = []
    for item in data["predictions"]:
        q = item["question"]
        rows.append({**blank, "kind": "prediction", "number": item["number"], "started_at": q.asked_at.isoformat(),
                     "question_or_setup": q.prompt, "metric": q.metric, "true_value": _num(q.true_value),
                     "answers": item["answers"], "mean_answer": _num(item["mean"]),
                     "median_answer": _num(item["median"]), "within_10pct": _num(item["within"])})
    for item in data["traffic"]:
        run, t = item["run"], item["tally"]
        setup = f"{run.limiter} " + " ".join(f"{k}={v}" for k, v in sorted(run.settings.items()))
        rows.append({**blank, "kind": "traffic", "number": item["number"], "started_at": run.started_at.isoformat(),
                     "question_or_setup": setup, "accepted": t["accepted"], "rejected": t["rejected"],
                     "students": t["students"]})
    for item in data["ab"]:
        test, t = item["test"], item["tally"]
        stats = t["stats"] or {}
        rows.append({**blank, "kind": "ab", "number": item["number"], "started_at": test.started_at.isoformat(),
                     "question_or_setup": test.question, "a_units": t["a"]["units"], "a_yes": t["a"]["yes"],
                     "b_units": t["b"]["units"], "b_yes": t["b"]["yes"], "diff": _num(stats.get("diff")),
                     "ci_low": _num(stats.get("ci_low")), "ci_high": _num(stats.get("ci_high")),
                     "p_value": _num(stats.get("p_value")),
                     "significant": "" if not stats else str(bool(stats.get("significant"))).lower()})
    return [[room.code if c == "room" else row[c] for c in CSV_COLUMNS] for row in rows]


def _num(value: Any) -> Any:
    if value is None:
        return ""
    return f"{value:.6g}" if isinstance(value, float) else value
