"""The architecture component: its JSON, failure isolation, acknowledgement under a crash, caps."""

from __future__ import annotations

import functools

import pytest

from simulations import registry
from simulations.components.microservices import MAX_REQUESTS

COMPONENT = registry.get("microservices")


@functools.cache
def run(preset=None, seed=0, **values):
    return COMPONENT.execute({k: str(v) for k, v in values.items()}, preset=preset, seed=seed, wall_limit_s=60)


def test_the_json_has_the_documented_fields():
    result = run()
    assert all(len(row) == 2 for row in result.series["replicas"])
    row = result.series["hpa_decisions"][0]
    assert set(row) >= {"t_s", "metric", "current_replicas", "value", "target", "raw_desired", "desired_replicas"}
    for name in ("token_bucket", "sliding_window", "fixed_window"):
        assert set(result.metrics["limiters"][name]) >= {"accepted", "rejected", "max_accepted_in_any_window"}
    assert result.metrics["limit_per_window"] == 10
    assert set(result.metrics["queue"]) >= {"enqueued", "completed", "lost", "retried"}
    assert set(result.metrics["availability_by_route"]) >= {"chat", "rag", "agent"}


def test_one_decision_row_per_enabled_metric_per_sync():
    result = run(latency_target_ms=5000)
    syncs = {r["t_s"] for r in result.series["hpa_decisions"]}
    assert len(result.series["hpa_decisions"]) == 4 * len(syncs)
    for t in syncs:
        rows = [r for r in result.series["hpa_decisions"] if r["t_s"] == t]
        assert len({r["desired_replicas"] for r in rows}) == 1  # after all metrics: one answer


def test_a_failed_service_degrades_only_the_routes_that_need_it():
    result = run(failed_service="rag", fail_at_s=60, fail_for_s=60)
    availability = result.metrics["availability_by_route"]
    assert availability["chat"] == 1.0 and availability["agent"] == 1.0
    assert availability["rag"] < 0.9


def test_memory_down_degrades_chat_without_failing_it():
    result = run(failed_service="memory", fail_at_s=60, fail_for_s=60)
    assert result.metrics["availability_by_route"]["chat"] == 1.0
    assert result.metrics["latency_by_route"]["chat"]["degraded"] > 0


def test_in_a_monolith_one_crash_takes_every_route_down():
    result = run(failed_service="rag", fail_at_s=60, fail_for_s=60, architecture="monolith")
    availability = result.metrics["availability_by_route"]
    assert all(availability[route] < 0.9 for route in ("chat", "rag", "agent"))


def test_a_worker_crash_loses_nothing_with_late_acks():
    result = run("worker-crash")
    queue = result.metrics["queue"]
    assert queue["lost"] == 0
    assert queue["restored"] >= 1  # what the dead pod held came back after the visibility timeout
    assert any(e["event"] == "crash" for e in result.trace)


def test_a_worker_crash_loses_the_running_tasks_with_early_acks():
    late, early = run("worker-crash"), run("worker-crash", acks_late="off")
    crashed = next(e for e in early.trace if e["event"] == "crash")
    assert early.metrics["queue"]["lost"] == crashed["running"] > 0
    assert late.metrics["queue"]["lost"] == 0


def test_a_task_longer_than_the_visibility_timeout_runs_twice():
    result = run("worker-crash", worker_crash_at_s=0, visibility_timeout_s=5, model="gpt-4")
    assert result.metrics["queue"]["duplicates"] > 0
    assert any(n.code == "redelivered" for n in result.notes)


def test_higher_tiers_wait_less_in_a_backlog():
    result = run(shape="steady", rate_free=0.6, rate_pro=0.3, rate_enterprise=0.1, max_replicas=1,
                 min_replicas=1, concurrency=1)
    assert result.series["queue_depth"][-1][3] >= result.series["queue_depth"][-1][1]  # low piles up, high drains


def test_long_timelines_are_capped_with_a_note():
    result = run(duration_s=1800, rate_free=1.0)
    assert result.metrics["duration_s"] < 1800 and result.metrics["requests"] <= MAX_REQUESTS * 1.2
    assert any(n.code == "capped" for n in result.notes)


def test_the_window_edge_preset_shows_the_double_burst():
    result = run("window-edge")
    limiters = result.metrics["limiters"]
    assert limiters["fixed_window"]["max_accepted_in_any_window"] == 2 * result.metrics["limit_per_window"]
    assert limiters["sliding_window"]["max_accepted_in_any_window"] <= result.metrics["limit_per_window"]


@pytest.mark.parametrize("preset, key", [("book-32.4-burst", "book_burst"), ("book-32.4-queue", "book_queue")])
def test_book_presets_put_the_chapters_table_beside_the_hpa(preset, key):
    result = run(preset)
    rows = result.series[key]
    assert rows and sum(r["differs"] for r in rows) == sum(n.code.startswith(("burst_", "queue_")) for n in result.notes)


def test_the_run_leaves_no_keys_behind(redis_client):
    before = set(redis_client.scan_iter(match="llmops:queue:run-*"))
    run(seed=7)
    assert set(redis_client.scan_iter(match="llmops:queue:run-*")) == before
    assert not list(redis_client.scan_iter(match="llmops:limit:run-*"))


def test_what_each_failure_takes_down():
    from simulations.architecture import services
    assert services.down_services("storage", "microservices") == {"storage", "memory"}  # memory keeps its sessions there
    assert services.outcome("rag", {"storage", "memory"}) == "failed"
    assert services.outcome("chat", {"storage", "memory"}) == "degraded"
    assert all(services.outcome(r, {"gateway"}) == "failed" for r in ("chat", "rag", "agent"))  # still one front door
    assert services.down_services("agent", "monolith") == set(services.IN_PROCESS)
    assert "storage" not in services.down_services("agent", "monolith")
    assert services.path_latency_ms("chat", set(), 0.0) < services.path_latency_ms("chat", set(), 3.0)


def test_a_task_past_its_time_limit_is_stopped_and_retried():
    loose, tight = run(seed=5), run(seed=5, task_time_limit_s=1, max_retries=2)
    assert loose.metrics["queue"]["timed_out"] == 0
    queue = tight.metrics["queue"]
    assert queue["timed_out"] > 0 and queue["retried"] > loose.metrics["queue"]["retried"]
    assert queue["completed"] < loose.metrics["queue"]["completed"]  # answers longer than 1 s never finish


def test_prefetch_reserves_ahead_so_a_crash_strands_more_tasks_until_the_visibility_timeout():
    one = run(preset="worker-crash", seed=2, rate_free=0.4, prefetch_multiplier=1).metrics["queue"]
    four = run(preset="worker-crash", seed=2, rate_free=0.4, prefetch_multiplier=4).metrics["queue"]
    assert one["lost"] == four["lost"] == 0  # late acknowledgement: reserved tasks come back
    assert four["restored"] > one["restored"]  # more were reserved by the pod that died
