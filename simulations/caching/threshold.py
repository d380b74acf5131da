"""The semantic threshold explorer: what each threshold would have served, and example pairs.

Re-running the whole workload for every threshold would multiply the run time.
Instead, every semantic lookup of the run recorded its nearest stored question
and that question's cosine score; for a threshold ``t`` a lookup counts as a hit
when the score reaches ``t``, a correct one when the neighbour has the request's
intent.  At the run's own threshold this is exactly what happened.  At other
thresholds it is an estimate: the cache would have stored other entries (fewer
hits store more questions), so its neighbours would differ somewhat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from langchain_core.embeddings import Embeddings

from .. import intents
from ..embeddings import similarities
from .replay import StrategyRun

THRESHOLDS: tuple[float, ...] = tuple(round(0.50 + 0.05 * step, 2) for step in range(11))

# Same-meaning pairs: the chapters' own two examples first (30.1.4 and 32.3.2).
PARAPHRASE_PAIRS: tuple[tuple[str, str], ...] = (
    ("What is Python?", "Tell me about the Python programming language"),
    ("What's the capital of France?", "What is France's capital city?"),
    ("How do I reset my password?", "I forgot my password, how can I reset it?"),
    ("Where is my order?", "How can I track my order?"),
    ("Translate 'dog' to French", "How do you say dog in French?"),
)


@dataclass(frozen=True)
class Neighbour:
    """A semantic lookup's closest stored question: its score, and whether it meant the same."""

    score: float | None  # None: nothing stored yet to compare with
    same_intent: bool


def neighbours(run: StrategyRun) -> list[Neighbour]:
    """The nearest neighbour of every lookup the semantic strategy made during traffic."""
    found = []
    for served in run.served:
        lookup = served.lookup
        if lookup is None:
            continue
        same = (lookup.matched_question is not None
                and intents.intent_of(lookup.matched_question) == served.request.intent)
        found.append(Neighbour(lookup.score, same))
    return found


def classify(found: Sequence[Neighbour], threshold: float) -> dict[str, Any]:
    """Correct hits, wrong hits (another intent's answer) and misses at ``threshold``."""
    hits = [n for n in found if n.score is not None and n.score >= threshold]
    correct = sum(n.same_intent for n in hits)
    return {"threshold": threshold, "correct_hits": correct,
            "wrong_hits": len(hits) - correct, "misses": len(found) - len(hits)}


def explore(run: StrategyRun, active_threshold: float) -> dict[str, Any]:
    found = neighbours(run)
    return {
        "active_threshold": active_threshold,
        "lookups": len(found),
        "estimated": True,  # exact only at active_threshold (see the module docstring)
        "rows": [classify(found, t) for t in THRESHOLDS],
        "active": classify(found, active_threshold),
    }


def example_pairs(embeddings: Embeddings, threshold: float) -> list[dict[str, Any]]:
    """Scores of same-meaning pairs and of near-miss pairs that read alike but differ."""
    pairs, kinds = _pairs()
    return [{"kind": kind, "a": a, "b": b, "score": round(score, 6),
             "same_intent": intents.intent_of(a) == intents.intent_of(b),
             "hit": score >= threshold}
            for kind, (a, b), score in zip(kinds, pairs, _scores(embeddings))]


def _pairs() -> tuple[list[tuple[str, str]], list[str]]:
    near_misses = [(intents.get(a).canonical, intents.get(b).canonical)
                   for a, b in intents.NEAR_MISS_PAIRS]
    kinds = ["paraphrase"] * len(PARAPHRASE_PAIRS) + ["near_miss"] * len(near_misses)
    return [*PARAPHRASE_PAIRS, *near_misses], kinds


@lru_cache(maxsize=8)
def _scores(embeddings: Embeddings) -> tuple[float, ...]:
    # The pairs are fixed, so their scores depend on the embedding model alone:
    # computed once per model and process, not on every run.
    return tuple(similarities(embeddings, _pairs()[0]))
