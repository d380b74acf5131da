"""Seeded request streams: who asks what, and when.

A workload draws questions from the intent catalogue with Zipf popularity (a few
questions are asked far more often than the rest, which is what makes caching pay),
rewords some of them as paraphrases (which an exact cache misses and a semantic cache
may catch), tags each request with a user tier, and spaces arrivals by a traffic
shape: steady Poisson traffic, a burst, or a daily wave.

Arrivals follow a Poisson process whose rate may vary with time, sampled by thinning:
candidates arrive at the peak rate and each is kept with probability rate(t) / peak.
The burst window and the wave period are given as fractions of the run's nominal
duration (the time the expected count takes to reach ``requests``), so a shape keeps
its form whatever the request count and rate.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from . import intents
from .params import ParamError

SHAPES = ("steady", "burst", "wave")


@dataclass(frozen=True, slots=True)
class Request:
    id: int  # position in arrival order
    arrival_s: float
    text: str
    intent: str
    topic: str
    complexity: float
    tier: str
    paraphrase: bool  # True when ``text`` rewords the intent's canonical question


def _default_tiers() -> dict[str, float]:
    return {"free": 0.7, "pro": 0.25, "enterprise": 0.05}


@dataclass(frozen=True)
class WorkloadSpec:
    requests: int = 1000
    distinct_intents: int = 30  # the most popular catalogue intents in play
    zipf_s: float = 1.0  # popularity of rank k is proportional to 1 / k**zipf_s; 0 = uniform
    paraphrase_share: float = 0.3  # chance a request is worded as a paraphrase
    min_complexity: float = 0.0  # only intents whose complexity lies in this range are asked
    max_complexity: float = 1.0
    tiers: Mapping[str, float] = field(default_factory=_default_tiers)  # tier -> share
    shape: str = "steady"
    rate_per_s: float = 10.0  # steady rate, burst baseline, wave mean
    burst_start: float = 0.4  # burst window start, as a fraction of the nominal duration
    burst_length: float = 0.1  # burst window length, as a fraction of the nominal duration
    burst_factor: float = 5.0  # rate multiplier inside the burst window
    wave_amplitude: float = 0.8  # wave rate swings between (1 - a) and (1 + a) times the mean
    wave_cycles: float = 1.0  # full waves ("days") over the nominal duration

    def __post_init__(self) -> None:
        _validate(self)


def _check(ok: bool, name: str, message: str) -> None:
    if not ok:
        raise ParamError(name, "invalid", reason=message)


def _validate(spec: WorkloadSpec) -> None:
    _check(spec.requests >= 0, "requests", "must be at least 0")
    _check(spec.distinct_intents >= 1, "distinct_intents", "must be at least 1")
    _check(spec.zipf_s >= 0, "zipf_s", "must be at least 0")
    _check(0 <= spec.paraphrase_share <= 1, "paraphrase_share", "must be within [0, 1]")
    _check(0 <= spec.min_complexity <= spec.max_complexity <= 1, "max_complexity",
           "need 0 <= min_complexity <= max_complexity <= 1")
    _check(bool(in_play(spec)), "min_complexity", "no intent has a complexity in this range")
    shares = list(spec.tiers.values())
    _check(bool(shares) and min(shares) >= 0 and sum(shares) > 0, "tiers",
           "need non-negative shares with a positive sum")
    _check(spec.shape in SHAPES, "shape", f"must be one of {', '.join(SHAPES)}")
    _check(spec.rate_per_s > 0, "rate_per_s", "must be above 0")
    _check(0 <= spec.burst_start < 1, "burst_start", "must be within [0, 1)")
    _check(0 < spec.burst_length <= 1 - spec.burst_start, "burst_length",
           "must be above 0 and end the burst by the end of the run")
    _check(spec.burst_factor >= 1, "burst_factor", "must be at least 1")
    _check(0 <= spec.wave_amplitude <= 1, "wave_amplitude", "must be within [0, 1]")
    _check(spec.wave_cycles > 0, "wave_cycles", "must be above 0")


def in_play(spec: WorkloadSpec) -> tuple[intents.Intent, ...]:
    """The intents a workload asks, most popular first."""
    eligible = (
        intent for intent in intents.CATALOGUE
        if spec.min_complexity <= intent.complexity <= spec.max_complexity
    )
    return tuple(itertools.islice(eligible, spec.distinct_intents))


def popularity(spec: WorkloadSpec) -> list[tuple[str, float]]:
    """(intent id, probability a request asks it), most popular first."""
    chosen = in_play(spec)
    weights = [1.0 / rank**spec.zipf_s for rank in range(1, len(chosen) + 1)]
    total = sum(weights)
    return [(intent.id, weight / total) for intent, weight in zip(chosen, weights)]


def nominal_duration_s(spec: WorkloadSpec) -> float:
    """Seconds by which the expected number of arrivals reaches ``spec.requests``."""
    if spec.shape == "burst":
        extra = (spec.burst_factor - 1) * spec.burst_length
        return spec.requests / (spec.rate_per_s * (1 + extra))
    if spec.shape == "wave":
        # The wave's mean over a whole number of cycles is the base rate; a part
        # cycle leaves a remainder, which this closed-form integral accounts for.
        turns = 2 * math.pi * spec.wave_cycles
        mean_factor = 1 - spec.wave_amplitude * math.sin(turns) / turns
        return spec.requests / (spec.rate_per_s * mean_factor)
    return spec.requests / spec.rate_per_s


def burst_window_s(spec: WorkloadSpec) -> tuple[float, float]:
    """Start and end of the burst window in seconds (meaningful for the 'burst' shape)."""
    duration = nominal_duration_s(spec)
    start = spec.burst_start * duration
    return start, start + spec.burst_length * duration


def rate_at(spec: WorkloadSpec, t: float) -> float:
    """The intended arrival rate (requests per second) at time ``t``."""
    return _rate_function(spec)(t)


def _rate_function(spec: WorkloadSpec) -> Callable[[float], float]:
    base = spec.rate_per_s
    if spec.shape == "burst":
        start, end = burst_window_s(spec)
        return lambda t: base * spec.burst_factor if start <= t < end else base
    if spec.shape == "wave":
        period = nominal_duration_s(spec) / spec.wave_cycles
        # Starts at the trough (night), peaks half a period later (midday).
        return lambda t: base * (1 - spec.wave_amplitude * math.cos(2 * math.pi * t / period))
    return lambda t: base


def _peak_rate(spec: WorkloadSpec) -> float:
    if spec.shape == "burst":
        return spec.rate_per_s * spec.burst_factor
    if spec.shape == "wave":
        return spec.rate_per_s * (1 + spec.wave_amplitude)
    return spec.rate_per_s


def _arrivals(spec: WorkloadSpec, rng: random.Random) -> list[float]:
    rate = _rate_function(spec)
    peak = _peak_rate(spec)
    thinned = spec.shape != "steady"
    times: list[float] = []
    t = 0.0
    while len(times) < spec.requests:
        t += rng.expovariate(peak)
        if not thinned or rng.random() * peak < rate(t):
            times.append(t)
    return times


def _wording(intent: intents.Intent, share: float, rng: random.Random) -> tuple[str, bool]:
    if rng.random() < share:
        return rng.choice(intent.paraphrases), True
    return intent.canonical, False


def generate(spec: WorkloadSpec, seed: int) -> list[Request]:
    """``spec.requests`` requests in arrival order; the same seed gives the same list."""
    rng = random.Random(seed)
    times = _arrivals(spec, rng)
    chosen = in_play(spec)
    popular = rng.choices(chosen, weights=[p for _, p in popularity(spec)], k=spec.requests)
    tiers = rng.choices(list(spec.tiers), weights=list(spec.tiers.values()), k=spec.requests)
    requests = []
    for index, (arrival, intent, tier) in enumerate(zip(times, popular, tiers)):
        text, reworded = _wording(intent, spec.paraphrase_share, rng)
        requests.append(Request(index, arrival, text, intent.id, intent.topic,
                                intent.complexity, tier, reworded))
    return requests


def counts_per_window(requests: Sequence[Request], window_s: float) -> list[int]:
    """Arrivals in consecutive windows of ``window_s`` seconds from time 0 (for rate charts)."""
    if window_s <= 0:
        raise ValueError("window_s must be above 0")
    if not requests:
        return []
    counts = [0] * (int(max(r.arrival_s for r in requests) // window_s) + 1)
    for request in requests:
        counts[int(request.arrival_s // window_s)] += 1
    return counts
