"""The canary controller: promotion, rollback on errors and on latency, the chapter's rule."""

from __future__ import annotations

import numpy as np
import pytest

from simulations.experiments import book
from simulations.experiments.canary import CanaryConfig, ServiceVersion, run_canary
from simulations.profiles import PROFILES

STEPS = (0.05, 0.15, 0.30, 0.50, 1.0)
MINI = PROFILES["gpt-4o-mini"]


def _run(rule="baseline", steps=STEPS, extra=0.0, slower=1.0, rpm=40, window=30, seed=0, **config):
    return run_canary(CanaryConfig(steps, window, rule, **config), ServiceVersion("v1", MINI),
                      ServiceVersion("v2", MINI, extra, slower), rpm, seed)


def test_healthy_canary_is_promoted_through_every_step() -> None:
    result = _run()
    assert result["outcome"] == "promoted" and result["final_weight"] == 1.0
    assert [s["weight"] for s in result["steps"]] == list(STEPS[:-1])
    assert result["end_minute"] == 4 * 30
    assert all(s["healthy"] for s in result["steps"])


def test_error_regression_is_rolled_back_at_the_first_step() -> None:
    result = _run(extra=0.05)
    assert result["outcome"] == "rolled_back" and result["reason"] == "error_rate"
    assert result["final_weight"] == 0.0
    assert len(result["steps"]) == 1 and result["end_minute"] <= 30


def test_latency_regression_is_rolled_back_once_p99_exists() -> None:
    result = _run(slower=2.0)
    assert result["outcome"] == "rolled_back" and result["reason"] == "latency"
    failing = result["steps"][-1]
    assert failing["canary_requests"] >= 100 and failing["canary_p99_s"] > 1.5 * failing["baseline_p99_s"]


def test_too_little_traffic_is_not_promoted() -> None:
    result = _run(rpm=2, window=5, min_requests=30)
    assert result["outcome"] == "rolled_back" and result["reason"] == "too_little_traffic"


def test_routing_is_sticky_and_traffic_follows_the_weight() -> None:
    result = _run()
    first = [m for m in result["minutes"] if m["weight"] == 0.05]
    share = sum(m["canary_requests"] for m in first) / sum(m["canary_requests"] + m["baseline_requests"]
                                                           for m in first)
    assert 0.01 < share < 0.12


def test_same_seed_same_release() -> None:
    assert _run(extra=0.02, seed=9) == _run(extra=0.02, seed=9)


def test_the_chapters_rule_ignores_the_first_step_and_trips_on_healthy_canaries() -> None:
    result = _run(rule="book", steps=tuple(book.book_steps()), seed=0)
    assert result["outcome"] == "rolled_back"  # a healthy canary, rolled back
    assert result["canary_error_rate"] == result["baseline_error_rate"]
    # a very bad canary is not stopped at 5%: the first verdict is thrown away
    bad = _run(rule="book", steps=tuple(book.book_steps()), extra=0.5)
    assert bad["steps"][0]["healthy"] is False and bad["steps"][0]["ignored"] is True
    assert bad["steps"][1]["weight"] == pytest.approx(0.15)


def test_book_steps_and_split_arithmetic() -> None:
    steps = book.book_steps()
    assert len(steps) == 11 and steps[1] == 0.15000000000000002 and steps[-1] == 1.0
    assert book.book_shares({"a": 0.1, "b": 0.2, "c": 0.7}) == {"a": 0.1, "b": 0.21, "c": 0.69}
    assert book.book_shares({"a": 0.5, "b": 0.45}) == {"a": 0.55, "b": 0.45}
    assert book.book_shares({"a": 0.995, "b": 0.005})["b"] == 0.0
    assert book.book_rule_false_positive(500) == pytest.approx(0.429, abs=0.002)
    # book_assign agrees with the bucket arithmetic of book_shares
    users = [f"u{i}" for i in range(3000)]
    counts = np.mean([book.book_assign("e", u, {"a": 0.1, "b": 0.2, "c": 0.7}) == "b" for u in users])
    assert abs(counts - 0.21) < 0.03
