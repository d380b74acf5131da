"""The batching component: golden numbers, determinism, order, isolation, the rate-limit plateau."""

from __future__ import annotations

import pytest

from simulations.registry import get
from simulations.components.batching import (
    SPEC,
    StrategyRun,
    order_kept,
    prompts,
    run,
    run_strategy,
    sweep_points,
)
from simulations.mock_llm import MockLLMError
from simulations.params import ParamError


def execute(preset: str | None = None, seed: int = 0, **raw):
    return get("batching").execute(raw, preset=preset, seed=seed)


def test_registered_for_section_30_2():
    component = get("batching")
    assert component.section == "30.2"
    assert set(component.spec.presets) == {"book-30.2"}


def test_golden_metrics_for_the_defaults():
    result = execute()
    metrics, timeline = result.metrics, result.series["timeline"]
    per_strategy = metrics["strategies"]
    # What the page shows for seed 0, to the hundredth of a second.
    assert {s: round(m["wall_s"], 2) for s, m in per_strategy.items()} == {
        "sequential": 16.84, "abatch": 3.67, "gather": 1.91}
    for strategy, got in per_strategy.items():
        assert (got["ok"], got["failed"], got["retries"]) == (10, 0, 0)
        assert got["throughput_rps"] == pytest.approx(got["ok"] / got["wall_s"])
        rows = [r for r in timeline if r["strategy"] == strategy]
        assert got["wall_s"] == pytest.approx(max(r["end_s"] for r in rows))  # done when the last call is
    # The same ten calls, so the same bill, whatever the order they were sent in.
    assert {round(m["cost_usd"], 9) for m in per_strategy.values()} == {0.000648}
    # gather starts every call at once: its wall time is the slowest call.
    gather = [r for r in timeline if r["strategy"] == "gather"]
    assert {r["start_s"] for r in gather} == {0.0}
    assert metrics["speedup_abatch"] == pytest.approx(
        per_strategy["sequential"]["wall_s"] / per_strategy["abatch"]["wall_s"])
    assert metrics["order_kept"] is True


def test_same_seed_same_result_and_another_seed_differs():
    first, second = execute(seed=3).to_dict(), execute(seed=3).to_dict()
    assert first == second
    other = execute(seed=4).metrics["strategies"]["abatch"]["wall_s"]
    assert other != first["metrics"]["strategies"]["abatch"]["wall_s"]


def test_strategies_rank_as_the_lesson_says():
    result = execute(requests=20, max_concurrency=5)
    walls = {row["strategy"]: row["wall_s"] for row in result.series["wall_time"]}
    assert walls["gather"] <= walls["abatch"] < walls["sequential"]
    sequential_rows = [r for r in result.series["timeline"] if r["strategy"] == "sequential"]
    # One by one, the total is the sum of the calls; each starts when the previous ends.
    assert walls["sequential"] == pytest.approx(sum(r["end_s"] - r["start_s"] for r in sequential_rows))
    assert all(a["end_s"] == b["start_s"] for a, b in zip(sequential_rows, sequential_rows[1:]))
    abatch_rows = [r for r in result.series["timeline"] if r["strategy"] == "abatch"]
    assert sorted(r["request"] for r in abatch_rows) == list(range(20))
    assert max(_in_flight(abatch_rows)) == 5  # max_concurrency is respected


def _in_flight(rows):
    return [sum(r["start_s"] <= row["start_s"] < r["end_s"] for r in rows) for row in rows]


def test_book_preset_reproduces_the_chapter_setting_and_says_where_it_differs():
    result = execute(preset="book-30.2")
    calls = [r for r in result.series["timeline"] if r["strategy"] == "sequential"]
    mean_call_s = sum(r["end_s"] - r["start_s"] for r in calls) / len(calls)
    assert len(calls) == 10
    assert mean_call_s == pytest.approx(1.2, abs=0.1)
    assert result.metrics["strategies"]["sequential"]["wall_s"] == pytest.approx(12.0, abs=1.0)
    batched = result.metrics["strategies"]["abatch"]["wall_s"]
    assert max(r["end_s"] - r["start_s"] for r in calls) < 2.0 and batched < 2.0
    notes = {note.code: note for note in result.notes}
    assert notes["book_differs"].data["abatch_s"] == batched
    assert notes["book_differs"].data["slowest_call_s"] == pytest.approx(batched)
    assert notes["batch_is_not_one_call"].data == {"requests": 10, "api_calls": 10}


