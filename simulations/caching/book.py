"""The chapters' caching figures beside this run's, and where they do not add up.

Section 30.1 times one cached call and sets a semantic threshold; section 32.3
promises a two-level cache with L1 ≈ 40 % and L2 ≈ 35 % hits, turning an 800 ms
average into 50 ms.  Each note carries the chapter's figure and ours in ``data``
(rates as percentages, ready to print).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..component import Note
from .measures import percentile, share, to_ms
from .replay import StrategyRun
from .threshold import Neighbour, classify

# 30.1.1: the first call and the cached second call of the same question.
BOOK_FIRST_CALL_S = 1.23
BOOK_CACHED_CALL_S = 0.001
# 30.1.4: score_threshold=0.9, meant as "cosine similarity >= 0.9".
BOOK_THRESHOLD = 0.9
BOOK_PYTHON_PAIR = ("What is Python?", "Tell me about the Python programming language")
# 32.3.1: the multi-level cache's expected effect.
BOOK_L1_HIT_RATE = 0.40
BOOK_L2_HIT_RATE = 0.35
BOOK_BEFORE_MEAN_MS = 800.0
BOOK_AFTER_MEAN_MS = 50.0
BOOK_AFTER_P99_MS = 200.0
PERCENT = 100.0


def mean_floor_ms(hit_rate: float, miss_ms: float) -> float:
    """The lowest possible average when misses take ``miss_ms`` and hits take no time at all."""
    return (1.0 - hit_rate) * miss_ms


def hit_rate_needed(mean_ms: float, miss_ms: float) -> float:
    """The hit rate at which even free hits bring the average down to ``mean_ms``."""
    return 1.0 - mean_ms / miss_ms


def notes_30_1(runs: Mapping[str, StrategyRun], found: Sequence[Neighbour],
               pairs: Sequence[Mapping[str, Any]], restart_at: int) -> list[Note]:
    notes = [_latency_30_1(runs["in_memory"]), _distance_30_1(found), _pair_30_1(pairs)]
    if 0 < restart_at < len(runs["in_memory"].served):
        notes.append(_restart_30_1(runs, restart_at))
    return notes


def _latency_30_1(run: StrategyRun) -> Note:
    first_miss = next((s for s in run.served if not s.hit), None)
    hits = [s.latency_s for s in run.served if s.hit]
    data = {"book_first_s": BOOK_FIRST_CALL_S, "book_cached_s": BOOK_CACHED_CALL_S,
            "first_miss_ms": to_ms(first_miss.latency_s) if first_miss else 0.0,
            "hit_p50_ms": to_ms(percentile(hits, 50))}
    return Note(
        "book_30_1_latency",
        f"The chapter times the first call at {BOOK_FIRST_CALL_S} s and the cached repeat at "
        f"{BOOK_CACHED_CALL_S} s. Here the in-memory cache's first miss took "
        f"{data['first_miss_ms']:.0f} ms and its median hit {data['hit_p50_ms']:.2f} ms "
        "(a modelled lookup).", data)


def _distance_30_1(found: Sequence[Neighbour]) -> Note:
    # langchain's RedisSemanticCache passes score_threshold to the vector store as a
    # distance_threshold: cosine distance, 1 - similarity.
    similarity = round(1.0 - BOOK_THRESHOLD, 2)
    data = {"book_threshold": BOOK_THRESHOLD, "similarity": similarity, "lookups": len(found),
            "wrong_at_distance": classify(found, similarity)["wrong_hits"],
            "wrong_at_book": classify(found, BOOK_THRESHOLD)["wrong_hits"]}
    return Note(
        "book_30_1_threshold_is_distance",
        "langchain's RedisSemanticCache compares score_threshold with a vector distance "
        "(1 - cosine similarity; its default is 0.2), not a similarity: the chapter's 0.9 "
        f"accepts any neighbour with a similarity of {similarity} or more. Judged by the nearest "
        f"stored question of each of this run's {len(found)} semantic lookups, that would serve "
        f"about {data['wrong_at_distance']} wrong answers, against {data['wrong_at_book']} at a "
        f"similarity of {BOOK_THRESHOLD}.", data)


def _pair_30_1(pairs: Sequence[Mapping[str, Any]]) -> Note:
    python = next(p for p in pairs if (p["a"], p["b"]) == BOOK_PYTHON_PAIR)
    data = {"a": python["a"], "b": python["b"], "score": python["score"],
            "book_threshold": BOOK_THRESHOLD}
    hit = python["score"] >= BOOK_THRESHOLD
    verdict = "a hit" if hit else "a miss"
    return Note(
        "book_30_1_pair_hits" if hit else "book_30_1_pair_misses",
        f"The chapter's pair '{python['a']}' / '{python['b']}' scores {python['score']:.3f} "
        f"with the active embedding: {verdict} at its threshold of {BOOK_THRESHOLD}.", data)


def _restart_30_1(runs: Mapping[str, StrategyRun], restart_at: int) -> Note:
    remaining = len(runs["in_memory"].served) - restart_at
    after = {name: share(runs[name].served[restart_at:]) * PERCENT for name in ("in_memory", "sqlite")}
    data = {"restart_at": restart_at, "remaining": remaining,
            "in_memory_pct": after["in_memory"], "sqlite_pct": after["sqlite"]}
    return Note(
        "book_30_1_restart",
        f"After the restart at request {restart_at}, the in-memory cache answered "
        f"{after['in_memory']:.0f} % of the remaining {remaining} requests and SQLite "
        f"{after['sqlite']:.0f} %: as the chapter says, the file survives the restart.", data)


def notes_32_3(metrics: Mapping[str, Mapping[str, Any]]) -> list[Note]:
    levels, bare = metrics["multi_level"], metrics["none"]
    return [_levels_32_3(levels), _mean_32_3(levels, bare), _tail_32_3(levels, bare),
            Note("book_32_3_l1_never_hits",
                 "The chapter's L1 never hits: _get_l1 is a method under functools.lru_cache "
                 "that returns None (and caches that None), and _set_l1 calls __setitem__ on "
                 "a function, which raises AttributeError on the first miss.", {})]


def _levels_32_3(levels: Mapping[str, Any]) -> Note:
    data = {"book_l1_pct": BOOK_L1_HIT_RATE * PERCENT, "book_l2_pct": BOOK_L2_HIT_RATE * PERCENT,
            "l1_pct": levels["l1_hit_rate"] * PERCENT, "l2_pct": levels["l2_hit_rate"] * PERCENT,
            "hit_pct": levels["hit_rate"] * PERCENT}
    return Note(
        "book_32_3_levels",
        f"The chapter expects L1 ≈ {data['book_l1_pct']:.0f} % and L2 ≈ "
        f"{data['book_l2_pct']:.0f} %. This run: L1 {data['l1_pct']:.1f} %, L2 "
        f"{data['l2_pct']:.1f} %, {data['hit_pct']:.1f} % in all.", data)


def _mean_32_3(levels: Mapping[str, Any], bare: Mapping[str, Any]) -> Note:
    book_hit_rate = BOOK_L1_HIT_RATE + BOOK_L2_HIT_RATE
    data = {"book_hit_pct": book_hit_rate * PERCENT,
            "book_miss_pct": (1.0 - book_hit_rate) * PERCENT,
            "book_before_ms": BOOK_BEFORE_MEAN_MS, "book_after_ms": BOOK_AFTER_MEAN_MS,
            "book_floor_ms": mean_floor_ms(book_hit_rate, BOOK_BEFORE_MEAN_MS),
            "needed_pct": hit_rate_needed(BOOK_AFTER_MEAN_MS, BOOK_BEFORE_MEAN_MS) * PERCENT,
            "none_mean_ms": bare["mean_latency_ms"], "mean_ms": levels["mean_latency_ms"],
            "hit_pct": levels["hit_rate"] * PERCENT,
            "floor_ms": mean_floor_ms(levels["hit_rate"], bare["mean_latency_ms"])}
    return Note(
        "book_32_3_mean_does_not_add_up",
        f"With {data['book_hit_pct']:.0f} % hits, {data['book_miss_pct']:.0f} % of requests "
        f"still take the uncached time: at the chapter's own {BOOK_BEFORE_MEAN_MS:.0f} ms the "
        f"average is at least {data['book_floor_ms']:.0f} ms even if hits took no time at all, "
        f"not {BOOK_AFTER_MEAN_MS:.0f} ms, which would need {data['needed_pct']:.2f} % hits. "
        f"Here: {data['none_mean_ms']:.0f} ms without a cache, {data['mean_ms']:.0f} ms with "
        f"the multi-level cache at {data['hit_pct']:.1f} % hits (the misses alone account for "
        f"{data['floor_ms']:.0f} ms).", data)


def _tail_32_3(levels: Mapping[str, Any], bare: Mapping[str, Any]) -> Note:
    data = {"book_after_p99_ms": BOOK_AFTER_P99_MS, "p99_ms": levels["p99_latency_ms"],
            "none_p99_ms": bare["p99_latency_ms"], "miss_pct": (1 - levels["hit_rate"]) * PERCENT}
    return Note(
        "book_32_3_p99",
        f"The chapter's P99 of {BOOK_AFTER_P99_MS:.0f} ms cannot hold either: while more than "
        "1 % of requests miss, the slowest 1 % are all misses, so P99 stays near the uncached "
        f"tail. Here {data['miss_pct']:.1f} % miss: P99 {data['p99_ms']:.0f} ms with the "
        f"multi-level cache, {data['none_p99_ms']:.0f} ms without.", data)
