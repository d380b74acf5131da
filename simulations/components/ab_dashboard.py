"""Canary releases and A/B tests (section 32.6) on simulated traffic.

Three parts, each real code from :mod:`simulations.experiments`:

* an A/B test: units hashed into A or B (:mod:`..experiments.assignment`), looked
  at every ``peek_every_min`` minutes, analysed at the planned end with a
  fixed-horizon test and watched all along by the mSPRT (:mod:`..experiments.sequential`);
* a canary release (:mod:`..experiments.canary`): steps, windows, rollback against
  the baseline, between two mock service versions built from the model profiles;
* the same experiment repeated over many seeds (:mod:`..experiments.repetitions`):
  false positives with no true difference, power with one, for one test at the
  end, a test at every look, the sequential test and the chapter's rule.

The repetitions are the slow part: ``run_experiment`` gives everything else, and
the repetitions come in batches that a page fetches after it (:data:`DEFERRED`),
showing progress; ``run`` does it all in one call.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from ..component import CodeRef, Component, Deferred, Note, Result, note
from ..experiments import book, power, repetitions, sequential
from ..experiments.abtest import Design, run_once
from ..experiments.assignment import bucket
from ..experiments.canary import (DETECTION_POWER, CanaryConfig, CanaryController, ServiceVersion, detectable_increase,
                                  judge_baseline, run_canary)
from ..experiments.stats import compare_proportions, excess_errors_p_value, srm_check
from ..params import Param, ParamError, ParamSpec, Value
from ..profiles import PROFILES
from ..text import gettext_noop, percent, scientific

# Caps that keep a run inside the time limit.
MAX_UNITS = 200_000  # units hashed in one A/B run
MAX_REPETITION_CELLS = 500_000  # repetitions x looks, per scenario

STEP_PLANS: dict[str, tuple[float, ...]] = {
    "5-15-30-50-100": (0.05, 0.15, 0.30, 0.50, 1.0),
    "book-loop": tuple(book.book_steps()),
    "1-5-25-50-100": (0.01, 0.05, 0.25, 0.50, 1.0),
    "10-50-100": (0.10, 0.50, 1.0),
}

SPEC = ParamSpec(
    params=(
        # -- the A/B test
        Param("baseline_rate", 0.30, min=0.01, max=0.9, step=0.01, label=gettext_noop("Baseline success rate"),
              unit=gettext_noop("share"),
              help=gettext_noop("Share of users of version A whose answer is rated helpful.")),
        Param("true_effect", 0.03, min=-0.1, max=0.1, step=0.005, label=gettext_noop("True effect"),
              unit=gettext_noop("share"),
              help=gettext_noop("B's success rate minus A's, in truth (0 makes an A/A test).")),
        Param("mde", 0.03, min=0.005, max=0.2, step=0.005, label=gettext_noop("Minimum detectable effect"),
              unit=gettext_noop("share"),
              help=gettext_noop("The smallest difference the test is planned to detect; sets the sample size "
                                "and the sequential test's mixing scale.")),
        Param("traffic_per_min", 40, min=1, max=500, step=1, label=gettext_noop("Traffic"),
              unit=gettext_noop("users/min"), help=gettext_noop("New users arriving per minute (Poisson).")),
        Param("split", 0.5, min=0.05, max=0.95, step=0.05, label=gettext_noop("Split"),
              unit=gettext_noop("share to B"), help=gettext_noop("Share of users hashed into B.")),
        Param("duration_min", 240, min=10, max=1440, step=10, label=gettext_noop("Duration"),
              unit=gettext_noop("min"), help=gettext_noop("Planned length of the A/B test.")),
        Param("peek_every_min", 15, min=1, max=240, step=1, label=gettext_noop("Look every"),
              unit=gettext_noop("min"), help=gettext_noop("How often someone checks the results.")),
        Param("alpha", 0.05, min=0.001, max=0.2, step=0.001, label=gettext_noop("Alpha"),
              help=gettext_noop("Accepted false-positive rate of the test.")),
        Param("power", 0.8, min=0.5, max=0.99, step=0.01, label=gettext_noop("Power"),
              help=gettext_noop("Chance of detecting a true effect of the minimum size.")),
        Param("repetitions", 200, min=20, max=5000, step=10, label=gettext_noop("Repetitions"),
              unit=gettext_noop("runs"),
              help=gettext_noop("How many times the whole experiment is re-run on new seeds.")),
        Param("biased_assignment", False, label=gettext_noop("Biased bucketing"),
              help=gettext_noop("Bucket by one byte of the hash modulo 100, which favours B (a real SRM).")),
        # -- the canary release
        Param("baseline_model", "gpt-4o-mini", choices=tuple(PROFILES), label=gettext_noop("Baseline version")),
        Param("canary_model", "gpt-4o-mini", choices=tuple(PROFILES), label=gettext_noop("Canary version"),
              help=gettext_noop("The new version's model (the same model for a new prompt template).")),
        Param("canary_steps", "5-15-30-50-100", choices=tuple(STEP_PLANS), label=gettext_noop("Canary steps"),
              unit=gettext_noop("steps, percent of traffic"),
              choice_labels={"5-15-30-50-100": gettext_noop("5 → 15 → 30 → 50 → 100 (the chapter's docstring)"),
                             "book-loop": gettext_noop("5 → 15 → 25 → … → 95 → 100 (the chapter's loop)"),
                             "1-5-25-50-100": gettext_noop("1 → 5 → 25 → 50 → 100"),
                             "10-50-100": gettext_noop("10 → 50 → 100")}),
        Param("window_min", 30, min=1, max=120, step=1, label=gettext_noop("Observation window"),
              unit=gettext_noop("min"), help=gettext_noop("How long each step is watched before the next.")),
        Param("canary_rule", "baseline", choices=("baseline", "book"), label=gettext_noop("Health rule"),
              choice_labels={"baseline": gettext_noop("against the baseline, over the step"),
                             "book": gettext_noop("the chapter's: each minute, absolute 5%")}),
        Param("error_margin", 0.02, min=0.0, max=0.2, step=0.005, label=gettext_noop("Error-rate margin"),
              unit=gettext_noop("share"),
              help=gettext_noop("How much higher than the baseline's the canary's error rate may be.")),
        Param("latency_ratio", 1.5, min=1.05, max=5.0, step=0.05, label=gettext_noop("p99 latency limit"),
              unit=gettext_noop("× baseline"), help=gettext_noop("Canary p99 allowed, as a multiple of the baseline's.")),
        Param("min_canary_requests", 30, min=5, max=2000, step=5, label=gettext_noop("Minimum canary requests"),
              unit=gettext_noop("requests"), help=gettext_noop("A step with fewer canary requests is not promoted.")),
        Param("regression_errors", 0.0, min=0.0, max=0.5, step=0.005, label=gettext_noop("Injected extra errors"),
              unit=gettext_noop("share"), help=gettext_noop("Extra error rate of the new version.")),
        Param("regression_latency", 1.0, min=1.0, max=5.0, step=0.05, label=gettext_noop("Injected slowdown"),
              unit=gettext_noop("×"), help=gettext_noop("The new version's latency as a multiple of its model's.")),
    ),
    presets={
        # The chapter's CanaryConfig and loop, and an A/B test of its example's size (500 a side).
        "book-32.6": {"canary_rule": "book", "canary_steps": "book-loop", "window_min": book.BOOK_INTERVAL_MIN,
                      "latency_ratio": book.BOOK_LATENCY_RATIO, "traffic_per_min": 40, "duration_min": 25,
                      "peek_every_min": 5, "split": 0.5, "true_effect": 0.03, "mde": 0.03},
        "aa-test": {"true_effect": 0.0, "repetitions": 500, "peek_every_min": 1, "duration_min": 240},
        "canary-regression": {"regression_errors": 0.05, "regression_latency": 1.5, "canary_rule": "baseline"},
        "canary-healthy": {"regression_errors": 0.0, "regression_latency": 1.0, "canary_rule": "baseline"},
    },
)


def design_of(params: Mapping[str, Value]) -> Design:
    """The A/B test these values describe; ParamError when they cannot run together."""
    design = Design(baseline_rate=params["baseline_rate"], true_effect=params["true_effect"],
                    traffic_per_min=params["traffic_per_min"], split=params["split"],
                    duration_min=params["duration_min"],
                    peek_every_min=min(params["peek_every_min"], params["duration_min"]),
                    alpha=params["alpha"], mde=params["mde"], biased_assignment=params["biased_assignment"])
    _check(params, design)
    return design


def _check(params: Mapping[str, Value], design: Design) -> None:
    units = params["traffic_per_min"] * params["duration_min"]
    if units > MAX_UNITS:
        raise ParamError("duration_min", "invalid",
                         reason=f"traffic × duration is {units:,} users; at most {MAX_UNITS:,} per run")
    if not 0.0 <= params["baseline_rate"] + params["true_effect"] <= 1.0:
        raise ParamError("true_effect", "invalid", reason="the baseline rate plus the effect must lie in 0..1")
    if params["baseline_rate"] + params["mde"] >= 1.0:
        raise ParamError("mde", "invalid", reason="the baseline rate plus the minimum detectable effect must stay "
                                                  "below 1")
    cells = params["repetitions"] * len(design.look_minutes())
    if cells > MAX_REPETITION_CELLS:
        raise ParamError("repetitions", "invalid",
                         reason=f"repetitions × looks is {cells:,}; at most {MAX_REPETITION_CELLS:,}: "
                                "fewer repetitions or fewer looks")


def canary_config(params: Mapping[str, Value]) -> CanaryConfig:
    return CanaryConfig(steps=STEP_PLANS[params["canary_steps"]], window_min=params["window_min"],
                        rule=params["canary_rule"], error_margin=params["error_margin"],
                        latency_ratio=params["latency_ratio"], min_requests=params["min_canary_requests"])


def versions(params: Mapping[str, Value]) -> tuple[ServiceVersion, ServiceVersion]:
    baseline = ServiceVersion("v1", PROFILES[params["baseline_model"]])
    canary = ServiceVersion("v2", PROFILES[params["canary_model"]], extra_error_rate=params["regression_errors"],
                            latency_factor=params["regression_latency"])
    return baseline, canary


def run_experiment(params: Mapping[str, Value], seed: int) -> Result:
    """The A/B test, its plan and the canary release: everything but the repetitions."""
    design = design_of(params)
    ab = run_once(design, seed)
    needed = power.required_sample_size(params["baseline_rate"], params["mde"], params["alpha"], params["power"],
                                        params["split"])
    baseline, canary_version = versions(params)
    config = canary_config(params)
    canary = run_canary(config, baseline, canary_version, params["traffic_per_min"], seed)
    final = ab["final"]
    metrics = {
        "p_value": final["p_value"], "ci_low": final["ci_low"], "ci_high": final["ci_high"],
        "ci_level": 1.0 - params["alpha"],
        "diff": final["diff"], "rate_a": final["rate_a"], "rate_b": final["rate_b"],
        "n_a": final["n_a"], "n_b": final["n_b"], "significant": final["significant"],
        "required_sample_size": needed["total"], "required_per_variant": {"a": needed["n_a"], "b": needed["n_b"]},
        "required_minutes": needed["total"] / params["traffic_per_min"],
        "decision": ab["decision"],
        "sequential_p_value": ab["sequential_p_value"],
        "sequential_stop_minute": ab["sequential_stop_minute"],
        "always_valid_ci_low": ab["always_valid_ci"][0], "always_valid_ci_high": ab["always_valid_ci"][1],
        "peeking_stop_minute": ab["peeking_stop_minute"],
        "srm_p_value": ab["srm"]["p_value"], "srm_alert": ab["srm"]["alert"],
        "observed_share_b": ab["srm"]["observed_share_b"],
        "canary_outcome": canary["outcome"], "canary_final_weight": canary["final_weight"],
        "canary_reason": canary["reason"], "canary_end_minute": canary["end_minute"],
        "canary_first_step_detectable_error_increase": _first_step_detectable(params, config, baseline),
        "baseline_error_rate": canary["baseline_error_rate"], "canary_error_rate": canary["canary_error_rate"],
    }
    series = {
        "ab_looks": ab["looks"],
        "canary_weight": _weight_steps(canary["events"]),
        "canary_events": canary["events"],
        "canary_steps": canary["steps"],
        "canary_minutes": canary["minutes"],
    }
    trace = [{"kind": "assignment", **row} for row in ab["first_units"]]
    trace += [{"kind": "canary", **event} for event in canary["events"]]
    return Result(component="ab-dashboard", params=dict(params), seed=seed, metrics=metrics, series=series,
                  trace=trace, notes=_notes(params, metrics, needed))


def _first_step_detectable(params: Mapping[str, Value], config: CanaryConfig, baseline: ServiceVersion) -> float:
    window_requests = params["traffic_per_min"] * params["window_min"]
    first_step = config.steps[0]
    return detectable_increase(config, baseline.error_rate, window_requests * (1 - first_step),
                               window_requests * first_step)


def repetition_sizes(params: Mapping[str, Value]) -> list[int]:
    """Repetitions in each batch of the deferred part (A/A runs, then A/B runs)."""
    plan = repetitions.plan(design_of(params), params["repetitions"])
    return [sum(chunk.runs for chunk in batch) for batch in plan]


def run_repetition_batch(params: Mapping[str, Value], seed: int, index: int) -> dict[str, dict[str, int]]:
    design = design_of(params)
    return repetitions.run_batch(design, repetitions.plan(design, params["repetitions"])[index], seed)


def add_repetitions(result: Result, parts: Sequence[Mapping[str, Mapping[str, int]]]) -> Result:
    """``result`` with the repetitions' rates in ``metrics.repetitions`` and the notes they support."""
    params = result.params
    reps = repetitions.summarise(design_of(params), params["repetitions"], parts)
    return dataclasses.replace(result, metrics={**result.metrics, "repetitions": reps},
                               notes=_repetition_notes(params, reps) + list(result.notes))


