"""The room's summary afterwards, and its CSV export."""

from __future__ import annotations

import csv
import io

import pytest

from webapp.classroom import activities, rooms, summary

from .classroom_helpers import fresh_limits, make_instructor, make_room  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished_room(redis_client):
    room = make_room(make_instructor("ada"))
    students = [rooms.join(room, f"s{i}") for i in range(4)]
    room = activities.ask(room, "How much faster is abatch?", "speedup_abatch")
    for student, value in zip(students, (2, 4, 4.5, 9)):
        activities.answer(room, student, value)
    room = activities.reveal(room)
    room = activities.start_traffic(room, {"limiter": "fixed", "limit": "2", "window_s": "60"})
    for student in students:
        activities.press(room, student)
    room = activities.start_ab(room, "Helpful?", "Short.", "With an example.")
    _deal_evenly(room, students)
    for i, student in enumerate(students):
        activities.vote(room, student, i % 2 == 0)
    return rooms.end(room)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_summary_shows_predictions_traffic_and_tests(client, finished_room, language):
    client.force_login(finished_room.instructor)
    html = client.get(f"/{language}/classroom/{finished_room.code}/summary/").content.decode()
    assert "How much faster is abatch?" in html and "speedup_abatch" in html
    assert 'class="truth"' in html and "Helpful?" in html and "With an example." in html
    assert f"/{language}/classroom/{finished_room.code}/summary.csv" in html


def test_the_csv_has_one_row_per_activity(client, finished_room):
    client.force_login(finished_room.instructor)
    response = client.get(f"/en/classroom/{finished_room.code}/summary.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert f"classroom-{finished_room.code}.csv" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["kind"] for r in rows] == ["prediction", "traffic", "ab"]
    prediction, traffic, ab = rows
    assert prediction["answers"] == "4" and prediction["median_answer"] == "4.25"
    assert float(prediction["true_value"]) > 0
    assert (traffic["accepted"], traffic["rejected"], traffic["students"]) == ("2", "2", "4")
    assert (ab["a_units"], ab["b_units"]) == ("2", "2") and ab["p_value"]


def _deal_evenly(room, students):
    """Give the students tokens that the stable hash puts two in A and two in B: random tokens
    would leave one variant empty one time in eight, and no p-value to show."""
    experiment = room.ab_tests.last().experiment
    for i, (student, wanted) in enumerate(zip(students, "AABB")):
        student.token = next(token for k in range(1000) if activities.variant_of(
            experiment, token := f"student-{i}-{k}", 0.5) == wanted)
        student.save(update_fields=["token"])


def test_within_ten_percent():
    assert summary._within([9, 10, 11.5, 20], 10.0) == 2
    assert summary._within([0.05, -0.2], 0.0) == 1
    assert summary._within([1], None) is None
