"""The same experiment re-run on many seeds at once, to measure what a rule really does.

Each repetition draws the whole experiment (arrivals per look, B's share of them,
successes per variant) as arrays of shape (repetitions, looks), so a thousand
experiments cost a few numpy calls rather than a thousand Python loops.  Four
ways of deciding are applied to the very same data:

* ``fixed``: one test at the planned end (the p-value's own assumption);
* ``peeking``: a test at every look, stopping at the first p < alpha;
* ``sequential``: the mSPRT at every look, stopping when it rejects;
* ``book``: the chapter's rule, significant when the rates differ by more than
  0.05 at the end, whatever the sample size.

With no true difference (an A/A test) the share of "significant" repetitions is
the false-positive rate; with one, it is the power.

The work comes in batches of at most :data:`CELLS_PER_BATCH` repetition-looks, so
a page can show progress between them.  Each chunk of repetitions draws from its
own seed, so the totals are the same whether the batches run in one call
(:func:`repeat`), one per request, or in any order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import sequential
from .abtest import Design

BOOK_THRESHOLD = 0.05  # the chapter's mean_diff > 0.05
RULES = ("fixed", "peeking", "sequential", "book")
SCENARIOS = ("false_positive_rate", "power")  # no true difference; the design's true effect
CELLS_PER_BATCH = 50_000  # repetitions x looks drawn at once: a step of well under a second


@dataclass(frozen=True)
class Chunk:
    """``runs`` repetitions of one scenario; ``index`` (its place in the scenario) seeds its draws."""

    scenario: str
    index: int
    runs: int


def scenarios(design: Design) -> tuple[str, ...]:
    return SCENARIOS if design.true_effect != 0 else SCENARIOS[:1]


def plan(design: Design, runs: int) -> list[list[Chunk]]:
    """The batches that make up ``runs`` repetitions of each scenario, in order."""
    looks = len(design.look_minutes())
    per_chunk = max(1, CELLS_PER_BATCH // looks)
    batches: list[list[Chunk]] = [[]]
    room = CELLS_PER_BATCH
    for scenario in scenarios(design):
        for index, start in enumerate(range(0, runs, per_chunk)):
            chunk = Chunk(scenario, index, min(per_chunk, runs - start))
            if chunk.runs * looks > room:
                batches.append([])
                room = CELLS_PER_BATCH
            batches[-1].append(chunk)
            room -= chunk.runs * looks
    return batches


def run_batch(design: Design, batch: Sequence[Chunk], seed: int) -> dict[str, dict[str, int]]:
    """Counts of "significant" repetitions per scenario and rule in one batch (plain data).

    Also, per scenario, ``runs``, and the sum and count of the minutes at which the
    sequential test stopped (``stop_minutes``, ``stopped``).
    """
    looks = np.array(design.look_minutes())
    counts: dict[str, dict[str, int]] = {}
    for chunk in batch:
        rng = np.random.default_rng([seed, 2, SCENARIOS.index(chunk.scenario), chunk.index])
        rate_b = design.rate_b if chunk.scenario == "power" else design.baseline_rate
        decided = decisions(design, simulate_counts(design, rate_b, chunk.runs, rng))
        stops = decided.pop("sequential_stop")
        stopped = stops[stops >= 0]
        tally = counts.setdefault(chunk.scenario, dict.fromkeys(("runs", *RULES, "stop_minutes", "stopped"), 0))
        tally["runs"] += chunk.runs
        for rule in RULES:
            tally[rule] += int(decided[rule].sum())
        tally["stop_minutes"] += int(looks[stopped].sum())
        tally["stopped"] += int(stopped.size)
    return counts


def summarise(design: Design, runs: int, parts: Sequence[Mapping[str, Mapping[str, int]]]) -> dict[str, Any]:
    """The rates over every batch's counts.

    ``runs``, ``looks``, ``false_positive_rate_{fixed,peeking,sequential,book}`` and,
    when the design's true effect is not zero, ``power_{...}`` and
    ``sequential_mean_stop_minute`` (among the repetitions that stopped, or None).
    """
    totals: dict[str, dict[str, int]] = {}
    for part in parts:
        for scenario, counts in part.items():
            total = totals.setdefault(scenario, dict.fromkeys(counts, 0))
            for key, value in counts.items():
                total[key] += value
    out: dict[str, Any] = {"runs": runs, "looks": len(design.look_minutes())}
    for scenario in scenarios(design):
        total = totals[scenario]
        if total["runs"] != runs:
            raise ValueError(f"{scenario}: the batches hold {total['runs']} repetitions, not {runs}")
        for rule in RULES:
            out[f"{scenario}_{rule}"] = total[rule] / runs
    if "power" in totals:
        power = totals["power"]
        out["sequential_mean_stop_minute"] = power["stop_minutes"] / power["stopped"] if power["stopped"] else None
    return out


def repeat(design: Design, runs: int, seed: int, after_batch: Callable[[], None] | None = None) -> dict[str, Any]:
    """Every batch of :func:`plan` in one call; ``after_batch()`` runs between batches (a time check)."""
    parts = []
    for batch in plan(design, runs):
        parts.append(run_batch(design, batch, seed))
        if after_batch is not None:
            after_batch()
    return summarise(design, runs, parts)


def simulate_counts(design: Design, rate_b: float, reps: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    looks = np.array(design.look_minutes())
    widths = np.diff(np.concatenate([[0], looks]))
    arrivals = rng.poisson(design.traffic_per_min * widths, size=(reps, looks.size))
    n_b = rng.binomial(arrivals, design.split)
    n_a = arrivals - n_b
    s_a = rng.binomial(n_a, design.baseline_rate)
    s_b = rng.binomial(n_b, rate_b)
    return {k: np.cumsum(v, axis=1) for k, v in (("n_a", n_a), ("n_b", n_b), ("s_a", s_a), ("s_b", s_b))}


def decisions(design: Design, counts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """For each repetition (a row of looks): did each rule call the difference significant?"""
    n_a, n_b, s_a, s_b = counts["n_a"], counts["n_b"], counts["s_a"], counts["s_b"]
    _, p = sequential.z_test(s_a, n_a, s_b, n_b)
    log_lr = sequential.msprt(s_a, n_a, s_b, n_b, design.mde)
    seq = sequential.rejects(log_lr, design.alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        diff_end = np.where(n_b[:, -1] > 0, s_b[:, -1] / n_b[:, -1], 0.0) - np.where(
            n_a[:, -1] > 0, s_a[:, -1] / n_a[:, -1], 0.0)
    first_seq = np.where(seq.any(axis=1), seq.argmax(axis=1), -1)
    return {"fixed": p[:, -1] < design.alpha, "peeking": (p < design.alpha).any(axis=1),
            "sequential": seq.any(axis=1), "book": np.abs(diff_end) > BOOK_THRESHOLD,
            "sequential_stop": first_seq}