def _weight_steps(events: list[dict[str, Any]]) -> list[list[float]]:
    """[minute, weight] corners of the canary's weight over time (a step line)."""
    points: list[list[float]] = [[0.0, 0.0]]
    for event in events:
        points.append([event["minute"], points[-1][1]])
        points.append([event["minute"], event["weight"]])
    return points


# English wording of each note; %(name)s placeholders are filled from the note's data.
NOTE_TEXTS = {
    "peeking": gettext_noop(
        "Over %(runs)s A/A repetitions (no true difference), one test at the planned end was "
        "significant in %(fixed)s of them, against the %(alpha)s that alpha allows; a test at each of the "
        "%(looks)s looks, stopping at the first p < alpha, in %(peeking)s; the sequential test (mSPRT) in "
        "%(sequential)s."),
    "power": gettext_noop(
        "With a true effect of %(effect)s points, one test at the end detected it in %(fixed)s of the "
        "repetitions and the sequential test in %(sequential)s, stopping at minute %(stop)s on average when it "
        "did: the freedom to look at any time costs some power at the planned horizon."),
    "underpowered": gettext_noop(
        "To detect %(mde)s points with power %(power)s at alpha %(alpha)s, the test needs %(needed)s users "
        "(%(minutes)s minutes at this traffic); it got %(got)s, so a miss says little."),
    "srm": gettext_noop(
        "Sample-ratio mismatch: B received %(share)s of users where the split says %(split)s "
        "(chi-square p = %(p)s). The bucketing is broken; no comparison of A and B can be trusted until "
        "it is explained, so the decision is 'invalid'."),
    "canary_detect": gettext_noop(
        "At %(weight)s of %(rpm)s requests a minute, one %(window)s-minute window gives the canary about "
        "%(requests)s requests. Read at the window's end, the health rule (an excess of more than %(margin)s "
        "points that an exact one-sided test at %(alpha)s calls real) catches a canary failing %(rate)s of its "
        "requests, %(increase)s points above the baseline's %(base)s, %(power)s of the time; smaller rises mostly "
        "go unnoticed."),
    "canary_too_little": gettext_noop(
        "The canary saw fewer than %(min)s requests in its window, too few to judge, so it was not "
        "promoted: raise the traffic, the first step or the window."),
    "book_ab": gettext_noop(
        "The chapter's example reports means of 4.2 and 4.5 from 500 ratings a side and calls them "
        "significant because they differ by more than 0.05. Its rule ignores the sample size and the "
        "spread: assuming a standard deviation of %(sd)s (it gives none), two identical versions differ "
        "by more than 0.05 in %(aa_rate)s of such tests. Welch's test on its numbers gives p = %(p)s, "
        "95%% interval %(low)s to %(high)s."),
    "book_rule_reps": gettext_noop(
        "Applied to this run's repetitions, the chapter's rule (rates more than 0.05 apart) called "
        "%(fp)s of the A/A tests significant, and it ignores every real effect smaller than 0.05."),
    "book_steps": gettext_noop(
        "The chapter's docstring promises %(promised)s, but its loop adds 10 points "
        "each time: %(steps)s, %(n)s steps and %(minutes)s minutes of observation instead of %(promised_n)s "
        "and %(promised_minutes)s; the weights also drift in floating point (%(drift)s)."),
    "book_first_step": gettext_noop(
        "The chapter's deploy_canary never reads the first step's verdict: whatever the %(first)s window "
        "shows, the rollout goes on to %(second)s."),
    "book_threshold": gettext_noop(
        "At %(first)s of %(rpm)s requests a minute the canary gets %(per_min)s requests a minute, and the "
        "chapter checks each minute alone against an absolute 5%%: one error in a minute of fewer than 20 "
        "requests is already above it. A healthy canary with the baseline's %(err)s error rate trips the "
        "%(second)s window with probability %(trip)s, and gets through the whole release only %(survives)s of "
        "the time. Yet with enough traffic for a minute's rate to settle, an error rate ten times the "
        "baseline's (%(tenfold)s) passes every check."),
    "book_hash": gettext_noop(
        "The chapter's md5 %% 100 has only 100 buckets: a 0.5%% canary split gets %(half_pct)s of "
        "users. Its cumulative float shares give a 10/20/70 split %(shares)s, and shares that add up "
        "to less than 1 silently go to the first variant."),
}


