"""A/B statistics on top of scipy and statsmodels: differences, intervals, p-values, SRM.

Every function returns plain Python numbers in a dict, so results can be cached as
JSON and compared in tests.  The conventions:

* ``diff`` is B minus A (treatment minus control, new minus old);
* ``significant`` is ``p_value < alpha``, two-sided;
* a difference of proportions uses the score test (Miettinen-Nurminen without its
  N/(N-1) factor, that is Mee's), which for "no difference" is the familiar pooled
  two-proportion z-test, and the score interval that inverts the same test, so
  ``significant`` is true exactly when the interval leaves out zero;
* a difference of means uses Welch's t-test (unequal variances) and its interval;
* "is the canary's error rate higher?" uses an exact one-sided test
  (:func:`excess_errors_p_value`): a canary's window holds a handful of errors, where
  the z-test's normal approximation calls noise significant.

These are *fixed-horizon* tests: their p-value is valid once, at a sample size
chosen in advance.  Looked at again and again while data arrive, they stop
holding alpha; :mod:`.sequential` has the test for that.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats as sp_stats
from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

# Sample-ratio mismatch: alert only on strong evidence (p < 0.001, as experimentation
# platforms do, because every running test is checked again and again), and only once
# each variant has enough units for the chi-square approximation to mean something.
SRM_ALPHA = 0.001
SRM_MIN_COUNT = 100


def _check_counts(successes: int, n: int, name: str) -> None:
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"{name}: need 0 <= successes <= n, got {successes} of {n}")


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")


def compare_proportions(successes_a: int, n_a: int, successes_b: int, n_b: int,
                        alpha: float = 0.05) -> dict[str, Any]:
    """Rate of B minus rate of A, with a ``1 - alpha`` interval and a two-sided p-value.

    Returns ``rate_a``, ``rate_b``, ``diff``, ``ci_low``, ``ci_high``, ``p_value``,
    ``significant``, ``n_a``, ``n_b``, ``alpha``.  With no units on one side there
    is nothing to compare: ``p_value`` 1 and the widest interval.
    """
    _check_counts(successes_a, n_a, "A")
    _check_counts(successes_b, n_b, "B")
    _check_alpha(alpha)
    rate_a = successes_a / n_a if n_a else 0.0
    rate_b = successes_b / n_b if n_b else 0.0
    out = {"rate_a": rate_a, "rate_b": rate_b, "diff": rate_b - rate_a, "n_a": n_a, "n_b": n_b,
           "alpha": alpha}
    if not n_a or not n_b:
        return {**out, "diff": 0.0, "ci_low": -1.0, "ci_high": 1.0, "p_value": 1.0, "significant": False}
    with warnings.catch_warnings():
        # statsmodels also computes ratios and odds ratios, which divide by zero at 0%
        warnings.simplefilter("ignore", RuntimeWarning)
        test = test_proportions_2indep(successes_b, n_b, successes_a, n_a, method="score",
                                       compare="diff", correction=False)
        low, high = _interval(successes_b, n_b, successes_a, n_a, alpha)
    p_value = float(test.pvalue)
    if not math.isfinite(p_value):  # both rates 0% or both 100%: no evidence of a difference
        p_value = 1.0
    return {**out, "ci_low": low, "ci_high": high, "p_value": p_value,
            "significant": p_value < alpha}


def _interval(successes_b: int, n_b: int, successes_a: int, n_a: int, alpha: float) -> tuple[float, float]:
    """The score interval; Newcombe's hybrid score interval where the score one has no root (0% vs 100%)."""
    try:
        low, high = confint_proportions_2indep(successes_b, n_b, successes_a, n_a, method="score",
                                               compare="diff", alpha=alpha, correction=False)
    except ValueError:
        low = high = float("nan")
    if not (math.isfinite(low) and math.isfinite(high)):
        low, high = confint_proportions_2indep(successes_b, n_b, successes_a, n_a, method="newcomb",
                                               compare="diff", alpha=alpha)
    return float(low), float(high)


def compare_means(values_a: Sequence[float], values_b: Sequence[float], alpha: float = 0.05) -> dict[str, Any]:
    """Mean of B minus mean of A: Welch's t-test and its ``1 - alpha`` interval (scipy)."""
    _check_alpha(alpha)
    a = np.asarray(values_a, dtype=float)
    b = np.asarray(values_b, dtype=float)
    if a.size < 2 or b.size < 2:
        raise ValueError("need at least two values on each side")
    result = sp_stats.ttest_ind(b, a, equal_var=False)
    interval = result.confidence_interval(confidence_level=1.0 - alpha)
    p_value = float(result.pvalue) if math.isfinite(result.pvalue) else 1.0
    return {"mean_a": float(a.mean()), "mean_b": float(b.mean()), "diff": float(b.mean() - a.mean()),
            "ci_low": float(interval.low), "ci_high": float(interval.high), "p_value": p_value,
            "significant": p_value < alpha, "n_a": int(a.size), "n_b": int(b.size), "alpha": alpha}


