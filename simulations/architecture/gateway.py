"""The gateway's per-user rate limits by tier, on the real Redis: three algorithms side by side.

A thin layer over :mod:`simulations.ratelimit`: one limiter per user, with the
limit of the user's tier.  Every algorithm sees the same requests (each with its
own keys), so their answers can be compared; the one the gateway uses decides
which requests go on.  Arrival times are known before the run, so each algorithm
decides all of them in one script call (``hit_many``), exactly as one call per
request would.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import redis

from ..ratelimit import Decision, FixedWindowLimiter, SlidingWindowLimiter, TokenBucketLimiter, hit_many
from .traffic import TIERS, Arrival

ALGORITHMS = ("token_bucket", "sliding_window", "fixed_window")


class TieredLimits:
    """Per-user limiters of one algorithm; a user's limit is its tier's ``limit`` per ``window_s``.

    The token bucket holds ``limit`` tokens and refills ``limit / window_s`` a second:
    the same long-run rate, with bursts up to a full window's worth.
    """

    def __init__(self, client: redis.Redis, algorithm: str, namespace: str,
                 limits: Mapping[str, int], window_s: float) -> None:
        if algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
        self.client, self.algorithm, self.namespace = client, algorithm, namespace
        self.limits, self.window_s = dict(limits), window_s
        self._limiters: dict[str, SlidingWindowLimiter | TokenBucketLimiter | FixedWindowLimiter] = {}

    def limiter_for(self, user: str, tier: str):
        if user not in self._limiters:
            key = f"llmops:limit:{self.namespace}:{self.algorithm}:{user}"
            limit = self.limits[tier]
            if self.algorithm == "sliding_window":
                self._limiters[user] = SlidingWindowLimiter(self.client, key, limit, self.window_s)
            elif self.algorithm == "fixed_window":
                self._limiters[user] = FixedWindowLimiter(self.client, key, limit, self.window_s)
            else:
                self._limiters[user] = TokenBucketLimiter(self.client, key, limit / self.window_s, limit)
        return self._limiters[user]

    def decide(self, arrivals: Sequence[Arrival]) -> list[Decision]:
        """Each arrival's answer, in arrival order (one round trip)."""
        if not arrivals:
            return []
        return hit_many([(self.limiter_for(a.user, a.tier), a.t_s) for a in arrivals])

    def keys(self) -> set[str]:
        return {key for limiter in self._limiters.values() for key in limiter.keys()}


@dataclass
class LimiterOutcome:
    algorithm: str
    decisions: list[Decision]
    accepted: int = 0
    rejected: int = 0
    by_tier: dict[str, dict[str, int]] = field(default_factory=dict)
    max_in_window_by_tier: dict[str, int] = field(default_factory=dict)
    users_over_limit: int = 0
    retry_after_s: list[float] = field(default_factory=list)


def max_in_any_window(times: Sequence[float], window_s: float) -> int:
    """The most of ``times`` (sorted) inside any half-open window ``[t, t + window_s)``."""
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - window_s:
            start += 1
        best = max(best, end - start + 1)
    return best


def measure(algorithm: str, arrivals: Sequence[Arrival], decisions: Sequence[Decision],
            limits: Mapping[str, int], window_s: float) -> LimiterOutcome:
    outcome = LimiterOutcome(algorithm, list(decisions))
    per_user: dict[str, list[float]] = defaultdict(list)
    tier_of: dict[str, str] = {}
    outcome.by_tier = {t: {"accepted": 0, "rejected": 0} for t in TIERS}
    for arrival, decision in zip(arrivals, decisions):
        tier_of[arrival.user] = arrival.tier
        if decision.allowed:
            outcome.accepted += 1
            outcome.by_tier[arrival.tier]["accepted"] += 1
            per_user[arrival.user].append(arrival.t_s)
        else:
            outcome.rejected += 1
            outcome.by_tier[arrival.tier]["rejected"] += 1
            outcome.retry_after_s.append(decision.retry_after_s)
    outcome.max_in_window_by_tier = {t: 0 for t in TIERS}
    for user, times in per_user.items():
        most = max_in_any_window(times, window_s)
        tier = tier_of[user]
        outcome.max_in_window_by_tier[tier] = max(outcome.max_in_window_by_tier[tier], most)
        if most > limits[tier]:
            outcome.users_over_limit += 1
    return outcome


def run_all(client: redis.Redis, namespace: str, arrivals: Sequence[Arrival],
            limits: Mapping[str, int], window_s: float) -> tuple[dict[str, LimiterOutcome], set[str]]:
    """Every algorithm on the same arrivals; returns the outcomes and every key written."""
    outcomes, keys = {}, set()
    for algorithm in ALGORITHMS:
        limiter = TieredLimits(client, algorithm, namespace, limits, window_s)
        decisions = limiter.decide(arrivals)
        outcomes[algorithm] = measure(algorithm, arrivals, decisions, limits, window_s)
        keys |= limiter.keys()
    return outcomes, keys


def retry_after_header(seconds: float) -> str:
    """What a 429 should say: whole seconds, rounded up, never 0."""
    return str(max(1, math.ceil(seconds)))
