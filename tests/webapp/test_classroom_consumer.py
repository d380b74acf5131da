"""The room's WebSocket through Channels' WebsocketCommunicator, on the real channel layer (Redis)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.test import Client, override_settings

from simulations import registry
from webapp.classroom import consumers
from webapp.classroom.models import Press, Room

from .classroom_helpers import (
    close_all,
    close_db_after,  # noqa: F401
    connected,
    fresh_limits,  # noqa: F401
    make_instructor,
    make_room,
    next_of,
    presence_reaches,
    socket,
    student_session,
    user_session,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_db_after")]


@pytest.fixture
def setup():
    teacher = make_instructor()
    room = make_room(teacher)
    return {"room": room, "teacher": user_session(teacher), "student": student_session(room, "Mei")}


async def test_each_page_gets_the_state_on_connecting(setup):
    room = setup["room"]
    teacher = socket(room.code, setup["teacher"])
    state = await connected(teacher)
    assert state["you"]["role"] == "instructor"
    assert state["component"] == "batching" and state["lesson"] == "batching-async"
    assert state["params"] == room.params and state["mode"] == "instructor"
    assert "requests=" in state["query"] and state["query"].endswith("seed=0")
    student = socket(room.code, setup["student"])
    mine = await connected(student)
    assert mine["you"] == {"role": "student", "name": "Mei"}
    await presence_reaches(teacher, 1)
    await student.disconnect()
    await presence_reaches(teacher, 0)
    await teacher.disconnect()


async def test_a_change_reaches_every_student_with_a_higher_version(setup):
    room = setup["room"]
    teacher = socket(room.code, setup["teacher"])
    first = await connected(teacher)
    students = [socket(room.code, setup["student"]), socket(room.code, await sync_to_async(student_session)(room))]
    for s in students:
        await connected(s)
    params = {**first["params"], "requests": "25", "max_concurrency": 3}
    await teacher.send_json_to({"type": "set_params", "params": params, "seed": "7"})
    for s in [teacher, *students]:
        state = await next_of(s, "state")
        assert state["version"] == first["version"] + 1
        assert state["params"]["requests"] == 25 and state["params"]["max_concurrency"] == 3
        assert state["seed"] == 7 and "requests=25" in state["query"]
    stored = await sync_to_async(Room.objects.get)(pk=room.pk)
    assert stored.params["requests"] == 25 and stored.seed == 7  # in the database, not only in the message
    await close_all(teacher, *students)


@pytest.mark.parametrize(("params", "field"), [
    ({"requests": "1000000"}, "requests"),
    ({"requests": "NaN"}, "requests"),
    ({"requests": "１２"}, "requests"),
    ({"model": "gpt-99"}, "model"),
    ({"no_such_knob": "1"}, "no_such_knob"),
])
async def test_values_are_checked_by_the_components_spec(setup, params, field):
    room = setup["room"]
    teacher = socket(room.code, setup["teacher"])
    first = await connected(teacher)
    await teacher.send_json_to({"type": "set_params", "params": params})
    error = await next_of(teacher, "error")
    assert error["code"] == "bad_params" and field in error["fields"]
    await teacher.send_json_to({"type": "resync"})
    assert (await next_of(teacher, "state"))["version"] == first["version"]  # nothing changed
    await teacher.disconnect()


@pytest.mark.parametrize("frame", [
    "{not json",
    "x" * (consumers.MAX_FRAME_CHARS + 1),
    "[" * 3000 + "]" * 3000,
    json.dumps({"type": "set_params", "params": {"a": {"b": [1] * 10}}}),
    json.dumps({"type": "set_params", "params": [1, 2]}),
    json.dumps({"type": "set_params", "params": {f"p{i}": 1 for i in range(200)}}),
    json.dumps({"type": "set_mode", "mode": "anarchy"}),
    json.dumps({"type": "move", "lesson": "no-such-lesson"}),
    json.dumps({"type": "move", "component": {"x": 1}}),
    json.dumps({"type": "ask", "prompt": "x" * 300, "metric": "speedup_abatch"}),
    json.dumps({"type": "ask", "prompt": "How fast?", "metric": "no.such.metric"}),
    json.dumps({"type": "ask", "prompt": "How fast?", "metric": "speedup_abatch", "scale": 7}),
    json.dumps({"type": "reveal"}),
    json.dumps({"type": "traffic_start", "settings": {"limiter": "leaky", "limit": 5}}),
    json.dumps({"type": "traffic_start", "settings": {"limit": -1}}),
    json.dumps({"type": "ab_start", "question": "", "variant_a": "a", "variant_b": "b"}),
    json.dumps({"type": "ab_start", "question": "q", "variant_a": "a", "variant_b": "b", "split": 2}),
    json.dumps({"type": "dance"}),
    json.dumps({"type": None}),
    json.dumps("set_params"),
])
async def test_a_bad_message_gets_an_error_frame_and_the_socket_stays_open(setup, frame):
    room = setup["room"]
    teacher = socket(room.code, setup["teacher"])
    await connected(teacher)
    await teacher.send_to(text_data=frame)
    error = await next_of(teacher, "error")
    assert error["code"] and error["message"]
    await teacher.send_json_to({"type": "resync"})
    assert (await next_of(teacher, "state"))["type"] == "state"
    await teacher.disconnect()


async def test_binary_frames_get_an_error(setup):
    teacher = socket(setup["room"].code, setup["teacher"])
    await connected(teacher)
    await teacher.send_to(bytes_data=b"\x00\x01")
    assert (await next_of(teacher, "error"))["code"] == "bad_message"
    await teacher.disconnect()


async def test_errors_speak_the_pages_language(setup):
    student = socket(setup["room"].code, setup["student"], query="lang=zh-hans")
    await connected(student)
    await student.send_json_to({"type": "set_mode", "mode": "student"})
    error = await next_of(student, "error")
    assert error["code"] == "forbidden" and "讲师" in error["message"]
    await student.disconnect()


async def test_a_flood_of_messages_is_cut_to_the_connections_rate(setup):
    teacher = socket(setup["room"].code, setup["teacher"])
    await connected(teacher)
    for _ in range(consumers.BURST + 30):
        await teacher.send_json_to({"type": "resync"})
    kinds = []
    while not await teacher.receive_nothing(timeout=0.5):
        kinds.append((await teacher.receive_json_from())["type"])
    assert kinds.count("error") == 1  # one warning, not one per dropped message
    assert consumers.BURST <= kinds.count("state") < consumers.BURST + 30
    await teacher.disconnect()


async def test_a_reconnecting_client_resyncs_to_the_stored_state(setup):
    room = setup["room"]
    teacher = socket(room.code, setup["teacher"])
    await connected(teacher)
    student = socket(room.code, setup["student"])
    await connected(student)
    await student.disconnect()  # the student's connection drops
    await teacher.send_json_to({"type": "set_mode", "mode": "student"})
    await next_of(teacher, "state")
    again = socket(room.code, setup["student"])
    state = await connected(again)
    assert state["mode"] == "student"
    await close_all(again, teacher)


async def test_moving_the_room_to_another_lesson(setup):
    room = setup["room"]
    teacher = socket(room.code, setup["teacher"])
    await connected(teacher)
    student = socket(room.code, setup["student"])
    await connected(student)
    await teacher.send_json_to({"type": "move", "lesson": "caching-basics"})
    state = await next_of(student, "state")
    assert state["lesson"] == "caching-basics" and state["component"] == "caching-comparison"
    assert state["preset"] == "book-30.1"
    spec = registry.get("caching-comparison").spec
    assert state["params"] == spec.parse({}, "book-30.1")  # the lesson's own starting values
    await close_all(teacher, student)


async def test_predict_then_reveal(setup):
    room = setup["room"]
    teacher = socket(room.code, setup["teacher"])
    await connected(teacher)
    mei = socket(room.code, setup["student"])
    await connected(mei)
    await teacher.send_json_to({"type": "ask", "prompt": "How much faster is abatch?",
                                "metric": "speedup_abatch"})
    asked = await next_of(mei, "state")
    assert asked["activity"]["kind"] == "predict" and asked["activity"]["prompt"].startswith("How much")
    for value in ("3", 4.5, "12"):
        await mei.send_json_to({"type": "answer", "value": value})
        assert (await next_of(mei, "ok"))["value"] == float(value)  # changing an answer replaces it
    await mei.send_json_to({"type": "answer", "value": "lots"})
    assert (await next_of(mei, "error"))["code"] == "bad_answer"
    tally = await next_of(teacher, "tally")
    assert tally["tally"]["answers"] == 1 and sum(b["count"] for b in tally["tally"]["bins"]) == 1
    student_tally = await next_of(mei, "tally")
    assert "bins" not in student_tally["tally"]  # before the reveal the class sees only how many
    await teacher.send_json_to({"type": "set_params", "params": {"requests": "30"}})
    await next_of(mei, "state")
    await teacher.send_json_to({"type": "reveal"})
    revealed = (await next_of(mei, "state"))["activity"]
    truth = revealed["tally"]["truth"]
    params = registry.get("batching").spec.parse({"requests": "30"})
    result = await sync_to_async(registry.get("batching").run_parsed)(params, 0)
    expected = result.metrics["speedup_abatch"]
    assert revealed["revealed"] and truth == pytest.approx(expected)  # read from the result after the change
    assert any(b["truth"] for b in revealed["tally"]["bins"]) and revealed["tally"]["median"] == 12
    await mei.send_json_to({"type": "answer", "value": "5"})
    assert (await next_of(mei, "error"))["code"] == "closed"
    await close_all(teacher, mei)


async def test_be_the_traffic_goes_through_the_real_limiter(setup):
    room = setup["room"]
    teacher = socket(room.code, setup["teacher"])
    await connected(teacher)
    mei = socket(room.code, setup["student"])
    await connected(mei)
    await teacher.send_json_to({"type": "traffic_start",
                                "settings": {"limiter": "sliding", "limit": "3", "window_s": "60"}})
    run_id = (await next_of(mei, "state"))["activity"]["id"]
    decisions = []
    for _ in range(5):
        await mei.send_json_to({"type": "press"})
        decisions.append(await next_of(mei, "decision"))
    assert [d["allowed"] for d in decisions] == [True, True, True, False, False]
    assert [d["remaining"] for d in decisions[:3]] == [2, 1, 0]
    assert 0 < decisions[3]["retry_after_s"] <= 60
    tally = (await next_of(teacher, "tally"))["tally"]
    while tally["accepted"] + tally["rejected"] < 5:
        tally = (await next_of(teacher, "tally"))["tally"]
    assert tally["accepted"] == 3 and tally["rejected"] == 2 and tally["students"] == 1
    assert sum(row[1] + row[2] for row in tally["timeline"]) == 5
    stored = await sync_to_async(lambda: list(Press.objects.filter(run_id=run_id).values_list("allowed", flat=True)))()
    assert sorted(stored) == [False, False, True, True, True]
    await teacher.send_json_to({"type": "traffic_stop"})
    await next_of(mei, "state")
    await mei.send_json_to({"type": "press"})
    assert (await next_of(mei, "error"))["code"] == "closed"
    await close_all(teacher, mei)


async def test_an_ended_class_refuses_changes(setup):
    room = setup["room"]
    teacher = socket(room.code, setup["teacher"])
    await connected(teacher)
    await teacher.send_json_to({"type": "end"})
    assert (await next_of(teacher, "state"))["ended"] is True
    await teacher.send_json_to({"type": "set_mode", "mode": "student"})
    assert (await next_of(teacher, "error"))["code"] == "ended"
    await teacher.disconnect()


async def test_a_hundred_students_following_one_change_cost_one_run(setup, monkeypatch):
    """Students fetch the result through the lab's own htmx endpoint; the instructor's change ran once."""
    room = setup["room"]
    runs = []
    batching = registry.get("batching")

    def counted(params, seed):
        runs.append(seed)
        return batching.run(params, seed)

    monkeypatch.setitem(registry.COMPONENTS, "batching", dataclasses.replace(batching, run=counted))
    teacher = socket(room.code, setup["teacher"])
    await connected(teacher)
    sessions = await sync_to_async(lambda: [student_session(room) for _ in range(100)])()
    students = [socket(room.code, key) for key in sessions]
    for s in students:
        await connected(s)
    seed = int(time.time() * 1000) % 2**31  # a result nobody has cached
    await teacher.send_json_to({"type": "set_params", "params": {"requests": "12"}, "seed": seed})
    states = [await next_of(s, "state") for s in students]
    assert len({s["query"] for s in states}) == 1

    def fetch(query: str) -> int:
        client = Client(headers={"HX-Request": "true", "HX-Target": "lab-batching-result"})
        response = client.get(f"/en/lab/batching/?{query}")
        assert b"12 requests" in response.content
        return response.status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = await asyncio.get_running_loop().run_in_executor(
            None, lambda: list(pool.map(fetch, [s["query"] for s in states])))
    assert codes == [200] * 100
    assert runs == [seed]
    await close_all(teacher, *students)


async def test_a_live_ab_test_assigns_by_the_stable_hash_and_converges(setup):
    from simulations.experiments.assignment import assign
    from simulations.experiments.stats import compare_proportions

    room = setup["room"]
    teacher = socket(room.code, setup["teacher"])
    await connected(teacher)
    keys = [setup["student"], *await sync_to_async(lambda: [student_session(room) for _ in range(11)])()]
    students = [socket(room.code, key) for key in keys]
    for s in students:
        await connected(s)
    await teacher.send_json_to({"type": "ab_start", "question": "Helpful?", "variant_a": "Short answer.",
                                "variant_b": "Answer with an example.", "split": 0.5})
    states = [await next_of(s, "state") for s in students]
    experiment = states[0]["activity"]["experiment"]
    tokens = await sync_to_async(lambda: [p.token for p in room.participants.order_by("pk")])()
    seen = [s["you"]["variant"] for s in states]
    assert seen == [assign(experiment, token, split=0.5) for token in tokens]  # the experiments lab's hash
    assert set(seen) == {"A", "B"}
    votes = {"A": [], "B": []}
    for s, variant in zip(students, seen):
        yes = variant == "B" or len(votes["A"]) % 3 == 0  # B always pleases; A one time in three
        await s.send_json_to({"type": "vote", "yes": yes})
        confirmed = await next_of(s, "ok")
        assert confirmed["variant"] == variant
        votes[variant].append(yes)
    await students[0].send_json_to({"type": "vote", "yes": "maybe"})
    assert (await next_of(students[0], "error"))["code"] == "bad_vote"
    expected = compare_proportions(sum(votes["A"]), len(votes["A"]), sum(votes["B"]), len(votes["B"]))
    tally = (await next_of(teacher, "tally"))["tally"]
    while tally["a"]["units"] + tally["b"]["units"] < 12:
        tally = (await next_of(teacher, "tally"))["tally"]
    assert tally["a"] == {"units": len(votes["A"]), "yes": sum(votes["A"])}
    assert tally["stats"]["diff"] == pytest.approx(expected["diff"])
    assert tally["stats"]["p_value"] == pytest.approx(expected["p_value"])
    assert tally["history"][-1]["votes"] == 12
    await teacher.send_json_to({"type": "ab_stop"})
    await next_of(students[1], "state")
    await students[1].send_json_to({"type": "vote", "yes": True})
    assert (await next_of(students[1], "error"))["code"] == "closed"
    await close_all(teacher, *students)


async def test_a_change_of_values_is_followed_by_its_result_rendered_once_for_the_room(setup, monkeypatch):
    """Followers get the new result's HTML over their socket, each in their page's language; one rendering."""
    from webapp.lab import panel as lab_panel

    room = setup["room"]
    built = []
    real = lab_panel.build_panel
    monkeypatch.setattr(lab_panel, "build_panel", lambda *a, **k: built.append(a[0]) or real(*a, **k))
    teacher = socket(room.code, setup["teacher"])
    await connected(teacher)
    sessions = await sync_to_async(lambda: [student_session(room) for _ in range(20)])()
    students = [socket(room.code, key) for key in [setup["student"], *sessions]]
    chinese = socket(room.code, sessions[0], query="lang=zh-hans")
    for s in [*students, chinese]:
        await connected(s)
    await teacher.send_json_to({"type": "set_params", "params": {"requests": "23"}})
    state = await next_of(students[0], "state")
    assert state["result_follows"] is True
    results = [await next_of(s, "result") for s in students]
    assert {r["query"] for r in results} == {state["query"]} and {r["version"] for r in results} == {state["version"]}
    html = results[0]["html"]
    assert 'id="lab-batching-result"' in html and "23 requests" in html and 'hx-swap-oob="true"' in html
    assert "23 个请求" in (await next_of(chinese, "result"))["html"]
    assert built == ["batching"] * len(settings.LANGUAGES)  # once per language, not once per student
    while not await teacher.receive_nothing(0.5):  # the instructor's page has its own result
        assert (await teacher.receive_json_from())["type"] != "result"
    # A change that is not of values (the pace) asks nobody to wait for a result.
    await teacher.send_json_to({"type": "set_mode", "mode": "student"})
    assert "result_follows" not in await next_of(students[1], "state")
    await close_all(teacher, chinese, *students)


@override_settings(CLIENT_RATE_PER_S=0.01, CLIENT_BURST=1, ADDRESS_RATE_PER_S=0.01, ADDRESS_BURST=1)
async def test_the_rooms_result_is_run_in_a_worker_process_outside_any_request(setup, monkeypatch):
    """No request behind a socket's change: no client can have left, no learner's limit applies."""
    from webapp.disconnect import client_gone
    from webapp.lab import pool as pool_module
    from webapp.lab import service

    runs = pool_module.RunPool(workers=1, queue=4, queue_wait_s=30.0, warm=False)
    monkeypatch.setattr(service, "pool", lambda: runs)
    seen = []
    monkeypatch.setattr(service, "client_gone", lambda: seen.append(client_gone()) or seen[-1])
    room = setup["room"]
    teacher = socket(room.code, setup["teacher"])
    await connected(teacher)
    student = socket(room.code, setup["student"])
    await connected(student)
    try:
        seed = int(time.time() * 1000) % 2**31  # a result nobody has cached: it must be run
        for requests in ("31", "32", "33"):  # more than the allowance a learner's bucket would give
            await teacher.send_json_to({"type": "set_params", "params": {"requests": requests}, "seed": seed})
            result = await next_of(student, "result", timeout=60)
            assert f"{requests} requests" in result["html"]
        assert runs.completed == 3
        assert seen and not any(seen)
    finally:
        await close_all(teacher, student)
        runs.shutdown()
