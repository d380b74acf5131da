"""The ab-dashboard component: its JSON fields, presets and refusals."""

from __future__ import annotations

import pytest

from simulations.components.ab_dashboard import COMPONENT
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
