"""Who sends what, and when: arrivals with a user, a tier and a route.

Each tier has its own arrival rate (requests per second) and a fixed number of
users, so per-user limits have someone to limit.  The shape multiplies every rate
over time:

* ``steady``: the rates as set;
* ``burst``: five times the rates for the middle fifth of the run;
* ``spike``: the chapter's morning (32.4): quiet, a tenfold jump, twenty-fold, then
  a fall back to twice the start, on the run's own length;
* ``edge``: one free user sends a window's worth of requests just before a window
  boundary and again just after it, over light steady traffic (the fixed window's
  double burst).

Arrivals are a Poisson process sampled by thinning, from one seeded generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SHAPES = ("steady", "burst", "spike", "edge")
TIERS = ("free", "pro", "enterprise")
ROUTES = ("chat", "rag", "agent")
ROUTE_SHARES = (0.6, 0.25, 0.15)  # most traffic is plain chat
USERS_PER_TIER = {"free": 3, "pro": 2, "enterprise": 1}
PRIORITY_OF_TIER = {"enterprise": "high", "pro": "normal", "free": "low"}
BURST_FACTOR = 5.0
BURST_SPAN = (0.4, 0.6)  # share of the run
# The chapter's morning as (start share of the run, rate multiplier): 50, 500, 1000 and 100 QPS.
SPIKE_STEPS = ((0.0, 1.0), (0.2, 10.0), (0.4, 20.0), (0.85, 2.0))
EDGE_USER = "free-0"


@dataclass(frozen=True, slots=True)
class Arrival:
    id: int
    t_s: float
    tier: str
    user: str
    route: str

    @property
    def priority(self) -> str:
        return PRIORITY_OF_TIER[self.tier]


def multiplier(shape: str, t: float, duration: float) -> float:
    """How many times the set rates apply at ``t`` seconds of a ``duration``-second run."""
    share = t / duration if duration else 0.0
    if shape == "burst":
        return BURST_FACTOR if BURST_SPAN[0] <= share < BURST_SPAN[1] else 1.0
    if shape == "spike":
        level = 1.0
        for start, factor in SPIKE_STEPS:
            if share >= start:
                level = factor
        return level
    return 1.0


def peak_multiplier(shape: str) -> float:
    return {"burst": BURST_FACTOR, "spike": max(f for _, f in SPIKE_STEPS)}.get(shape, 1.0)


def expected_count(rates: dict[str, float], shape: str, duration: float) -> float:
    """The expected number of arrivals (for the cap check, before drawing any)."""
    total = sum(rates.values())
    if shape == "burst":
        span = BURST_SPAN[1] - BURST_SPAN[0]
        return total * duration * (1 + (BURST_FACTOR - 1) * span)
    if shape == "spike":
        bounds = [s for s, _ in SPIKE_STEPS] + [1.0]
        return total * duration * sum((b - a) * f for (a, f), b in zip(SPIKE_STEPS, bounds[1:]))
    return total * duration


def generate(rates: dict[str, float], shape: str, duration: float, seed: int,
             window_s: float = 60.0, edge_limit: int = 10) -> list[Arrival]:
    """Arrivals in time order over ``duration`` seconds; the same seed gives the same list."""
    rng = np.random.default_rng(seed)
    times: list[tuple[float, str, str]] = []
    peak = peak_multiplier(shape)
    for tier in TIERS:
        rate = rates.get(tier, 0.0)
        if rate <= 0:
            continue
        top = rate * peak
        count = rng.poisson(top * duration)
        candidates = np.sort(rng.uniform(0.0, duration, count))
        keep = rng.uniform(0.0, top, count) < np.array([rate * multiplier(shape, t, duration) for t in candidates])
        users = rng.integers(0, USERS_PER_TIER[tier], count)
        times += [(float(t), tier, f"{tier}-{int(u)}") for t, k, u in zip(candidates, keep, users) if k]
    if shape == "edge":
        times += _edge_burst(duration, window_s, edge_limit)
    times.sort(key=lambda item: (item[0], item[2]))
    routes = rng.choice(len(ROUTES), size=len(times), p=ROUTE_SHARES)
    return [Arrival(i, t, tier, user, ROUTES[int(r)]) for i, ((t, tier, user), r) in enumerate(zip(times, routes))]


def _edge_burst(duration: float, window_s: float, limit: int) -> list[tuple[float, str, str]]:
    """A window's worth of requests in the last tenth of a window, and again in the first tenth of the next."""
    boundary = window_s * max(1, math.floor(duration / window_s / 2))
    if boundary >= duration:
        return []
    span = window_s / 10
    before = [boundary - span + span * (i + 0.5) / limit for i in range(limit)]
    after = [boundary + span * (i + 0.5) / limit for i in range(limit)]
    return [(round(t, 6), "free", EDGE_USER) for t in before + after]
