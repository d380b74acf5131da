"""The chapter's own A/B and canary logic (section 32.6), re-expressed to measure what it does.

Nothing here is used to run experiments: these functions reproduce the chapter's
arithmetic step by step, so the lesson can show its consequences as numbers
rather than opinions.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping

import numpy as np
from scipy import stats as sp_stats

from .stats import compare_means_from_stats

# CanaryConfig in the chapter
BOOK_INITIAL = 0.05
BOOK_INCREMENT = 0.10
BOOK_INTERVAL_MIN = 30
BOOK_ERROR_THRESHOLD = 0.05
BOOK_LATENCY_RATIO = 1.5
BOOK_PROMISED_STEPS = (0.05, 0.15, 0.30, 0.50, 1.0)  # its docstring: 5% -> 15% -> 30% -> 50% -> 100%
# Its A/B example: 500 ratings a side, means 4.2 and 4.5, "significant" when they differ by more than 0.05.
BOOK_AB_N = 500
BOOK_AB_MEANS = (4.2, 4.5)
BOOK_AB_THRESHOLD = 0.05
ASSUMED_RATING_SD = 1.0  # the chapter gives none; 1 point is typical of a 1-5 rating


def steps_text(steps) -> str:
    """Canary weights as the lessons write them: "5% → 15% → 100%"."""
    return " → ".join(f"{step * 100:.0f}%" for step in steps)


def book_example_welch() -> dict:
    """Welch's test on the chapter's example (4.2 against 4.5, 500 ratings a side, an assumed spread)."""
    mean_a, mean_b = BOOK_AB_MEANS
    return compare_means_from_stats(mean_a, ASSUMED_RATING_SD, BOOK_AB_N, mean_b, ASSUMED_RATING_SD, BOOK_AB_N)


def book_steps() -> list[float]:
    """The weights the chapter's ``deploy_canary`` really sets, float arithmetic included."""
    current = BOOK_INITIAL
    steps = [current]
    while current < 1.0:
        current = min(1.0, current + BOOK_INCREMENT)
        steps.append(current)
    return steps


def book_assign(experiment: str, user_id: str, split: Mapping[str, float]) -> str:
    """The chapter's ``assign_variant``: md5 modulo 100, then cumulative float shares."""
    value = int(hashlib.md5(f"{experiment}:{user_id}".encode()).hexdigest(), 16)
    ratio = (value % 100) / 100.0
    cumulative = 0.0
    for variant, share in split.items():
        cumulative += share
        if ratio < cumulative:
            return variant
    return next(iter(split))  # the fallback: the first variant takes whatever is left over


def book_shares(split: Mapping[str, float]) -> dict[str, float]:
    """The share of the 100 buckets each variant really gets under :func:`book_assign`'s loop."""
    counts = dict.fromkeys(split, 0)
    for bucket in range(100):
        ratio = bucket / 100.0
        cumulative = 0.0
        for variant, share in split.items():
            cumulative += share
            if ratio < cumulative:
                counts[variant] += 1
                break
        else:
            counts[next(iter(split))] += 1
    return {k: v / 100 for k, v in counts.items()}


def book_rule_false_positive(n_per_side: int, sd: float = ASSUMED_RATING_SD,
                             threshold: float = BOOK_AB_THRESHOLD) -> float:
    """P(|mean_b - mean_a| > threshold) when both variants are the same (an A/A test)."""
    se = sd * math.sqrt(2.0 / n_per_side)
    return float(2.0 * sp_stats.norm.sf(threshold / se))


def book_minute_trips(per_minute: float, error_rate: float) -> float:
    """P(one minute of the chapter's check trips on errors alone) for a canary failing at ``error_rate``.

    The minute's requests are Poisson with mean ``per_minute``; it trips when more
    than 5% of them fail (one error among fewer than 20 requests is enough).
    """
    requests = np.arange(int(per_minute + 12 * math.sqrt(per_minute) + 25))
    allowed = np.floor(BOOK_ERROR_THRESHOLD * requests)  # more errors than this trip the minute
    tail = sp_stats.binom.sf(allowed, requests, error_rate)
    return float(np.sum(sp_stats.poisson.pmf(requests, per_minute) * tail))


def book_window_trips(per_minute: float, error_rate: float, minutes: int = BOOK_INTERVAL_MIN) -> float:
    """P(at least one of the window's minutes trips)."""
    return 1.0 - (1.0 - book_minute_trips(per_minute, error_rate)) ** minutes


def book_release_survives(traffic_per_min: float, error_rate: float) -> float:
    """P(a canary failing at ``error_rate`` gets through the chapter's whole release on errors alone).

    Every window of :func:`book_steps` counts except the first, whose verdict
    ``deploy_canary`` throws away.  With the baseline's own error rate, this is the
    chance that a perfectly healthy version is not rolled back.
    """
    survives = 1.0
    for weight in book_steps()[1:]:
        survives *= 1.0 - book_window_trips(traffic_per_min * weight, error_rate)
    return survives
