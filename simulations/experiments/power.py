"""How many units an experiment needs, and what a small sample can detect (statsmodels)."""

from __future__ import annotations

import math

from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

_POWER = NormalIndPower()


def required_sample_size(baseline_rate: float, mde: float, alpha: float = 0.05, power: float = 0.8,
                         split: float = 0.5) -> dict[str, int]:
    """Units needed to detect ``baseline_rate -> baseline_rate + mde`` (two-sided test).

    Cohen's effect size h for two proportions and the normal power equation, as
    statsmodels solves them.  ``split`` is B's share; returns ``n_a``, ``n_b``, ``total``.
    """
    target = min(max(baseline_rate + mde, 1e-6), 1 - 1e-6)
    effect = abs(proportion_effectsize(target, baseline_rate))
    if effect == 0:
        raise ValueError("the minimum detectable effect must not be zero")
    ratio = split / (1.0 - split)  # n_b / n_a
    n_a = _POWER.solve_power(effect_size=effect, alpha=alpha, power=power, ratio=ratio,
                             alternative="two-sided")
    n_a = math.ceil(float(n_a))
    n_b = math.ceil(n_a * ratio)
    return {"n_a": n_a, "n_b": n_b, "total": n_a + n_b}


def detectable_increase(baseline_rate: float, n_baseline: float, n_canary: float, alpha: float = 0.01,
                        power: float = 0.8) -> float:
    """The smallest rise of a rate (say an error rate) that ``n_canary`` observations can catch.

    One-sided test at ``alpha`` with ``power`` against ``n_baseline`` observations
    of the baseline; returns the increase in absolute terms (0.03 = 3 points), or
    1 - baseline when even a certain failure could not be told apart.
    """
    if n_canary < 1 or n_baseline < 1:
        return 1.0 - baseline_rate
    effect = _POWER.solve_power(nobs1=n_canary, ratio=n_baseline / n_canary, alpha=alpha, power=power,
                                alternative="larger")
    effect = float(effect)
    # invert Cohen's h = 2 asin(sqrt(p2)) - 2 asin(sqrt(p1))
    angle = math.asin(math.sqrt(baseline_rate)) + effect / 2.0
    if angle >= math.pi / 2:
        return 1.0 - baseline_rate
    return math.sin(angle) ** 2 - baseline_rate
