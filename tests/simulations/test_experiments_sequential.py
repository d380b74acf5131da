"""The vectorised tests against statsmodels, and what many seeded repetitions show."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import proportions_ztest

from simulations.experiments import power, sequential
from simulations.experiments.abtest import Design, run_once
from simulations.experiments.repetitions import repeat


def test_vectorised_z_test_matches_statsmodels() -> None:
    rng = np.random.default_rng(1)
    n_a, n_b = rng.integers(100, 5000, 20), rng.integers(100, 5000, 20)
    s_a, s_b = rng.binomial(n_a, 0.3), rng.binomial(n_b, 0.32)
    z, p = sequential.z_test(s_a, n_a, s_b, n_b)
    for i in range(20):
        expected_z, expected_p = proportions_ztest([s_b[i], s_a[i]], [n_b[i], n_a[i]])
        assert z[i] == pytest.approx(expected_z) and p[i] == pytest.approx(expected_p)
    assert sequential.z_test(0, 0, 0, 0)[1] == 1.0


def test_msprt_rejects_exactly_at_its_boundary() -> None:
    variance, tau, alpha = 1e-4, 0.03, 0.05
    p_boundary = float(sequential.boundary_p(variance, tau, alpha))
    from scipy.special import ndtri
    z = -ndtri(p_boundary / 2)
    for scale, expected in ((0.999, False), (1.001, True)):
        diff = z * scale * variance ** 0.5
        assert bool(sequential.rejects(sequential.log_mixture_lr(diff, variance, tau), alpha)) is expected
    # the boundary starts far below alpha and stays below it
    assert sequential.boundary_p(1e-2, tau, alpha) < 1e-6 < p_boundary < alpha


def test_confidence_sequence_is_wider_than_the_fixed_interval() -> None:
    low, high = sequential.confidence_sequence(0.02, 1e-4, 0.03, 0.05)
    assert low < 0.02 - 1.96e-2 and high > 0.02 + 1.96e-2


def test_required_sample_size_matches_the_textbook_formula() -> None:
    needed = power.required_sample_size(0.30, 0.03, alpha=0.05, power=0.8)
    h = 2 * np.arcsin(np.sqrt(0.33)) - 2 * np.arcsin(np.sqrt(0.30))
    per_arm = 2 * ((1.959964 + 0.841621) / h) ** 2
    assert needed["n_a"] == needed["n_b"] == pytest.approx(per_arm, abs=2)
    assert power.required_sample_size(0.30, 0.015)["total"] > 3.8 * needed["total"]  # half the effect: ~4x
    assert power.detectable_increase(0.004, 1140, 60) > power.detectable_increase(0.004, 11400, 600)


def test_one_run_is_deterministic_and_consistent() -> None:
    design = Design(0.3, 0.03, 40, 0.5, 240, 15, 0.05, 0.03)
    first, again = run_once(design, 3), run_once(design, 3)
    assert first == again
    last = first["looks"][-1]
    assert last["n_a"] + last["n_b"] == first["units"]
    assert last["p_value"] == pytest.approx(first["final"]["p_value"])  # the score test is the pooled z-test
    assert all(b["p_sequential"] <= a["p_sequential"] for a, b in zip(first["looks"], first["looks"][1:]))
    assert not first["srm"]["alert"]


def test_biased_assignment_is_flagged_and_invalidates_the_decision() -> None:
    result = run_once(Design(0.3, 0.03, 40, 0.5, 240, 15, 0.05, 0.03, biased_assignment=True), 0)
    assert result["srm"]["alert"] and result["decision"] == "invalid_srm"
    assert result["srm"]["observed_share_b"] == pytest.approx(150 / 256, abs=0.02)


def _aa(runs: int, peek: int) -> dict:
    return repeat(Design(0.3, 0.0, 40, 0.5, 240, peek, 0.05, 0.03), runs, seed=11)


def test_aa_quick_peeking_inflates_and_sequential_holds() -> None:
    reps = _aa(400, 15)
    assert abs(reps["false_positive_rate_fixed"] - 0.05) < 0.035
    assert reps["false_positive_rate_peeking"] > 2 * reps["false_positive_rate_fixed"]
    assert reps["false_positive_rate_sequential"] <= 0.05
    assert "power_fixed" not in reps


@pytest.mark.long
def test_aa_many_seeds_false_positive_rate_near_alpha() -> None:
    reps = _aa(5000, 1)  # a look every minute: 240 looks
    sigma = (0.05 * 0.95 / 5000) ** 0.5
    assert abs(reps["false_positive_rate_fixed"] - 0.05) < 4 * sigma
    assert reps["false_positive_rate_peeking"] > 0.3
    assert reps["false_positive_rate_sequential"] < 0.05 + 2 * sigma


def test_power_with_a_true_effect() -> None:
    reps = repeat(Design(0.3, 0.03, 40, 0.5, 240, 15, 0.05, 0.03), 300, seed=5)
    assert reps["power_fixed"] > 0.8  # planned for 7,524 users, given about 9,600
    assert 0 < reps["power_sequential"] < reps["power_fixed"]
    assert reps["power_book"] < 0.2  # the chapter's 0.05 threshold misses a 3-point effect


def test_repetitions_are_deterministic_for_a_seed() -> None:
    design = Design(0.3, 0.02, 40, 0.5, 120, 10, 0.05, 0.03)
    assert repeat(design, 100, seed=4) == repeat(design, 100, seed=4)
    assert repeat(design, 100, seed=4) != repeat(design, 100, seed=5)
