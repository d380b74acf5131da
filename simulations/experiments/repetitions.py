"""The same experiment re-run on many seeds at once, to measure what a rule really does.

Each repetition draws the whole experiment (arrivals per look, B's share of them,
successes per variant) as arrays of shape (repetitions, looks), so a thousand
experiments cost a few numpy calls rather than a thousand Python loops.  Three
ways of deciding are applied to the very same data:

* ``fixed``: one test at the planned end (the p-value's own assumption);
* ``peeking``: a test at every look, stopping at the first p < alpha;
* ``sequential``: the mSPRT at every look, stopping when it rejects;

plus the chapter's rule (``book``): significant when the rates differ by more than
0.05 at the end, whatever the sample size.  With no true difference (an A/A test)
the share of "significant" repetitions is the false-positive rate; with one, it is
the power.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import sequential
from .abtest import Design

BOOK_THRESHOLD = 0.05  # the chapter's mean_diff > 0.05
CHUNK = 250  # repetitions per batch: bounds memory and lets a caller report progress


def _simulate(design: Design, rate_b: float, reps: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    looks = np.array(design.look_minutes())
    widths = np.diff(np.concatenate([[0], looks]))
    arrivals = rng.poisson(design.traffic_per_min * widths, size=(reps, looks.size))
    n_b = rng.binomial(arrivals, design.split)
    n_a = arrivals - n_b
    s_a = rng.binomial(n_a, design.baseline_rate)
    s_b = rng.binomial(n_b, rate_b)
    return {k: np.cumsum(v, axis=1) for k, v in (("n_a", n_a), ("n_b", n_b), ("s_a", s_a), ("s_b", s_b))}


def _decisions(design: Design, counts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
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


def repeat(design: Design, runs: int, seed: int,
           progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Rates of "significant" decisions over ``runs`` A/A repetitions (and as many A/B ones).

    Returns ``runs``, ``false_positive_rate_{fixed,peeking,sequential,book}`` and,
    when the design's true effect is not zero, ``power_{fixed,peeking,sequential,book}``
    and ``sequential_mean_stop_minute`` (among the repetitions that stopped).
    ``progress(done, total)`` is called after each batch.
    """
    rng = np.random.default_rng([seed, 2])
    looks = np.array(design.look_minutes())
    scenarios = {"false_positive_rate": design.baseline_rate}
    if design.true_effect != 0:
        scenarios["power"] = design.rate_b
    totals = {name: {k: 0 for k in ("fixed", "peeking", "sequential", "book")} for name in scenarios}
    stops: list[np.ndarray] = []
    done, todo = 0, runs * len(scenarios)
    for name, rate_b in scenarios.items():
        left = runs
        while left:
            batch = min(CHUNK, left)
            decided = _decisions(design, _simulate(design, rate_b, batch, rng))
            for key in totals[name]:
                totals[name][key] += int(decided[key].sum())
            if name == "power":
                stops.append(decided["sequential_stop"])
            left -= batch
            done += batch
            if progress is not None:
                progress(done, todo)
    out: dict[str, Any] = {"runs": runs, "looks": int(looks.size)}
    for name, counts in totals.items():
        for key, hits in counts.items():
            out[f"{name}_{key}"] = hits / runs
    if stops:
        stopped = np.concatenate(stops)
        stopped = stopped[stopped >= 0]
        out["sequential_mean_stop_minute"] = float(looks[stopped].mean()) if stopped.size else None
    return out
