"""Measuring a router the way RouteLLM does: the quality a router buys per share of strong-model calls.

A two-model router sends each request to the weak model or the strong one.
Sweeping its threshold traces a curve from "all weak" (quality ``Q_weak``) to
"all strong" (``Q_strong``).  On that curve:

* PGR, the performance gap recovered: ``(Q - Q_weak) / (Q_strong - Q_weak)``;
* CPT(x%), the call-performance threshold: the smallest share of strong-model
  calls with which the router recovers x% of the gap (lower is better);
* APGR: the area under PGR against the strong-call share, from 0 to 1.

A random router, which sends a share ``p`` of requests to the strong model at
random, recovers ``p`` of the gap on average: APGR 0.5, CPT(50%) = 50%.  It is
the baseline a router must beat.  (RouteLLM: Ong et al., 2024, "RouteLLM:
Learning to Route LLMs with Preference Data".)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

THRESHOLDS = np.round(np.arange(0.0, 1.0001, 0.02), 2)
ALL_WEAK = 1.01  # above any score: nothing goes to the strong model
SHARES = np.round(np.arange(0.0, 1.0001, 0.05), 2)
CASCADE_THRESHOLDS = np.round(np.arange(0.0, 1.0001, 0.05), 2)
TARGETS = (0.5, 0.8)


@dataclass(frozen=True)
class Pair:
    """Each request on the weak route and on the strong route: right or not, and cost."""

    weak_correct: np.ndarray
    strong_correct: np.ndarray
    weak_cost: np.ndarray
    strong_cost: np.ndarray

    @property
    def q_weak(self) -> float:
        return float(self.weak_correct.mean())

    @property
    def q_strong(self) -> float:
        return float(self.strong_correct.mean())


def _points(knob: np.ndarray, masks: np.ndarray, pair: Pair, cascade: bool = False
            ) -> list[dict[str, float]]:
    """One point per row of ``masks`` (True: the request gets the strong route).

    A router pays one route per request; a cascade pays the weak call for every
    request and the strong call as well for the ones it escalates.
    """
    quality = np.where(masks, pair.strong_correct[None, :], pair.weak_correct[None, :]).mean(axis=1)
    if cascade:
        cost = pair.weak_cost[None, :] + np.where(masks, pair.strong_cost[None, :], 0.0)
    else:
        cost = np.where(masks, pair.strong_cost[None, :], pair.weak_cost[None, :])
    gap = pair.q_strong - pair.q_weak
    pgr = (quality - pair.q_weak) / gap if gap > 0 else np.zeros_like(quality)
    return [{"knob": float(k), "strong_share": float(s), "quality": float(q), "pgr": float(g),
             "cost": float(c)}
            for k, s, q, g, c in zip(knob, masks.mean(axis=1), quality, pgr, cost.mean(axis=1))]


def threshold_curve(score: np.ndarray, pair: Pair) -> list[dict[str, float]]:
    """The threshold router at every threshold: the strong route when the score reaches it."""
    knob = np.append(THRESHOLDS, ALL_WEAK)
    return _points(knob, score[None, :] >= knob[:, None], pair)


def random_curve(coin: np.ndarray, pair: Pair) -> list[dict[str, float]]:
    """The random router: a share ``p`` of requests, picked by a fixed coin per request."""
    return _points(SHARES, coin[None, :] < SHARES[:, None], pair)


def cascade_curve(verifier: np.ndarray, can_escalate: np.ndarray, pair: Pair) -> list[dict[str, float]]:
    """The cascade at every verifier threshold: every request pays the weak call, escalated ones the strong too."""
    masks = (verifier[None, :] < CASCADE_THRESHOLDS[:, None]) & can_escalate[None, :]
    return _points(CASCADE_THRESHOLDS, masks, pair, cascade=True)


def _sorted(points: Sequence[dict[str, float]]) -> tuple[np.ndarray, np.ndarray]:
    order = sorted(points, key=lambda p: (p["strong_share"], p["pgr"]))
    return np.array([p["strong_share"] for p in order]), np.array([p["pgr"] for p in order])


def cpt(points: Sequence[dict[str, float]], target: float) -> float | None:
    """The smallest strong-call share at which the curve recovers ``target`` of the gap (None: never)."""
    shares, pgr = _sorted(points)
    for k in range(len(shares)):
        if pgr[k] >= target:
            if k == 0 or pgr[k - 1] >= target:
                return float(shares[k])
            t = (target - pgr[k - 1]) / (pgr[k] - pgr[k - 1])
            return float(shares[k - 1] + t * (shares[k] - shares[k - 1]))
    return None


def apgr(points: Sequence[dict[str, float]]) -> float:
    """Area under PGR over the strong-call share (0 to 1; the curve runs from share 0 to share 1)."""
    shares, pgr = _sorted(points)
    return float(np.trapezoid(pgr, shares))


def scores(points: Sequence[dict[str, float]]) -> dict[str, Any]:
    out: dict[str, Any] = {"apgr": apgr(points)}
    for target in TARGETS:
        out[f"cpt{round(target * 100)}"] = cpt(points, target)
    return out


def point_at(points: Sequence[dict[str, float]], knob: float) -> dict[str, float]:
    """The point of a threshold curve at ``knob`` (the nearest on the grid)."""
    return min(points, key=lambda p: abs(p["knob"] - knob))


def retuned(points: Sequence[dict[str, float]], pgr_target: float) -> dict[str, float] | None:
    """The cheapest point (fewest strong calls) that recovers at least ``pgr_target``."""
    good = [p for p in points if p["pgr"] >= pgr_target - 1e-9]
    return min(good, key=lambda p: (p["strong_share"], -p["knob"])) if good else None
