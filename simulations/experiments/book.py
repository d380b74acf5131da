"""The chapter's own A/B and canary logic (section 32.6), re-expressed to measure what it does.

Nothing here is used to run experiments: these functions reproduce the chapter's
arithmetic step by step, so the lesson can show its consequences as numbers
rather than opinions.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping

from scipy import stats as sp_stats

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


def book_false_rollback(per_minute_canary: float, error_rate: float, minutes: int) -> float:
    """P(the chapter's per-minute check trips at least once on a healthy canary).

    Below 20 canary requests in a minute, a single error is above 5%: the minute
    trips with probability about 1 - exp(-requests * error_rate) (Poisson traffic).
    Exact only while a minute rarely holds 20 or more requests.
    """
    return 1.0 - math.exp(-per_minute_canary * error_rate * minutes)
