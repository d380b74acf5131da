"""One A/B test on simulated traffic: units arrive, are hashed into A or B, convert or not.

Every unit (a new user) has its own id and one outcome, so observations are
independent.  Assignment is the real :func:`.assignment.buckets` on each id;
outcomes are Bernoulli draws at the variant's true rate.  The experiment is looked
at every ``peek_every_min`` minutes: at each look the running rates with their
95% Wilson intervals, the fixed-horizon p-value, the mSPRT's always-valid p-value,
its boundary and its always-valid interval.  The analysis at the planned end uses
:mod:`.stats`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from statsmodels.stats.proportion import proportion_confint

from . import sequential
from .assignment import buckets, in_b
from .stats import compare_proportions, srm_check

EXPERIMENT = "answer-template-v2"


@dataclass(frozen=True)
class Design:
    baseline_rate: float  # A's true success rate
    true_effect: float  # B's rate minus A's, in truth
    traffic_per_min: float  # units arriving per minute (Poisson)
    split: float  # B's share
    duration_min: int  # the planned horizon
    peek_every_min: int  # minutes between looks
    alpha: float
    mde: float  # the effect the test is planned to detect (and the mSPRT's tau)
    biased_assignment: bool = False

    @property
    def rate_b(self) -> float:
        return float(np.clip(self.baseline_rate + self.true_effect, 0.0, 1.0))

    def look_minutes(self) -> list[int]:
        """Minutes at which the experiment is looked at; the last is the planned end."""
        looks = list(range(self.peek_every_min, self.duration_min + 1, self.peek_every_min))
        if not looks or looks[-1] != self.duration_min:
            looks.append(self.duration_min)
        return looks


def decide(p_value: float, diff: float, alpha: float, srm_alert: bool) -> str:
    """What a team should do with the planned analysis: ship_b, keep_a, no_difference or invalid_srm."""
    if srm_alert:
        return "invalid_srm"
    if p_value < alpha:
        return "ship_b" if diff > 0 else "keep_a"
    return "no_difference"


def run_once(design: Design, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng([seed, 1])
    minutes = design.duration_min
    per_minute = rng.poisson(design.traffic_per_min, size=minutes)
    total = int(per_minute.sum())
    minute_of = np.repeat(np.arange(1, minutes + 1), per_minute)  # unit i arrives during this minute
    ids = [f"s{seed}-u{i}" for i in range(total)]
    is_b = in_b(buckets(EXPERIMENT, ids, biased=design.biased_assignment), design.split)
    success = rng.random(total) < np.where(is_b, design.rate_b, design.baseline_rate)

    looks = np.array(design.look_minutes())
    upto = np.searchsorted(minute_of, looks, side="right")  # units that arrived by each look
    cum_b = np.concatenate([[0], np.cumsum(is_b)])[upto]
    cum_sb = np.concatenate([[0], np.cumsum(success & is_b)])[upto]
    cum_sa = np.concatenate([[0], np.cumsum(success & ~is_b)])[upto]
    cum_a = upto - cum_b

    _, p_fixed = sequential.z_test(cum_sa, cum_a, cum_sb, cum_b)
    log_lr = sequential.msprt(cum_sa, cum_a, cum_sb, cum_b, design.mde)
    p_seq = sequential.always_valid_p(log_lr)
    boundary = sequential.boundary_p(sequential.pooled_variance(cum_sa, cum_a, cum_sb, cum_b), design.mde,
                                     design.alpha)
    always_low, always_high = sequential.confidence_sequence(cum_sa, cum_a, cum_sb, cum_b, design.mde, design.alpha)
    low_a, high_a = proportion_confint(cum_sa, np.maximum(cum_a, 1), alpha=0.05, method="wilson")
    low_b, high_b = proportion_confint(cum_sb, np.maximum(cum_b, 1), alpha=0.05, method="wilson")
    rate_a = np.where(cum_a > 0, cum_sa / np.maximum(cum_a, 1), 0.0)
    rate_b = np.where(cum_b > 0, cum_sb / np.maximum(cum_b, 1), 0.0)

    n_a, n_b = int(cum_a[-1]), int(cum_b[-1])
    final = compare_proportions(int(cum_sa[-1]), n_a, int(cum_sb[-1]), n_b, alpha=design.alpha)
    srm = srm_check(n_a, n_b, design.split)
    peeking_stop = int(np.argmax(p_fixed < design.alpha)) if (p_fixed < design.alpha).any() else None
    seq_reject = sequential.rejects(log_lr, design.alpha)
    seq_stop = int(np.argmax(seq_reject)) if seq_reject.any() else None
    rows = [{"minute": int(m), "n_a": int(a), "n_b": int(b), "rate_a": float(ra), "rate_b": float(rb),
             "ci_a": [float(la), float(ha)], "ci_b": [float(lb), float(hb)], "p_value": float(p),
             "p_sequential": float(ps), "boundary_p": float(bd)}
            for m, a, b, ra, rb, la, ha, lb, hb, p, ps, bd in zip(
                looks, cum_a, cum_b, rate_a, rate_b, low_a, high_a, low_b, high_b, p_fixed, p_seq, boundary)]
    return {
        "final": final,
        "srm": srm,
        "decision": decide(final["p_value"], final["diff"], design.alpha, srm["alert"]),
        "peeking_stop_minute": int(looks[peeking_stop]) if peeking_stop is not None else None,
        "sequential_stop_minute": int(looks[seq_stop]) if seq_stop is not None else None,
        "sequential_p_value": float(p_seq[-1]),
        "always_valid_ci": [float(always_low[-1]), float(always_high[-1])],
        "looks": rows,
        "units": total,
        "first_units": [{"unit": ids[i], "variant": "B" if is_b[i] else "A", "success": bool(success[i])}
                        for i in range(min(total, 8))],
    }
