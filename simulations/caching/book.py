"""The chapters' caching figures beside this run's, and where they do not add up.

Section 30.1 times one cached call and sets a semantic threshold; section 32.3
promises a two-level cache with L1 ≈ 40 % and L2 ≈ 35 % hits, turning an 800 ms
average into 50 ms.  Each note carries the chapter's figure and ours in ``data``
(rates as percentages, ready to print).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..component import Note, note
from ..text import gettext_noop
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
BOOK_BEFORE_P99_MS = 2000.0
BOOK_BEFORE_QPS = 50.0
BOOK_AFTER_MEAN_MS = 50.0
BOOK_AFTER_P99_MS = 200.0
BOOK_AFTER_QPS = 500.0
PERCENT = 100.0

# English wording of each note; %(name)s placeholders are filled from the note's data.
NOTE_TEXTS = {
    "book_30_1_latency": gettext_noop(
        "The chapter times the first call at %(book_first_s)s s and the cached repeat at %(book_cached_s)s s. "
        "Here the in-memory cache's first miss took %(first_miss_ms).0f ms and its median hit %(hit_p50_ms).2f ms "
        "(a modelled lookup)."),
    "book_30_1_threshold_is_distance": gettext_noop(
        "langchain's RedisSemanticCache compares score_threshold with a vector distance (1 − cosine similarity; "
        "its default is 0.2), not a similarity: the chapter's %(book_threshold)s accepts any neighbour with a "
        "similarity of %(similarity)s or more. Judged by the nearest stored question of each of this run's "
        "%(lookups)s semantic lookups, that would serve about %(wrong_at_distance)s wrong answers, against "
        "%(wrong_at_book)s at a similarity of %(book_threshold)s."),
    "book_30_1_pair_hits": gettext_noop(
        "The chapter's pair “%(a)s” / “%(b)s” scores %(score).3f with the active embedding: a hit at its "
        "threshold of %(book_threshold)s."),
    "book_30_1_pair_misses": gettext_noop(
        "The chapter's pair “%(a)s” / “%(b)s” scores %(score).3f with the active embedding: a miss at its "
        "threshold of %(book_threshold)s."),
    "book_30_1_restart": gettext_noop(
        "After the restart at request %(restart_at)s, the in-memory cache answered %(in_memory_pct).0f%% of the "
        "remaining %(remaining)s requests and SQLite %(sqlite_pct).0f%%: as the chapter says, the file survives "
        "the restart."),
    "book_32_3_levels": gettext_noop(
        "The chapter expects L1 ≈ %(book_l1_pct).0f%% and L2 ≈ %(book_l2_pct).0f%%. This run: L1 %(l1_pct).1f%%, "
        "L2 %(l2_pct).1f%%, %(hit_pct).1f%% in all."),
    "book_32_3_mean_does_not_add_up": gettext_noop(
        "With %(book_hit_pct).0f%% hits, %(book_miss_pct).0f%% of requests still take the uncached time: at the "
        "chapter's own %(book_before_ms).0f ms the average is at least %(book_floor_ms).0f ms even if hits took no "
        "time at all, not %(book_after_ms).0f ms, which would need %(needed_pct).2f%% hits. Here: "
        "%(none_mean_ms).0f ms without a cache, %(mean_ms).0f ms with the multi-level cache at %(hit_pct).1f%% "
        "hits (the misses alone account for %(floor_ms).0f ms)."),
    "book_32_3_p99": gettext_noop(
        "The chapter's P99 of %(book_after_p99_ms).0f ms cannot hold either: while more than 1%% of requests "
        "miss, the slowest 1%% are all misses, so P99 stays near the uncached tail. Here %(miss_pct).1f%% miss: "
        "P99 %(p99_ms).0f ms with the multi-level cache, %(none_p99_ms).0f ms without."),
    "book_32_3_l1_never_hits": gettext_noop(
        "The chapter's L1 never hits: _get_l1 is a method under functools.lru_cache that returns None (and "
        "caches that None), and _set_l1 calls __setitem__ on a function, which raises AttributeError on the "
        "first miss."),
}


def mean_floor_ms(hit_rate: float, miss_ms: float) -> float:
    """The lowest possible average when misses take ``miss_ms`` and hits take no time at all."""
    return (1.0 - hit_rate) * miss_ms


def hit_rate_needed(mean_ms: float, miss_ms: float) -> float:
    """The hit rate at which even free hits bring the average down to ``mean_ms``."""
    return 1.0 - mean_ms / miss_ms


def throughput_limit(qps: float, hit_rate: float) -> float:
    """The most a service can serve when its backend was the limit at ``qps`` and only misses reach it."""
    return qps / (1.0 - hit_rate)


def figures_32_3() -> dict[str, float]:
    """The chapter's 32.3.1 figures and what follows from them, for a lesson to quote."""
    hit_rate = BOOK_L1_HIT_RATE + BOOK_L2_HIT_RATE
    miss_rate = 1.0 - hit_rate
    limit = throughput_limit(BOOK_BEFORE_QPS, hit_rate)
    return {
        "l1_pct": BOOK_L1_HIT_RATE * PERCENT, "l2_pct": BOOK_L2_HIT_RATE * PERCENT,
        "hit_pct": hit_rate * PERCENT, "miss_pct": miss_rate * PERCENT, "miss_share": miss_rate,
        # P99 of all requests, when more than 1 % miss, is this percentile of the misses alone.
        "p99_miss_percentile": (1.0 - 0.01 / miss_rate) * PERCENT,
        "before_mean_ms": BOOK_BEFORE_MEAN_MS, "before_p99_ms": BOOK_BEFORE_P99_MS,
        "before_qps": BOOK_BEFORE_QPS, "after_mean_ms": BOOK_AFTER_MEAN_MS,
        "after_p99_ms": BOOK_AFTER_P99_MS, "after_qps": BOOK_AFTER_QPS,
        "qps_gain": BOOK_AFTER_QPS / BOOK_BEFORE_QPS,
        # Misses alone, even if hits cost nothing:
        "mean_floor_ms": mean_floor_ms(hit_rate, BOOK_BEFORE_MEAN_MS),
        # What the chapter's 50 ms would need instead: cheaper misses, or fewer of them.
        "miss_ms_needed": BOOK_AFTER_MEAN_MS / miss_rate,
        "miss_pct_needed": (1.0 - hit_rate_needed(BOOK_AFTER_MEAN_MS, BOOK_BEFORE_MEAN_MS)) * PERCENT,
        "qps_limit": limit, "qps_limit_gain": limit / BOOK_BEFORE_QPS,
    }


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
    return note(NOTE_TEXTS, "book_30_1_latency", **data)


