"""A canary release: weighted routing between two versions, steps, windows, rollback.

Real code on the virtual clock (:func:`simulations.clock.run_virtual`): a traffic
task serves each simulated minute's requests through :class:`WeightedRouter` and
publishes the minute's metrics; :class:`CanaryController` raises the canary's
weight step by step, reads those metrics every minute of each observation
window, and rolls back when the canary is worse than the baseline.

The two versions are mock services built from the model profiles
(:mod:`simulations.profiles`): the same latency model as the mock chat model
(time to first token with a lognormal spread, then the answer's tokens at the
model's speed) and its error rates, plus an injected regression (extra errors,
slower answers).  Requests are drawn per minute as numpy arrays rather than one
``ainvoke`` at a time, so hours of traffic take milliseconds.

Two health rules:

* ``baseline`` (ours): over the step so far, the canary's error rate is compared
  with the baseline's *in the same minutes*: unhealthy when it is higher by more
  than ``error_margin`` and an exact one-sided test says the excess is not noise
  (p < ``error_alpha``, :func:`.stats.excess_errors_p_value`); its p99 latency is
  compared with the baseline's p99 times ``latency_ratio``, once it has 100
  requests (below that there is no 99th percentile to speak of).  A step whose
  canary saw fewer than ``min_requests`` requests cannot be judged, and is not
  promoted.  The rule is checked every minute, so a healthy canary is rolled back
  more often than ``error_alpha`` once; :func:`detectable_increase` says what one
  window can catch.
* ``book`` (the chapter's ``_observe``): each minute on its own, an absolute error
  rate above 5% or a p99 above 1.5 times the baseline's; and, as in the chapter's
  ``deploy_canary``, the first step's verdict is thrown away.
"""

from __future__ import annotations

import asyncio
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize
from scipy import stats as sp_stats

from ..clock import now, run_virtual
from ..profiles import ModelProfile
from .assignment import buckets, threshold
from .book import BOOK_ERROR_THRESHOLD
from .stats import excess_errors_p_value

ANSWER_TOKENS = 120  # output tokens of a typical answer
USERS = 2000  # distinct users sending the traffic; routing is sticky per user
MINUTE_S = 60.0
P99_MIN_REQUESTS = 100  # a 99th percentile needs at least 100 values
DETECTION_POWER = 0.8  # "can catch" means: four times in five


