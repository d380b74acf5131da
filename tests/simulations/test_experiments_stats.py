"""A/B statistics against the libraries' own answers and textbook values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sp_stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from simulations.experiments.stats import (compare_means, compare_means_from_stats, compare_proportions,
                                           srm_check)


def test_proportions_match_the_pooled_z_test() -> None:
    result = compare_proportions(100, 1000, 130, 1000)
    z, p = proportions_ztest([130, 100], [1000, 1000])
    assert result["diff"] == pytest.approx(0.03)
    assert result["p_value"] == pytest.approx(p, rel=1e-9)
    assert result["p_value"] == pytest.approx(0.035488, abs=1e-6)  # z = 2.1027
    assert result["significant"]
    low, high = confint_proportions_2indep(130, 1000, 100, 1000, method="score", correction=False)
    assert (result["ci_low"], result["ci_high"]) == pytest.approx((low, high))
    assert result["ci_low"] < 0.03 < result["ci_high"]


def test_interval_and_test_agree_on_many_cases() -> None:
    rng = np.random.default_rng(3)
    for _ in range(60):
        n_a, n_b = (int(x) for x in rng.integers(50, 3000, size=2))
        s_a = int(rng.binomial(n_a, 0.3))
        s_b = int(rng.binomial(n_b, 0.3 + rng.uniform(-0.05, 0.05)))
        r = compare_proportions(s_a, n_a, s_b, n_b, alpha=0.05)
        excludes_zero = r["ci_low"] > 0 or r["ci_high"] < 0
        if abs(r["p_value"] - 0.05) > 1e-4:  # away from the root-finder's tolerance
            assert excludes_zero == r["significant"]


def test_proportions_edge_cases_never_give_nan() -> None:
    for args in [(0, 10, 0, 10), (10, 10, 10, 10), (0, 10, 10, 10), (0, 0, 5, 10)]:
        r = compare_proportions(*args)
        assert all(np.isfinite([r["diff"], r["ci_low"], r["ci_high"], r["p_value"]]))
    assert compare_proportions(0, 10, 0, 10)["p_value"] == 1.0
    assert compare_proportions(0, 10, 10, 10)["significant"]
    with pytest.raises(ValueError):
        compare_proportions(11, 10, 0, 10)
    with pytest.raises(ValueError):
        compare_proportions(1, 10, 1, 10, alpha=0)


def test_means_match_welch() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(4.2, 1.0, 400), rng.normal(4.35, 1.3, 300)
    r = compare_means(a, b)
    expected = sp_stats.ttest_ind(b, a, equal_var=False)
    assert r["p_value"] == pytest.approx(expected.pvalue)
    ci = expected.confidence_interval(0.95)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((ci.low, ci.high))
    summary = compare_means_from_stats(a.mean(), a.std(ddof=1), a.size, b.mean(), b.std(ddof=1), b.size)
    assert summary["p_value"] == pytest.approx(r["p_value"])
    assert (summary["ci_low"], summary["ci_high"]) == pytest.approx((r["ci_low"], r["ci_high"]))


def test_a_difference_of_005_on_500_ratings_a_side_is_noise() -> None:
    # The chapter calls any mean difference above 0.05 significant.  With a standard
    # deviation of 1 (a 1-5 rating) and 500 ratings a side, that difference has p = 0.43.
    r = compare_means_from_stats(4.20, 1.0, 500, 4.25, 1.0, 500)
    assert r["p_value"] == pytest.approx(0.43, abs=0.01)
    assert not r["significant"]


def test_srm_matches_scipy_and_alerts_only_on_strong_evidence() -> None:
    r = srm_check(5000, 5300)
    expected = sp_stats.chisquare([5000, 5300])
    assert r["chi2"] == pytest.approx(expected.statistic)
    assert r["p_value"] == pytest.approx(0.003117, abs=1e-6)
    assert not r["alert"]  # p = 0.003: not below 0.001
    assert srm_check(5000, 5500)["alert"]
    # A 90/10 canary split has its own expectation.
    assert not srm_check(9000, 1000, split=0.1)["alert"]
    assert srm_check(9000, 1000, split=0.5)["alert"]


def test_srm_waits_for_a_minimum_count() -> None:
    r = srm_check(60, 10)
    assert r["p_value"] < 0.001 and not r["enough_data"] and not r["alert"]
    assert srm_check(60, 10, min_count=5)["alert"]
    assert srm_check(0, 0)["p_value"] == 1.0
    with pytest.raises(ValueError):
        srm_check(10, 10, split=0.0)