def _distance_30_1(found: Sequence[Neighbour]) -> Note:
    # langchain's RedisSemanticCache passes score_threshold to the vector store as a
    # distance_threshold: cosine distance, 1 - similarity.
    similarity = round(1.0 - BOOK_THRESHOLD, 2)
    data = {"book_threshold": BOOK_THRESHOLD, "similarity": similarity, "lookups": len(found),
            "wrong_at_distance": classify(found, similarity)["wrong_hits"],
            "wrong_at_book": classify(found, BOOK_THRESHOLD)["wrong_hits"]}
    return note(NOTE_TEXTS, "book_30_1_threshold_is_distance", **data)


def _pair_30_1(pairs: Sequence[Mapping[str, Any]]) -> Note:
    python = next(p for p in pairs if (p["a"], p["b"]) == BOOK_PYTHON_PAIR)
    data = {"a": python["a"], "b": python["b"], "score": python["score"],
            "book_threshold": BOOK_THRESHOLD}
    hit = python["score"] >= BOOK_THRESHOLD
    return note(NOTE_TEXTS, "book_30_1_pair_hits" if hit else "book_30_1_pair_misses", **data)


def _restart_30_1(runs: Mapping[str, StrategyRun], restart_at: int) -> Note:
    remaining = len(runs["in_memory"].served) - restart_at
    after = {name: share(runs[name].served[restart_at:]) * PERCENT for name in ("in_memory", "sqlite")}
    data = {"restart_at": restart_at, "remaining": remaining,
            "in_memory_pct": after["in_memory"], "sqlite_pct": after["sqlite"]}
    return note(NOTE_TEXTS, "book_30_1_restart", **data)


def notes_32_3(metrics: Mapping[str, Mapping[str, Any]]) -> list[Note]:
    levels, bare = metrics["multi_level"], metrics["none"]
    return [_levels_32_3(levels), _mean_32_3(levels, bare), _tail_32_3(levels, bare),
            note(NOTE_TEXTS, "book_32_3_l1_never_hits")]


def _levels_32_3(levels: Mapping[str, Any]) -> Note:
    data = {"book_l1_pct": BOOK_L1_HIT_RATE * PERCENT, "book_l2_pct": BOOK_L2_HIT_RATE * PERCENT,
            "l1_pct": levels["l1_hit_rate"] * PERCENT, "l2_pct": levels["l2_hit_rate"] * PERCENT,
            "hit_pct": levels["hit_rate"] * PERCENT}
    return note(NOTE_TEXTS, "book_32_3_levels", **data)


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
    return note(NOTE_TEXTS, "book_32_3_mean_does_not_add_up", **data)


def _tail_32_3(levels: Mapping[str, Any], bare: Mapping[str, Any]) -> Note:
    data = {"book_after_p99_ms": BOOK_AFTER_P99_MS, "p99_ms": levels["p99_latency_ms"],
            "none_p99_ms": bare["p99_latency_ms"], "miss_pct": (1 - levels["hit_rate"]) * PERCENT}
    return note(NOTE_TEXTS, "book_32_3_p99", **data)