def test_abatch_keeps_input_order_and_the_check_would_notice_a_shuffle():
    params = SPEC.parse({"requests": 30, "max_concurrency": 7})
    batched = run_strategy("abatch", params, 0, 7)
    texts = prompts(30)
    assert order_kept(batched, texts)
    shuffled = StrategyRun("abatch", batched.wall_s, batched.outputs[::-1], batched.calls)
    assert not order_kept(shuffled, texts)


def test_one_failure_does_not_lose_the_other_answers():
    params = SPEC.parse({"requests": 20, "failure_rate": 0.3, "max_retries": 0})
    for strategy in ("sequential", "abatch", "gather"):
        outcome = run_strategy(strategy, params, 1, 5)
        errors = [o for o in outcome.outputs if isinstance(o, BaseException)]
        assert errors and all(isinstance(e, MockLLMError) and e.status_code == 500 for e in errors)
        assert outcome.ok + outcome.failed == 20 and outcome.ok > 0
        assert order_kept(outcome, prompts(20))
    result = execute(requests=20, failure_rate=0.3, max_retries=0, seed=1)
    assert "failures_isolated" in {note.code for note in result.notes}
    failed_rows = [r for r in result.series["timeline"] if r["outcome"] == "error"]
    assert failed_rows and {r["status_code"] for r in failed_rows} == {500}


def test_client_retries_hide_transient_failures_at_a_price_in_attempts():
    flaky = execute(requests=20, failure_rate=0.3, max_retries=5, seed=1).metrics["strategies"]["abatch"]
    assert flaky["failed"] == 0 and flaky["retries"] > 0


def test_sweep_plateaus_once_the_rate_limit_binds():
    free = execute(requests=100).series["sweep"]
    limited = execute(requests=100, rate_limit_rpm=30, max_retries=5).series["sweep"]
    assert [row["max_concurrency"] for row in free] == [1, 2, 4, 8, 16, 32, 64]
    # Without a limit, throughput keeps growing with concurrency.
    assert free[-1]["throughput_rps"] > 10 * free[0]["throughput_rps"]
    assert all(row["rate_limited"] == 0 for row in free)
    # With 30 requests a minute, it flattens at about 0.5 requests/s and only 429s grow.
    throughputs = [row["throughput_rps"] for row in limited]
    assert max(throughputs) < 0.6
    assert throughputs[-1] == pytest.approx(throughputs[2], rel=0.1)
    assert limited[-1]["rate_limited"] > limited[0]["rate_limited"] > 0


def test_rate_limit_note_names_where_it_starts_to_bind():
    result = execute(requests=100, rate_limit_rpm=60, max_retries=5)
    note = {n.code: n for n in result.notes}["rate_limit_binds"]
    first_limited = next(r["max_concurrency"] for r in result.series["sweep"] if r["rate_limited"])
    assert note.data == {"rate_limit_rpm": 60, "from_max_concurrency": first_limited}
    assert "rate_limit_binds" not in {n.code for n in execute(requests=100).notes}


def test_sweep_points_stop_at_the_request_count():
    assert sweep_points(10) == [1, 2, 4, 8, 10]
    assert sweep_points(1) == [1]


def test_trace_is_short_and_in_time_order():
    trace = execute(requests=50).trace
    assert 0 < len(trace) <= 12
    assert [event["t_s"] for event in trace] == sorted(event["t_s"] for event in trace)
    assert trace[0]["event"] == "start" and trace[0]["strategy"] == "abatch"


@pytest.mark.parametrize("raw", [
    {"requests": 0}, {"requests": 101}, {"requests": 2.5}, {"max_concurrency": 0},
    {"model": "gpt-5"}, {"failure_rate": 0.9}, {"rate_limit_rpm": -1},
    {"max_retries": 6}, {"max_tokens": 501}, {"batch_size": 3},
])
def test_bad_params_are_refused(raw):
    with pytest.raises(ParamError):
        get("batching").execute(raw)


def test_unknown_preset_is_refused():
    with pytest.raises(ParamError, match="preset"):
        get("batching").execute({}, preset="book-99")


def test_run_accepts_parsed_params_directly():
    params = SPEC.parse({"requests": 3})
    assert run(params, 0).metrics["strategies"]["abatch"]["ok"] == 3
