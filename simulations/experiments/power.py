"""How many units an A/B test needs to detect the effect it is planned for (statsmodels)."""

from __future__ import annotations

import math

from statsmodels.stats.proportion import samplesize_proportions_2indep_onetail


def required_sample_size(baseline_rate: float, mde: float, alpha: float = 0.05, power: float = 0.8,
                         split: float = 0.5) -> dict[str, int]:
    """Units needed for the two-sided test of :func:`.stats.compare_proportions` to detect
    ``baseline_rate -> baseline_rate + mde`` with probability ``power``.

    statsmodels solves the normal power equation of that very test: the variance
    pooled under "no difference" sets the critical value, each side's own variance
    the spread under the effect.  (Cohen's arcsine effect size, the other common
    shortcut, asks for about 1% too few users at a 1% baseline.)  ``split`` is B's
    share; returns ``n_a``, ``n_b`` and ``total``, rounded up.
    """
    if mde == 0 or not 0.0 < baseline_rate + mde < 1.0:
        raise ValueError(f"cannot plan for a rate of {baseline_rate} + {mde}")
    n_b = samplesize_proportions_2indep_onetail(mde, baseline_rate, power, ratio=(1.0 - split) / split,
                                                alpha=alpha, alternative="two-sided")
    n_b = math.ceil(float(n_b))
    n_a = math.ceil(n_b * (1.0 - split) / split)
    return {"n_a": n_a, "n_b": n_b, "total": n_a + n_b}
