"""The vectorised tests against statsmodels, and what many seeded repetitions show."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep, power_proportions_2indep, proportions_ztest

from simulations.experiments import power, repetitions, sequential
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


def test_the_boundary_rises_peaks_below_alpha_and_falls_again() -> None:
    tau, alpha = 0.03, 0.05
    units = np.array([100, 1_000, 5_000, 10_000, 100_000, 10_000_000])
    boundary = sequential.boundary_p(0.21 * 4 / units, tau, alpha)  # 30% rates, half the units a side
    assert np.all(boundary < alpha)
    assert boundary[0] < 1e-10 < boundary[1] < boundary[2]  # early, only an overwhelming difference stops it
    assert boundary[3] > boundary[4] > boundary[5]  # past the peak it falls again, slowly


def test_confidence_sequence_is_wider_than_the_fixed_interval_and_only_narrows() -> None:
    ok_a, n_a = np.array([30, 150, 300]), np.array([100, 500, 1000])
    ok_b, n_b = np.array([36, 170, 350]), np.array([100, 500, 1000])
    low, high = sequential.confidence_sequence(ok_a, n_a, ok_b, n_b, tau=0.03, alpha=0.05)
    assert np.all(np.diff(low) >= 0) and np.all(np.diff(high) <= 0)
    fixed = confint_proportions_2indep(350, 1000, 300, 1000, method="wald", compare="diff")
    assert low[-1] < fixed[0] < 0.05 < fixed[1] < high[-1]


def test_confidence_sequence_covers_the_truth_at_every_look_at_once() -> None:
    """Time-uniform coverage: over A/A repetitions looked at every minute, the always-valid
    interval leaves out the true difference (zero) at some look in at most about alpha of them."""
    design = Design(0.3, 0.0, 40, 0.5, 240, 1, 0.05, 0.03)
    counts = repetitions.simulate_counts(design, 0.3, 400, np.random.default_rng(7))
    low, high = sequential.confidence_sequence(counts["s_a"], counts["n_a"], counts["s_b"], counts["n_b"],
                                               tau=0.03, alpha=0.05)
    missed = float(((low > 0) | (high < 0)).any(axis=1).mean())
    assert missed <= 0.05 + 2 * (0.05 * 0.95 / 400) ** 0.5


def test_required_sample_size_is_where_the_test_reaches_its_power() -> None:
    """The lab's test is the pooled two-proportion test; statsmodels' power function for it
    says the returned size is the smallest one with the planned power."""
    for baseline, mde, split in ((0.30, 0.03, 0.5), (0.01, 0.005, 0.5), (0.30, 0.03, 0.2)):
        needed = power.required_sample_size(baseline, mde, split=split)
        ratio = needed["n_a"] / needed["n_b"]
        reached = power_proportions_2indep(mde, baseline, needed["n_b"], ratio=ratio, return_results=False)
        short = power_proportions_2indep(mde, baseline, needed["n_b"] - 3, ratio=ratio, return_results=False)
        assert short < 0.8 <= reached + 1e-4
        assert needed["n_b"] / needed["total"] == pytest.approx(split, abs=1e-3)
    # Cohen's arcsine shortcut asks for too few users at a low baseline
    h = 2 * np.arcsin(np.sqrt(0.015)) - 2 * np.arcsin(np.sqrt(0.01))
    assert power.required_sample_size(0.01, 0.005)["n_a"] > 2 * ((1.959964 + 0.841621) / h) ** 2 + 50
    # half the effect: about four times the users
    assert power.required_sample_size(0.30, 0.015)["total"] > 3.8 * power.required_sample_size(0.30, 0.03)["total"]
    with pytest.raises(ValueError):
        power.required_sample_size(0.9, 0.2)


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


def test_batches_give_the_same_totals_in_any_order() -> None:
    design = Design(0.3, 0.02, 40, 0.5, 240, 1, 0.05, 0.03)  # 240 looks: several batches
    plan = repetitions.plan(design, 500)
    assert len(plan) > 2
    for scenario in ("false_positive_rate", "power"):
        assert sum(chunk.runs for batch in plan for chunk in batch if chunk.scenario == scenario) == 500
    assert all(sum(chunk.runs for chunk in batch) * 240 <= repetitions.CELLS_PER_BATCH for batch in plan)
    backwards = [repetitions.run_batch(design, batch, 9) for batch in reversed(plan)]
    assert repetitions.summarise(design, 500, backwards) == repeat(design, 500, seed=9)
    with pytest.raises(ValueError):
        repetitions.summarise(design, 500, backwards[1:])  # a batch is missing


def test_a_small_plan_is_one_batch() -> None:
    design = Design(0.3, 0.03, 40, 0.5, 240, 15, 0.05, 0.03)  # the lab's defaults: 200 runs x 16 looks
    assert [[chunk.scenario for chunk in batch] for batch in repetitions.plan(design, 200)] == [
        ["false_positive_rate", "power"]]