@dataclass(frozen=True)
class ServiceVersion:
    """One version of the service: a model profile plus an injected regression."""

    name: str
    profile: ModelProfile
    extra_error_rate: float = 0.0
    latency_factor: float = 1.0

    @property
    def error_rate(self) -> float:
        return min(1.0, self.profile.server_error_rate + self.profile.timeout_rate + self.extra_error_rate)

    def serve(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(failed, latency_s) of ``n`` requests."""
        spec = self.profile
        ttft = spec.ttft_s * rng.lognormal(0.0, spec.latency_spread, n)
        latency = (ttft + (ANSWER_TOKENS - 1) / spec.tokens_per_s) * self.latency_factor
        return rng.random(n) < self.error_rate, latency


@functools.lru_cache(maxsize=8)
def _user_buckets(experiment: str, users: tuple[str, ...]) -> np.ndarray:
    # The same users every run: hash them once per process.
    values = buckets(experiment, users)
    values.flags.writeable = False
    return values


class WeightedRouter:
    """Sends a request to the canary when its user's bucket is below the canary's weight.

    Unlike a per-request random split (Istio's ``weight``), a user stays on one
    version for the whole step, and a user already on the canary stays there as
    the weight grows: what a user sees does not flicker between versions.
    """

    def __init__(self, experiment: str, users: Sequence[str]) -> None:
        self._buckets = _user_buckets(experiment, tuple(users))
        self.weight = 0.0
        self._cut = 0

    def set_weight(self, weight: float) -> None:
        self.weight = weight
        self._cut = threshold(weight)

    def to_canary(self, user_index: np.ndarray) -> np.ndarray:
        return self._buckets[user_index] < self._cut


@dataclass
class Minute:
    """What one minute of traffic looked like on each version."""

    minute: int
    weight: float
    base_failed: np.ndarray
    base_latency: np.ndarray
    canary_failed: np.ndarray
    canary_latency: np.ndarray

    def row(self) -> dict[str, Any]:
        return {"minute": self.minute, "weight": self.weight,
                "baseline_requests": int(self.base_failed.size), "baseline_errors": int(self.base_failed.sum()),
                "canary_requests": int(self.canary_failed.size), "canary_errors": int(self.canary_failed.sum())}


async def serve_traffic(router: WeightedRouter, baseline: ServiceVersion, canary: ServiceVersion,
                        per_minute: float, rng: np.random.Generator, out: asyncio.Queue, log: list[Minute]) -> None:
    """Every simulated minute: route that minute's requests, serve them, publish the metrics."""
    minute = 0
    while True:
        weight = router.weight  # the weight in force during this minute
        await asyncio.sleep(MINUTE_S)
        minute += 1
        users = rng.integers(0, USERS, rng.poisson(per_minute))
        to_canary = router.to_canary(users)
        base_failed, base_latency = baseline.serve(rng, int((~to_canary).sum()))
        canary_failed, canary_latency = canary.serve(rng, int(to_canary.sum()))
        record = Minute(minute, weight, base_failed, base_latency, canary_failed, canary_latency)
        log.append(record)
        await out.put(record)


@dataclass(frozen=True)
class CanaryConfig:
    steps: tuple[float, ...]  # canary weights, ending at 1.0
    window_min: int  # observation window per step
    rule: str = "baseline"  # "baseline" (ours) or "book" (the chapter's)
    error_margin: float = 0.02  # allowed excess of the canary's error rate over the baseline's
    latency_ratio: float = 1.5  # allowed canary p99 / baseline p99
    min_requests: int = 30  # canary requests a step needs before it can be promoted
    error_alpha: float = 0.01  # one-sided exact test that the canary's excess errors are real


@dataclass
class Verdict:
    healthy: bool
    reason: str | None = None  # error_rate, latency, too_little_traffic
    minute: int | None = None


def p99(values: np.ndarray) -> float:
    return float(np.percentile(values, 99)) if values.size else float("nan")


def judge_baseline(config: CanaryConfig, minutes: Sequence[Minute]) -> Verdict | None:
    """Our rule on the step's minutes so far; None while nothing is wrong."""
    c_failed = np.concatenate([m.canary_failed for m in minutes])
    b_failed = np.concatenate([m.base_failed for m in minutes])
    if c_failed.size >= config.min_requests and b_failed.size:
        c_errors, b_errors = int(c_failed.sum()), int(b_failed.sum())
        excess = c_errors / c_failed.size - b_errors / b_failed.size
        if excess > config.error_margin and \
                excess_errors_p_value(c_errors, c_failed.size, b_errors, b_failed.size) < config.error_alpha:
            return Verdict(False, "error_rate", minutes[-1].minute)
    if c_failed.size >= P99_MIN_REQUESTS:
        c_lat = np.concatenate([m.canary_latency for m in minutes])
        b_lat = np.concatenate([m.base_latency for m in minutes])
        if b_lat.size and p99(c_lat) > config.latency_ratio * p99(b_lat):
            return Verdict(False, "latency", minutes[-1].minute)
    return None


def judge_book(config: CanaryConfig, minute: Minute) -> Verdict | None:
    """The chapter's check on one minute's numbers; a minute without canary traffic passes
    (an error rate of nothing is NaN, and NaN > 0.05 is false)."""
    n = minute.canary_failed.size
    error_rate = minute.canary_failed.sum() / n if n else float("nan")
    if error_rate > BOOK_ERROR_THRESHOLD:
        return Verdict(False, "error_rate", minute.minute)
    if p99(minute.canary_latency) > p99(minute.base_latency) * config.latency_ratio:
        return Verdict(False, "latency", minute.minute)
    return None


@dataclass
class CanaryController:
    config: CanaryConfig
    router: WeightedRouter
    minutes: asyncio.Queue
    events: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)

    async def deploy(self) -> str:
        """Walk the steps; ``promoted`` or ``rolled_back``."""
        for index, weight in enumerate(self.config.steps):
            if weight >= 1.0 and self.config.rule != "book":
                break  # at 100% no baseline is left to compare with: reaching it is the promotion
            self._set(weight, "step")
            verdict, seen = await self.observe()
            self.steps.append(_step_row(index, weight, seen, verdict))
            if verdict.healthy:
                continue
            if self.config.rule == "book" and index == 0:
                self.steps[-1]["ignored"] = True  # deploy_canary never reads the first _observe
                continue
            self._set(0.0, "rolled_back", reason=verdict.reason)
            return "rolled_back"
        self._set(1.0, "promoted")
        return "promoted"

    async def observe(self) -> tuple[Verdict, list[Minute]]:
        seen: list[Minute] = []
        for _ in range(self.config.window_min):
            seen.append(await self.minutes.get())
            if self.config.rule == "book":
                verdict = judge_book(self.config, seen[-1])
            else:
                verdict = judge_baseline(self.config, seen)
            if verdict is not None:
                return verdict, seen
        if self.config.rule != "book" and sum(m.canary_failed.size for m in seen) < self.config.min_requests:
            return Verdict(False, "too_little_traffic", seen[-1].minute), seen
        return Verdict(True), seen

    def _set(self, weight: float, event: str, reason: str | None = None) -> None:
        self.router.set_weight(weight)
        self.events.append({"minute": now() / MINUTE_S, "weight": weight, "event": event, "reason": reason})


def _step_row(index: int, weight: float, seen: Sequence[Minute], verdict: Verdict) -> dict[str, Any]:
    c_failed = np.concatenate([m.canary_failed for m in seen])
    b_failed = np.concatenate([m.base_failed for m in seen])
    c_lat = np.concatenate([m.canary_latency for m in seen])
    b_lat = np.concatenate([m.base_latency for m in seen])
    return {"step": index + 1, "weight": weight, "start_minute": seen[0].minute - 1, "end_minute": seen[-1].minute,
            "canary_requests": int(c_failed.size), "baseline_requests": int(b_failed.size),
            "canary_error_rate": float(c_failed.mean()) if c_failed.size else None,
            "baseline_error_rate": float(b_failed.mean()) if b_failed.size else None,
            "canary_p99_s": _finite(p99(c_lat)), "baseline_p99_s": _finite(p99(b_lat)),
            "healthy": verdict.healthy, "reason": verdict.reason, "ignored": False}


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def run_canary(config: CanaryConfig, baseline: ServiceVersion, canary: ServiceVersion, per_minute: float,
               seed: int) -> dict[str, Any]:
    """One canary release from 0% to promotion or rollback, in virtual time."""
    rng = np.random.default_rng([seed, 3])
    router = WeightedRouter(f"canary:{canary.name}", [f"user-{i}" for i in range(USERS)])
    log: list[Minute] = []

    async def main() -> tuple[str, CanaryController]:
        queue: asyncio.Queue = asyncio.Queue()
        controller = CanaryController(config, router, queue)
        traffic = asyncio.create_task(serve_traffic(router, baseline, canary, per_minute, rng, queue, log))
        try:
            outcome = await controller.deploy()
        finally:
            traffic.cancel()
        return outcome, controller

    outcome, controller = run_virtual(main)
    last = controller.events[-1]
    return {"outcome": outcome, "final_weight": last["weight"], "reason": last["reason"],
            "end_minute": last["minute"], "events": controller.events, "steps": controller.steps,
            "minutes": [m.row() for m in log],
            "baseline_error_rate": baseline.error_rate, "canary_error_rate": canary.error_rate}


def detectable_increase(config: CanaryConfig, baseline_rate: float, n_baseline: float, n_canary: float,
                        power: float = DETECTION_POWER) -> float:
    """The smallest rise of the canary's error rate that one window catches with probability ``power``.

    Exact for the rule of :func:`judge_baseline` read once, at the end of a window
    holding ``n_canary`` and ``n_baseline`` requests (rounded): the excess must pass
    both ``config.error_margin`` and the exact test at ``config.error_alpha``.  For
    each number of baseline errors, the rule needs at least some number of canary
    errors; the chance of reaching it is a binomial tail.  Returns the increase in
    absolute terms (0.03 = 3 points), or ``1 - baseline_rate`` when even a canary
    that always fails would go unnoticed.
    """
    n_canary, n_baseline = round(n_canary), round(n_baseline)
    if n_canary < 1 or n_baseline < 1:
        return 1.0 - baseline_rate
    low, high = sp_stats.binom.ppf([1e-6, 1 - 1e-6], n_baseline, baseline_rate).astype(int)
    baseline_errors = np.arange(low, high + 1)
    weights = sp_stats.binom.pmf(baseline_errors, n_baseline, baseline_rate)
    needed = _canary_errors_needed(config, baseline_errors, n_baseline, n_canary)

    def caught(rate: float) -> float:
        return float(np.sum(weights * sp_stats.binom.sf(needed - 1, n_canary, rate)))

    if caught(1.0) < power:
        return 1.0 - baseline_rate
    return float(optimize.brentq(lambda rate: caught(rate) - power, baseline_rate, 1.0, xtol=1e-7)) - baseline_rate


def _canary_errors_needed(config: CanaryConfig, baseline_errors: np.ndarray, n_baseline: int,
                          n_canary: int) -> np.ndarray:
    """For each count of baseline errors, the fewest canary errors the rule calls a regression
    (``n_canary + 1``: none will do).  The rule only tightens as canary errors fall, so bisect."""

    def flags(canary_errors: np.ndarray) -> np.ndarray:
        excess = canary_errors / n_canary - baseline_errors / n_baseline
        p_value = excess_errors_p_value(canary_errors, n_canary, baseline_errors, n_baseline)
        return (excess > config.error_margin) & (p_value < config.error_alpha)

    low = np.zeros_like(baseline_errors)  # never flagged: no error at all
    high = np.full_like(baseline_errors, n_canary + 1)  # flagged, or past every possible count
    while np.any(high - low > 1):
        middle = (low + high) // 2
        flagged = flags(middle)
        high = np.where(flagged, middle, high)
        low = np.where(flagged, low, middle)
    return high