def _notes(params: Mapping[str, Value], m: Mapping[str, Any], needed: Mapping[str, int]) -> list[Note]:
    notes = []
    got = m["n_a"] + m["n_b"]
    if got < needed["total"]:
        notes.append(note(NOTE_TEXTS, "underpowered", mde=f"{params['mde'] * 100:g}", power=percent(params["power"], 0),
                          alpha=params["alpha"], needed=f"{needed['total']:,}",
                          minutes=f"{m['required_minutes']:.0f}", got=f"{got:,}"))
    if m["srm_alert"]:
        p_value = m["srm_p_value"]
        notes.append(note(NOTE_TEXTS, "srm", share=percent(m["observed_share_b"]), split=percent(params["split"], 0),
                          p=scientific(p_value, 2) if p_value < 1e-3 else f"{p_value:.2g}"))
    notes.append(_canary_detect_note(params, m))
    if m["canary_reason"] == "too_little_traffic":
        notes.append(note(NOTE_TEXTS, "canary_too_little", min=params["min_canary_requests"]))
    if SPEC.matches(params, "book-32.6"):
        notes.extend(_book_notes(params, m))
    return notes


def _canary_detect_note(params: Mapping[str, Value], m: Mapping[str, Any]) -> Note:
    config = canary_config(params)
    first = config.steps[0]
    increase = m["canary_first_step_detectable_error_increase"]
    return note(NOTE_TEXTS, "canary_detect", weight=percent(first, 0), rpm=params["traffic_per_min"],
                window=params["window_min"],
                requests=f"{params['traffic_per_min'] * params['window_min'] * first:,.0f}",
                margin=f"{config.error_margin * 100:g}", alpha=percent(config.error_alpha, 0),
                rate=percent(m["baseline_error_rate"] + increase), increase=f"{increase * 100:.1f}",
                base=percent(m["baseline_error_rate"]), power=percent(DETECTION_POWER, 0))


