"""Numbers the lessons quote, computed here so that prose never types them by hand."""

from __future__ import annotations

import functools
from typing import Any

from . import book, power
from .assignment import BUCKETS, biased_share
from .stats import SRM_ALPHA, SRM_MIN_COUNT, compare_means_from_stats

EXAMPLE_BASELINE = 0.30  # a success rate and an effect to plan for, in the lessons' examples
EXAMPLE_MDE = 0.03
EXAMPLE_TRAFFIC = 40  # requests per minute
EXAMPLE_WINDOW = 30  # minutes
EXAMPLE_ERROR_RATE = 0.004  # the mock gpt-4o-mini's 0.3% server errors + 0.1% hangs


def _pct(x: float, digits: int = 1) -> str:
    return f"{x * 100:.{digits}f}%"


@functools.cache
def lesson_facts() -> dict[str, Any]:
    steps = book.book_steps()
    mean_a, mean_b = book.BOOK_AB_MEANS
    example = compare_means_from_stats(mean_a, book.ASSUMED_RATING_SD, book.BOOK_AB_N,
                                       mean_b, book.ASSUMED_RATING_SD, book.BOOK_AB_N)
    needed = power.required_sample_size(EXAMPLE_BASELINE, EXAMPLE_MDE)
    canary_n = EXAMPLE_TRAFFIC * 0.05 * EXAMPLE_WINDOW
    detect = power.detectable_increase(EXAMPLE_ERROR_RATE, EXAMPLE_TRAFFIC * 0.95 * EXAMPLE_WINDOW, canary_n)
    per_min = EXAMPLE_TRAFFIC * 0.05
    return {
        "buckets": f"{BUCKETS:,}",
        "biased_share": _pct(biased_share(0.5)),
        "srm_alpha": f"{SRM_ALPHA:g}",
        "srm_min_count": SRM_MIN_COUNT,
        "book_steps": " → ".join(f"{s * 100:.0f}%" for s in steps),
        "book_step_count": len(steps),
        "book_minutes": len(steps) * book.BOOK_INTERVAL_MIN,
        "promised_steps": " → ".join(f"{s * 100:.0f}%" for s in book.BOOK_PROMISED_STEPS),
        "promised_step_count": len(book.BOOK_PROMISED_STEPS),
        "promised_minutes": len(book.BOOK_PROMISED_STEPS) * book.BOOK_INTERVAL_MIN,
        "book_drift": repr(steps[1]),
        "book_interval": book.BOOK_INTERVAL_MIN,
        "book_rule_aa": _pct(book.book_rule_false_positive(book.BOOK_AB_N)),
        "book_n": book.BOOK_AB_N,
        "book_sd": f"{book.ASSUMED_RATING_SD:g}",
        "book_p": f"{example['p_value']:.1g}",
        "book_ci": f"{example['ci_low']:.2f} – {example['ci_high']:.2f}",
        "book_shares_10_20_70": "/".join(f"{v * 100:.0f}" for v in book.book_shares({"a": 0.1, "b": 0.2,
                                                                                      "c": 0.7}).values()),
        "book_half_percent": _pct(book.book_shares({"a": 0.995, "b": 0.005})["b"]),
        "book_shares_50_45": "/".join(f"{v * 100:.0f}" for v in book.book_shares({"a": 0.5, "b": 0.45}).values()),
        "example_baseline": _pct(EXAMPLE_BASELINE, 0),
        "example_mde": f"{EXAMPLE_MDE * 100:g}",
        "example_needed": f"{needed['total']:,}",
        "example_needed_minutes": f"{needed['total'] / EXAMPLE_TRAFFIC:.0f}",
        "example_traffic": EXAMPLE_TRAFFIC,
        "example_window": EXAMPLE_WINDOW,
        "example_canary_per_min": f"{per_min:g}",
        "example_canary_n": f"{canary_n:.0f}",
        "example_error_rate": _pct(EXAMPLE_ERROR_RATE),
        "example_detectable": _pct(detect),
        "example_one_error": _pct(1 / per_min, 0),
        "example_book_trip": _pct(book.book_false_rollback(per_min, EXAMPLE_ERROR_RATE, book.BOOK_INTERVAL_MIN), 0),
        "example_book_trip_15": _pct(book.book_false_rollback(EXAMPLE_TRAFFIC * 0.15, EXAMPLE_ERROR_RATE,
                                                              book.BOOK_INTERVAL_MIN), 0),
    }
