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
from ..embeddings import HashedNgramEmbeddings, similarities
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


# What all-MiniLM-L6-v2, the optional sentence model (requirements-semantic.txt),
# scores for every example pair: measured once, so a lesson can quote the model
# where it is not installed.  tests/simulations/test_embeddings.py checks each
# figure against the model whenever it is installed.
MINILM_SCORES: dict[tuple[str, str], float] = {
    ("What is Python?", "Tell me about the Python programming language"): 0.8460,
    ("What's the capital of France?", "What is France's capital city?"): 0.9499,
    ("How do I reset my password?", "I forgot my password, how can I reset it?"): 0.9368,
    ("Where is my order?", "How can I track my order?"): 0.6137,
    ("Translate 'dog' to French", "How do you say dog in French?"): 0.8679,
    ("How do I enable two-factor authentication?", "How do I disable two-factor authentication?"): 0.8824,
    ("How do I cancel my order?", "How do I cancel my subscription?"): 0.7119,
    ("I want a refund for order 1234", "I want a refund for order 5678"): 0.8420,
    ("Convert 100 USD to EUR", "Convert 100 EUR to USD"): 0.9801,
    ("Translate 'dog' to French", "Translate 'dog' to Spanish"): 0.8151,
    ("What is the capital of France?", "What is the capital of Germany?"): 0.6632,
    ("How do I upgrade my plan?", "How do I downgrade my plan?"): 0.6957,
    ("Do you ship to Canada?", "Do you ship from Canada?"): 0.9731,
    ("How do I convert a string to an integer in Python?",
     "How do I convert an integer to a string in Python?"): 0.9961,
    ("How do I export my data to CSV?", "How do I import data from a CSV file?"): 0.7919,
    ("How do I invite a teammate?", "How do I remove a teammate?"): 0.6357,
    ("Write a poem about winter", "Write a poem about summer"): 0.7275,
    ("How do I cancel my subscription?", "Do I get a refund if I cancel my subscription?"): 0.7503,
    ("Tell me a joke", "Tell me a tech joke"): 0.6012,
}


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


_HASHED = HashedNgramEmbeddings()


def pair_key(a: str, b: str) -> str:
    """A pair's name: its intent for a paraphrase pair, "<intent>/<intent>" for a near miss."""
    first, second = intents.intent_of(a), intents.intent_of(b)
    return first if first == second else f"{first}/{second}"


def reference_pairs() -> dict[str, dict[str, Any]]:
    """Every example pair by :func:`pair_key`, scored by both embeddings.

    ``hashed`` is computed here by the always-available hashed n-gram vectors;
    ``minilm`` is the sentence model's score from :data:`MINILM_SCORES`.
    """
    pairs, kinds = _pairs()
    return {pair_key(a, b): {"kind": kind, "a": a, "b": b, "same_intent": kind == "paraphrase",
                             "hashed": score, "minilm": MINILM_SCORES[(a, b)]}
            for kind, (a, b), score in zip(kinds, pairs, _scores(_HASHED))}