def _repetition_notes(params: Mapping[str, Value], reps: Mapping[str, Any]) -> list[Note]:
    notes = [note(NOTE_TEXTS, "peeking", runs=f"{reps['runs']:,}", fixed=percent(reps["false_positive_rate_fixed"]),
                  alpha=f"{params['alpha'] * 100:g}%", looks=reps["looks"],
                  peeking=percent(reps["false_positive_rate_peeking"]),
                  sequential=percent(reps["false_positive_rate_sequential"]))]
    if "power_fixed" in reps:
        stop = reps["sequential_mean_stop_minute"]
        notes.append(note(NOTE_TEXTS, "power", effect=f"{params['true_effect'] * 100:+g}".replace("-", "−"),
                          fixed=percent(reps["power_fixed"]),
                          sequential=percent(reps["power_sequential"]),
                          stop=f"{stop:.0f}" if stop is not None else "-"))
    if SPEC.matches(params, "book-32.6"):
        notes.append(note(NOTE_TEXTS, "book_rule_reps", fp=percent(reps["false_positive_rate_book"])))
    return notes


def _book_notes(params: Mapping[str, Value], m: Mapping[str, Any]) -> list[Note]:
    example = book.book_example_welch()
    steps = book.book_steps()
    first, second = steps[0], steps[1]
    base_err = m["baseline_error_rate"]
    traffic = params["traffic_per_min"]
    return [
        note(NOTE_TEXTS, "book_ab", sd=f"{book.ASSUMED_RATING_SD:g}", aa_rate=percent(book.book_rule_false_positive(
            book.BOOK_AB_N)), p=scientific(example["p_value"]), low=f"{example['ci_low']:.2f}",
             high=f"{example['ci_high']:.2f}"),
        note(NOTE_TEXTS, "book_steps", promised=book.steps_text(book.BOOK_PROMISED_STEPS),
             steps=book.steps_text(steps), n=len(steps), minutes=len(steps) * book.BOOK_INTERVAL_MIN,
             promised_n=len(book.BOOK_PROMISED_STEPS),
             promised_minutes=len(book.BOOK_PROMISED_STEPS) * book.BOOK_INTERVAL_MIN, drift=repr(second)),
        note(NOTE_TEXTS, "book_first_step", first=percent(first, 0), second=percent(second, 0)),
        note(NOTE_TEXTS, "book_threshold", first=percent(first, 0), second=percent(second, 0), rpm=traffic,
             per_min=f"{traffic * first:g}", err=percent(base_err),
             trip=percent(book.book_window_trips(traffic * second, base_err), 0),
             survives=percent(book.book_release_survives(traffic, base_err), 2), tenfold=percent(10 * base_err)),
        note(NOTE_TEXTS, "book_hash", half_pct=percent(book.book_shares({"control": 0.995, "treatment": 0.005})[
            "treatment"]), shares="/".join(f"{v * 100:.0f}" for v in book.book_shares(
                {"a": 0.1, "b": 0.2, "c": 0.7}).values())),
    ]


