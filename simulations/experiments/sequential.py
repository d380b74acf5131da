"""A test you may look at after every new observation: the mixture SPRT (mSPRT).

A fixed-horizon p-value (:mod:`.stats`) is valid once, at the sample size planned
in advance.  Checked at every look and stopped at the first p < alpha, an A/A
test "wins" far more often than alpha.  The mixture sequential probability ratio
test keeps the false-positive rate at or below alpha however often one looks,
and however the stopping time is chosen.

Method: Johari, Koomen, Pekelis and Walsh, "Peeking at A/B Tests: Why it matters,
and what to do about it", KDD 2017, and "Always Valid Inference: Continuous
Monitoring of A/B Tests", Operations Research 70(3), 2022 (the test behind
Optimizely's Stats Engine).  For a difference ``theta`` estimated by
``theta_hat`` with variance ``V`` (normal approximation), mixing the alternative
over ``theta ~ N(0, tau^2)`` gives the likelihood ratio against ``theta = 0``

    Lambda = sqrt(V / (V + tau^2)) * exp(tau^2 * theta_hat^2 / (2 * V * (V + tau^2)))

For normal data with a known variance, ``Lambda`` is under the null a non-negative
martingale with mean 1, so by Ville's inequality P(Lambda ever reaches 1/alpha) <= alpha;
with rates, ``V`` is estimated and the normal shape is an approximation, so the
guarantee holds approximately (the repetitions measure it: at or below alpha).  The test rejects the first
time ``Lambda >= 1/alpha``; the always-valid p-value is the running minimum of
``1/Lambda``.  ``tau`` does not affect validity, only where the test is most
powerful: we set it to the minimum detectable effect the experiment is planned for.

Inverting the same inequality gives an always-valid confidence sequence:
``theta_hat +- sqrt(2 V (V + tau^2) / tau^2 * log(sqrt((V + tau^2) / V) / alpha))``,
with ``V`` from each side's own rate since it must hold away from zero too; the
running intersection of the intervals is still always valid.

All functions take numpy arrays (any shape) so that many looks of many repeated
experiments are computed at once.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def _rates(successes_a, n_a, successes_b, n_b):
    n_a = np.asarray(n_a, dtype=float)
    n_b = np.asarray(n_b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate_a = np.where(n_a > 0, np.asarray(successes_a, dtype=float) / n_a, 0.0)
        rate_b = np.where(n_b > 0, np.asarray(successes_b, dtype=float) / n_b, 0.0)
    return n_a, n_b, rate_a, rate_b


def pooled_variance(successes_a, n_a, successes_b, n_b) -> np.ndarray:
    """Variance of rate_b - rate_a when both rates are equal (the null), from the pooled rate."""
    n_a, n_b, _, _ = _rates(successes_a, n_a, successes_b, n_b)
    total = n_a + n_b
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = np.where(total > 0, (np.asarray(successes_a) + np.asarray(successes_b)) / total, 0.0)
        return pooled * (1.0 - pooled) * (1.0 / n_a + 1.0 / n_b)


def z_test(successes_a, n_a, successes_b, n_b) -> tuple[np.ndarray, np.ndarray]:
    """(z, two-sided p) of the pooled two-proportion z-test, element by element.

    The same test as statsmodels' ``proportions_ztest`` (and the score test of
    :func:`.stats.compare_proportions`), vectorised over looks and repetitions.
    Where there is no variance yet (no units, or all rates 0% or 100%), z is 0 and p is 1.
    """
    _, _, rate_a, rate_b = _rates(successes_a, n_a, successes_b, n_b)
    variance = pooled_variance(successes_a, n_a, successes_b, n_b)
    ok = np.isfinite(variance) & (variance > 0)
    z = np.where(ok, (rate_b - rate_a) / np.sqrt(np.where(ok, variance, 1.0)), 0.0)
    return z, 2.0 * special.ndtr(-np.abs(z))


def log_mixture_lr(diff, variance, tau: float) -> np.ndarray:
    """log Lambda for estimate ``diff`` with variance ``variance`` and mixing scale ``tau``."""
    if tau <= 0:
        raise ValueError("tau must be positive")
    diff = np.asarray(diff, dtype=float)
    variance = np.asarray(variance, dtype=float)
    tau2 = tau * tau
    ok = np.isfinite(variance) & (variance > 0)
    v = np.where(ok, variance, 1.0)
    out = 0.5 * np.log(v / (v + tau2)) + tau2 * diff * diff / (2.0 * v * (v + tau2))
    return np.where(ok, out, 0.0)  # no information yet: Lambda = 1


def msprt(successes_a, n_a, successes_b, n_b, tau: float) -> np.ndarray:
    """log Lambda of the two-proportion mSPRT at each look (variance pooled under the null)."""
    _, _, rate_a, rate_b = _rates(successes_a, n_a, successes_b, n_b)
    return log_mixture_lr(rate_b - rate_a, pooled_variance(successes_a, n_a, successes_b, n_b), tau)


def always_valid_p(log_lr: np.ndarray, axis: int = -1) -> np.ndarray:
    """Running minimum of 1/Lambda along ``axis`` (the looks), capped at 1."""
    p = np.minimum(1.0, np.exp(-np.asarray(log_lr, dtype=float)))
    return np.minimum.accumulate(p, axis=axis)


def rejects(log_lr: np.ndarray, alpha: float) -> np.ndarray:
    """Where Lambda has reached 1/alpha."""
    return np.asarray(log_lr) >= np.log(1.0 / alpha)


def boundary_p(variance, tau: float, alpha: float) -> np.ndarray:
    """The fixed-horizon p-value a look needs for the mSPRT to reject at that look.

    Lambda >= 1/alpha exactly when z^2 >= 2 (V + tau^2) / tau^2 * (log(1/alpha) + log(sqrt((V + tau^2) / V))).
    Drawn on a p-value chart, the boundary starts far below alpha, rises while the
    estimate's spread shrinks towards ``tau`` (the effect the test is tuned for),
    peaks well below alpha and then falls again, slowly: a sequential test never
    accepts what a single test at alpha accepts.
    """
    variance = np.asarray(variance, dtype=float)
    tau2 = tau * tau
    ok = np.isfinite(variance) & (variance > 0)
    v = np.where(ok, variance, 1.0)
    z2 = 2.0 * (v + tau2) / tau2 * (np.log(1.0 / alpha) + 0.5 * np.log((v + tau2) / v))
    return np.where(ok, 2.0 * special.ndtr(-np.sqrt(z2)), 0.0)


def confidence_sequence(successes_a, n_a, successes_b, n_b, tau: float, alpha: float,
                        axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) of the always-valid ``1 - alpha`` interval for rate_b - rate_a at each look.

    Each look's interval inverts the mixture likelihood ratio with each side's own
    variance; along ``axis`` (the looks) the intervals are intersected, so they only
    narrow.  Before both sides have a variance the interval is the widest, -1 to 1.
    """
    _, _, rate_a, rate_b = _rates(successes_a, n_a, successes_b, n_b)
    variance = unpooled_variance(successes_a, n_a, successes_b, n_b)
    tau2 = tau * tau
    ok = np.isfinite(variance) & (variance > 0)
    v = np.where(ok, variance, 1.0)
    half = np.sqrt(2.0 * v * (v + tau2) / tau2 * np.log(np.sqrt((v + tau2) / v) / alpha))
    diff = rate_b - rate_a
    low = np.where(ok, np.maximum(diff - half, -1.0), -1.0)
    high = np.where(ok, np.minimum(diff + half, 1.0), 1.0)
    return np.maximum.accumulate(low, axis=axis), np.minimum.accumulate(high, axis=axis)


def unpooled_variance(successes_a, n_a, successes_b, n_b) -> np.ndarray:
    """Variance of rate_b - rate_a with each side's own rate (for intervals)."""
    n_a, n_b, rate_a, rate_b = _rates(successes_a, n_a, successes_b, n_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        return rate_a * (1 - rate_a) / n_a + rate_b * (1 - rate_b) / n_b
