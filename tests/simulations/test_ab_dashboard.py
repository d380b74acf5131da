"""The ab-dashboard component: its JSON fields, presets and refusals."""

from __future__ import annotations

import json

import pytest

from simulations.components.ab_dashboard import COMPONENT, DEFERRED
from simulations.params import ParamError


def test_json_fields_the_interface_promises() -> None:
    m = COMPONENT.execute({}, seed=0).metrics
    for key in ("p_value", "ci_low", "ci_high", "required_sample_size", "decision", "canary_outcome",
                "canary_final_weight"):
        assert key in m
    assert m["canary_outcome"] in ("promoted", "rolled_back")
    reps = m["repetitions"]
    for key in ("runs", "false_positive_rate_fixed", "false_positive_rate_peeking", "false_positive_rate_sequential",
                "power_fixed", "power_peeking", "power_sequential"):
        assert key in reps
    assert m["ci_low"] < m["diff"] < m["ci_high"]
    assert m["always_valid_ci_low"] < m["ci_low"] and m["ci_high"] < m["always_valid_ci_high"]
    assert m["ci_level"] == pytest.approx(0.95)


def test_presets() -> None:
    aa = COMPONENT.execute({}, preset="aa-test", seed=0)
    assert aa.params["true_effect"] == 0 and aa.metrics["repetitions"]["runs"] >= 200
    assert aa.metrics["repetitions"]["looks"] == 240
    assert "power_fixed" not in aa.metrics["repetitions"]
    assert COMPONENT.execute({}, preset="canary-regression", seed=0).metrics["canary_outcome"] == "rolled_back"
    healthy = COMPONENT.execute({}, preset="canary-healthy", seed=0).metrics
    assert healthy["canary_outcome"] == "promoted" and healthy["canary_final_weight"] == 1.0
    book = COMPONENT.execute({}, preset="book-32.6", seed=0)
    codes = {n.code for n in book.notes}
    assert {"book_ab", "book_steps", "book_first_step", "book_threshold", "book_hash", "book_rule_reps"} <= codes
    assert book.metrics["n_a"] + book.metrics["n_b"] == pytest.approx(1000, rel=0.1)  # the chapter's 500 a side


def test_too_big_runs_are_refused_with_a_message() -> None:
    with pytest.raises(ParamError) as error:
        COMPONENT.execute({"traffic_per_min": 500, "duration_min": 1440}, seed=0)
    assert error.value.field == "duration_min"
    with pytest.raises(ParamError):
        COMPONENT.execute({"repetitions": 5000, "peek_every_min": 1, "duration_min": 1440,
                           "traffic_per_min": 10}, seed=0)
    with pytest.raises(ParamError):
        COMPONENT.execute({"baseline_rate": 0.05, "true_effect": -0.1}, seed=0)
    with pytest.raises(ParamError):
        COMPONENT.execute({"split": 2}, seed=0)
    with pytest.raises(ParamError) as error:
        COMPONENT.execute({"baseline_rate": 0.9, "mde": 0.1}, seed=0)
    assert error.value.field == "mde"


@pytest.mark.parametrize("raw", [{}, {"repetitions": 700, "peek_every_min": 1}], ids=["defaults", "many-batches"])
def test_the_deferred_repetitions_complete_to_the_whole_result(raw) -> None:
    params = COMPONENT.spec.parse(raw)
    first = DEFERRED.first(params, 3)
    assert "repetitions" not in first.metrics
    assert {n.code for n in first.notes}.isdisjoint({"peeking", "power"})
    sizes = DEFERRED.sizes(params)
    assert sum(sizes) == 2 * params["repetitions"]  # A/A and A/B
    parts = [DEFERRED.batch(params, 3, index) for index in reversed(range(len(sizes)))]
    whole = DEFERRED.complete(first, parts)
    assert json.dumps(whole.to_dict(), sort_keys=True) == json.dumps(
        COMPONENT.run_parsed(params, 3).to_dict(), sort_keys=True)
    assert {"peeking", "power"} <= {n.code for n in whole.notes}


def test_only_heavy_repetitions_come_in_several_batches() -> None:
    assert len(DEFERRED.sizes(COMPONENT.spec.parse({}))) == 1
    assert len(DEFERRED.sizes(COMPONENT.spec.parse({}, preset="aa-test"))) > 1