DEFERRED = Deferred(unit=gettext_noop("repetitions"), first=run_experiment, sizes=repetition_sizes,
                    batch=run_repetition_batch, complete=add_repetitions)

COMPONENT = Component(
    name="ab-dashboard", title=gettext_noop("Canary releases and A/B tests"), section="32.6", spec=SPEC,
    run=DEFERRED.run, deferred=DEFERRED,
    code=(
        CodeRef(gettext_noop("Stable assignment: SHA-256 of (experiment, unit) into 10,000 buckets"), bucket),
        CodeRef(gettext_noop("The difference of two rates: score test and interval (statsmodels)"),
                compare_proportions),
        CodeRef(gettext_noop("Sample-ratio check: chi-square, p < 0.001, a minimum count"), srm_check),
        CodeRef(gettext_noop("Sequential test: the mixture SPRT's likelihood ratio"), sequential.log_mixture_lr),
        CodeRef(gettext_noop("Many experiments at once: the repetitions, vectorised"), repetitions.decisions),
        CodeRef(gettext_noop("The canary controller: steps, windows, rollback"), CanaryController.deploy),
        CodeRef(gettext_noop("The health rule against the baseline"), judge_baseline),
        CodeRef(gettext_noop("Are the canary's extra errors real? An exact one-sided test"), excess_errors_p_value),
    ),
)