def compare_means_from_stats(mean_a: float, sd_a: float, n_a: int, mean_b: float, sd_b: float, n_b: int,
                             alpha: float = 0.05) -> dict[str, Any]:
    """:func:`compare_means` from summaries (mean, standard deviation, count) of each side."""
    _check_alpha(alpha)
    if n_a < 2 or n_b < 2 or sd_a < 0 or sd_b < 0:
        raise ValueError("need n >= 2 and sd >= 0 on each side")
    result = sp_stats.ttest_ind_from_stats(mean_b, sd_b, n_b, mean_a, sd_a, n_a, equal_var=False)
    var_a, var_b = sd_a ** 2 / n_a, sd_b ** 2 / n_b
    se = math.sqrt(var_a + var_b)
    diff = mean_b - mean_a
    if se == 0:
        return {"mean_a": mean_a, "mean_b": mean_b, "diff": diff, "ci_low": diff, "ci_high": diff,
                "p_value": 1.0 if diff == 0 else 0.0, "significant": diff != 0, "n_a": n_a, "n_b": n_b,
                "alpha": alpha}
    # Welch-Satterthwaite degrees of freedom, as scipy uses for the test itself
    df = (var_a + var_b) ** 2 / (var_a ** 2 / (n_a - 1) + var_b ** 2 / (n_b - 1))
    half = float(sp_stats.t.ppf(1.0 - alpha / 2.0, df)) * se
    p_value = float(result.pvalue)
    return {"mean_a": mean_a, "mean_b": mean_b, "diff": diff, "ci_low": diff - half, "ci_high": diff + half,
            "p_value": p_value, "significant": p_value < alpha, "n_a": n_a, "n_b": n_b, "alpha": alpha}


def excess_errors_p_value(errors_canary, n_canary, errors_baseline, n_baseline):
    """One-sided p-value that the canary fails more often than the baseline (numpy arrays welcome).

    Errors are rare events.  If both versions fail at the same rate, each of the
    ``errors_canary + errors_baseline`` errors falls on the canary with probability
    ``n_canary / (n_canary + n_baseline)``, its share of the requests: the p-value is
    the binomial tail of what the canary got (scipy's ``binomtest``, greater).  This
    is the conditional test for two Poisson rates (Przyborowski and Wilenski, 1940;
    statsmodels' ``test_poisson_2indep`` with ``method="exact-cond"``), exact at any
    count; at high error rates it errs on the side of not rolling back.  With no
    request on one side there is nothing to compare: p is 1.
    """
    errors_canary = np.asarray(errors_canary)
    n_canary = np.asarray(n_canary, dtype=float)
    n_baseline = np.asarray(n_baseline, dtype=float)
    total = n_canary + n_baseline
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, n_canary / total, 0.0)
    p_value = sp_stats.binom.sf(errors_canary - 1, errors_canary + np.asarray(errors_baseline), share)
    return np.where((n_canary > 0) & (n_baseline > 0), p_value, 1.0)


def srm_check(n_a: int, n_b: int, split: float = 0.5, *, alpha: float = SRM_ALPHA,
              min_count: int = SRM_MIN_COUNT) -> dict[str, Any]:
    """Do the counts fit the split?  Chi-square goodness of fit (scipy).

    ``split`` is B's intended share, as in :func:`.assignment.assign`.  ``alert``
    is true when ``p_value < alpha`` and each variant has at least ``min_count``
    units; ``enough_data`` says whether the second condition holds.  An SRM means
    the split itself is broken (assignment, logging, a filter that treats the
    variants differently): no comparison of the variants can be trusted until it
    is explained.
    """
    if n_a < 0 or n_b < 0:
        raise ValueError("counts must be non-negative")
    if not 0.0 < split < 1.0:
        raise ValueError(f"split must be strictly between 0 and 1, got {split!r}")
    total = n_a + n_b
    expected_a, expected_b = total * (1.0 - split), total * split
    if total == 0:
        chi2, p_value = 0.0, 1.0
    else:
        result = sp_stats.chisquare([n_a, n_b], f_exp=[expected_a, expected_b])
        chi2, p_value = float(result.statistic), float(result.pvalue)
    enough = min(n_a, n_b) >= min_count
    return {"n_a": n_a, "n_b": n_b, "split": split, "expected_a": expected_a, "expected_b": expected_b,
            "observed_share_b": n_b / total if total else 0.0, "chi2": chi2, "p_value": p_value,
            "enough_data": enough, "alert": enough and p_value < alpha, "alpha": alpha,
            "min_count": min_count}
