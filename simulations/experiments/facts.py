"""Numbers the lessons quote, computed here so that prose never types them by hand."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from ..components.ab_dashboard import SPEC
from ..text import percent, scientific
from . import book, power
from .abtest import Design
from .assignment import BUCKETS, biased_share
from .canary import DETECTION_POWER, P99_MIN_REQUESTS, CanaryConfig, detectable_increase
from .repetitions import repeat
from .stats import SRM_ALPHA, SRM_MIN_COUNT, compare_proportions, srm_check

EXAMPLE_BASELINE = 0.30  # a success rate and an effect to plan for, in the lessons' examples
EXAMPLE_MDE = 0.03
EXAMPLE_TRAFFIC = 40  # requests per minute
EXAMPLE_WINDOW = 30  # minutes
EXAMPLE_ERROR_RATE = 0.004  # the mock gpt-4o-mini's 0.3% server errors + 0.1% hangs
EXAMPLE_CANARY = CanaryConfig(steps=(0.05, 0.15, 0.30, 0.50, 1.0), window_min=EXAMPLE_WINDOW)
SRM_EXAMPLE = (10_000, 10_600)  # users in A and in B of a 50/50 test
# An A/B test that "found nothing": B 31.2% against A 30.0%, 4,500 users a side.
NULL_RESULT_EXAMPLE = (1_350, 4_500, 1_404, 4_500)
# A canary too small to see anything: 1% of the example's traffic for 10 minutes, failing twice as often.
TINY_CANARY = {"weight": 0.01, "minutes": 10, "error_rate": 2 * EXAMPLE_ERROR_RATE}
# A/A repetitions the lesson quotes: the lab's default test (a look every 15 minutes for 4 hours).
AA_DESIGN = Design(baseline_rate=EXAMPLE_BASELINE, true_effect=0.0, traffic_per_min=EXAMPLE_TRAFFIC, split=0.5,
                   duration_min=240, peek_every_min=15, alpha=0.05, mde=EXAMPLE_MDE)
AA_RUNS = 2000
AA_RUNS_EVERY_MINUTE = 500


def _points(share: float) -> str:
    return f"{share * 100:g}"


def _signed_points(share: float) -> str:
    return f"{share * 100:+.1f}".replace("-", "−")


@functools.cache
def lesson_facts() -> dict[str, Any]:
    return {**_assignment_facts(), **_book_facts(), **_planning_facts(), **_canary_facts(), **_peeking_facts(),
            **_lab_facts()}


def _lab_facts() -> dict[str, Any]:
    """What the lab's defaults and presets are, so the lesson's tour of them stays true."""
    defaults, presets = SPEC.defaults(), SPEC.presets
    return {
        "lab_mde": _points(defaults["mde"]),
        "lab_peek_every": defaults["peek_every_min"],
        "aa_preset_runs": f"{presets['aa-test']['repetitions']:,}",
        "aa_preset_looks": presets["aa-test"]["duration_min"] // presets["aa-test"]["peek_every_min"],
        "regression_errors": _points(presets["canary-regression"]["regression_errors"]),
        "regression_slowdown": f"{presets['canary-regression']['regression_latency']:g}",
    }


def _assignment_facts() -> dict[str, Any]:
    n_a, n_b = SRM_EXAMPLE
    return {
        "buckets": f"{BUCKETS:,}",
        "biased_share": percent(biased_share(0.5)),
        "srm_alpha": f"{SRM_ALPHA:g}",
        "srm_min_count": SRM_MIN_COUNT,
        "srm_example_a": f"{n_a:,}",
        "srm_example_b": f"{n_b:,}",
        "srm_example_p": scientific(srm_check(n_a, n_b)["p_value"]),
    }


def _book_facts() -> dict[str, Any]:
    steps = book.book_steps()
    example = book.book_example_welch()
    per_min = EXAMPLE_TRAFFIC * steps[0]
    return {
        "book_steps": book.steps_text(steps),
        "book_step_count": len(steps),
        "book_minutes": len(steps) * book.BOOK_INTERVAL_MIN,
        "promised_steps": book.steps_text(book.BOOK_PROMISED_STEPS),
        "promised_step_count": len(book.BOOK_PROMISED_STEPS),
        "promised_minutes": len(book.BOOK_PROMISED_STEPS) * book.BOOK_INTERVAL_MIN,
        "book_drift": repr(steps[1]),
        "book_interval": book.BOOK_INTERVAL_MIN,
        "book_rule_aa": percent(book.book_rule_false_positive(book.BOOK_AB_N)),
        "book_n": book.BOOK_AB_N,
        "book_sd": f"{book.ASSUMED_RATING_SD:g}",
        "book_p": scientific(example["p_value"]),
        "book_ci": f"{example['ci_low']:.2f} – {example['ci_high']:.2f}",
        "book_shares_10_20_70": "/".join(f"{v * 100:.0f}" for v in book.book_shares({"a": 0.1, "b": 0.2,
                                                                                      "c": 0.7}).values()),
        "book_half_percent": percent(book.book_shares({"a": 0.995, "b": 0.005})["b"]),
        "book_shares_50_45": "/".join(f"{v * 100:.0f}" for v in book.book_shares({"a": 0.5, "b": 0.45}).values()),
        "example_one_error": percent(1 / per_min, 0),
        "example_book_trip": percent(book.book_window_trips(per_min, EXAMPLE_ERROR_RATE), 0),
        "example_book_trip_15": percent(book.book_window_trips(EXAMPLE_TRAFFIC * steps[1], EXAMPLE_ERROR_RATE), 0),
        "example_book_survives": percent(book.book_release_survives(EXAMPLE_TRAFFIC, EXAMPLE_ERROR_RATE), 2),
        "example_tenfold": percent(10 * EXAMPLE_ERROR_RATE, 0),
    }


def _planning_facts() -> dict[str, Any]:
    needed = power.required_sample_size(EXAMPLE_BASELINE, EXAMPLE_MDE)
    half = power.required_sample_size(EXAMPLE_BASELINE, EXAMPLE_MDE / 2)
    ok_a, n_a, ok_b, n_b = NULL_RESULT_EXAMPLE
    null = compare_proportions(ok_a, n_a, ok_b, n_b)
    return {
        "example_baseline": percent(EXAMPLE_BASELINE, 0),
        "example_mde": _points(EXAMPLE_MDE),
        "example_needed": f"{needed['total']:,}",
        "example_needed_minutes": f"{needed['total'] / EXAMPLE_TRAFFIC:.0f}",
        "example_half_mde": _points(EXAMPLE_MDE / 2),
        "example_half_needed": f"{half['total']:,}",
        "null_rate_a": percent(null["rate_a"]),
        "null_rate_b": percent(null["rate_b"]),
        "null_n": f"{n_a:,}",
        "null_p": f"{null['p_value']:.2f}",
        "null_low": _signed_points(null["ci_low"]),
        "null_high": _signed_points(null["ci_high"]),
    }


def _canary_facts() -> dict[str, Any]:
    config = EXAMPLE_CANARY
    canary_n = EXAMPLE_TRAFFIC * config.steps[0] * EXAMPLE_WINDOW
    baseline_n = EXAMPLE_TRAFFIC * EXAMPLE_WINDOW - canary_n
    tiny_n = EXAMPLE_TRAFFIC * TINY_CANARY["weight"] * TINY_CANARY["minutes"]
    detectable = detectable_increase(config, EXAMPLE_ERROR_RATE, baseline_n, canary_n)
    return {
        "example_traffic": EXAMPLE_TRAFFIC,
        "example_window": EXAMPLE_WINDOW,
        "example_canary_per_min": f"{EXAMPLE_TRAFFIC * config.steps[0]:g}",
        "example_canary_n": f"{canary_n:.0f}",
        "example_error_rate": percent(EXAMPLE_ERROR_RATE),
        "example_detectable": f"{detectable * 100:.1f}",
        "example_detectable_rate": percent(EXAMPLE_ERROR_RATE + detectable),
        "canary_alpha": percent(config.error_alpha, 0),
        "canary_margin": _points(config.error_margin),
        "canary_min_requests": config.min_requests,
        "detection_power": percent(DETECTION_POWER, 0),
        "p99_min_requests": P99_MIN_REQUESTS,
        "tiny_weight": percent(TINY_CANARY["weight"], 0),
        "tiny_minutes": TINY_CANARY["minutes"],
        "tiny_requests": f"{tiny_n:.0f}",
        "tiny_no_error": percent((1 - TINY_CANARY["error_rate"]) ** tiny_n, 0),
    }


def _peeking_facts() -> dict[str, Any]:
    every_look = repeat(AA_DESIGN, AA_RUNS, seed=0)
    every_minute = repeat(dataclasses.replace(AA_DESIGN, peek_every_min=1), AA_RUNS_EVERY_MINUTE, seed=0)
    return {
        "aa_runs": f"{AA_RUNS:,}",
        "aa_runs_every_minute": f"{AA_RUNS_EVERY_MINUTE:,}",
        "aa_peek_every": AA_DESIGN.peek_every_min,
        "aa_hours": AA_DESIGN.duration_min // 60,
        "aa_looks": every_look["looks"],
        "aa_fixed": percent(every_look["false_positive_rate_fixed"]),
        "aa_peeking": percent(every_look["false_positive_rate_peeking"]),
        "aa_sequential": percent(every_look["false_positive_rate_sequential"]),
        "aa_peeking_every_minute": percent(every_minute["false_positive_rate_peeking"]),
        "aa_sequential_every_minute": percent(every_minute["false_positive_rate_sequential"]),
    }

