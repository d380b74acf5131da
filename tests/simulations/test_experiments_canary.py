"""The canary controller: promotion, rollback on errors and on latency, the chapter's rule."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats import rates

from simulations.experiments import book
from simulations.experiments.canary import CanaryConfig, ServiceVersion, detectable_increase, run_canary
from simulations.experiments.stats import excess_errors_p_value
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


def test_the_error_test_is_statsmodels_exact_conditional_test() -> None:
    rng = np.random.default_rng(2)
    for _ in range(30):
        n_c, n_b = (int(n) for n in rng.integers(5, 3000, 2))
        e_c, e_b = int(rng.binomial(n_c, 0.03)), int(rng.binomial(n_b, 0.01))
        with np.errstate(divide="ignore"):
            expected = rates.test_poisson_2indep(e_c, n_c, e_b, n_b, method="exact-cond", alternative="larger").pvalue
        assert float(excess_errors_p_value(e_c, n_c, e_b, n_b)) == pytest.approx(expected, rel=1e-9)
    # one error in 30 canary requests against none in 570 is not evidence (the z-test says p < 0.001)
    assert float(excess_errors_p_value(1, 30, 0, 570)) == pytest.approx(0.05)
    assert float(excess_errors_p_value(0, 0, 3, 100)) == 1.0


def test_a_healthy_canary_is_rarely_rolled_back() -> None:
    """The rule is read every minute of every window: its false rollbacks, measured."""
    outcomes = [_run(seed=seed)["outcome"] for seed in range(60)]
    assert outcomes.count("rolled_back") <= 3


def test_a_five_point_regression_never_reaches_full_traffic() -> None:
    results = [_run(extra=0.05, seed=seed) for seed in range(30)]
    assert all(r["outcome"] == "rolled_back" and r["reason"] == "error_rate" for r in results)
    assert sum(len(r["steps"]) == 1 for r in results) >= 12  # often already at 5%


def test_detectable_increase_matches_many_simulated_windows() -> None:
    config = CanaryConfig(STEPS, 30)
    increase = detectable_increase(config, 0.004, 1140, 60)
    rng = np.random.default_rng(0)
    trials = 20_000
    base_errors = rng.binomial(1140, 0.004, trials)
    for rate, expected in ((0.004 + increase, 0.8), (0.004 + increase / 2, None)):
        canary_errors = rng.binomial(60, rate, trials)
        caught = (canary_errors / 60 - base_errors / 1140 > config.error_margin) & (
            excess_errors_p_value(canary_errors, 60, base_errors, 1140) < config.error_alpha)
        if expected is None:
            assert caught.mean() < 0.5
        else:
            assert caught.mean() == pytest.approx(expected, abs=0.015)
    # more traffic sees less, but never less than the margin
    bigger = detectable_increase(config, 0.004, 11400, 600)
    assert config.error_margin < bigger < increase
    assert detectable_increase(config, 0.004, 100, 1) == pytest.approx(1 - 0.004)


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


def test_the_chapters_minute_check_trips_as_computed() -> None:
    rng = np.random.default_rng(1)
    for per_minute in (2.0, 6.0, 38.0):
        requests = rng.poisson(per_minute, 200_000)
        errors = rng.binomial(requests, 0.004)
        with np.errstate(divide="ignore", invalid="ignore"):
            trips = np.where(requests > 0, errors / np.maximum(requests, 1), 0.0) > book.BOOK_ERROR_THRESHOLD
        assert book.book_minute_trips(per_minute, 0.004) == pytest.approx(trips.mean(), abs=0.002)
    assert book.book_window_trips(2.0, 0.004) == pytest.approx(1 - np.exp(-2 * 0.004 * 30), abs=1e-3)
    # a healthy canary almost never gets through the chapter's release
    survives = book.book_release_survives(40, 0.004)
    assert 0.0005 < survives < 0.005
    outcomes = [_run(rule="book", steps=tuple(book.book_steps()), seed=seed)["outcome"] for seed in range(20)]
    assert outcomes.count("rolled_back") == 20


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
