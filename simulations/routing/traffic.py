"""Seeded routing traffic: what users ask, in which language, with which document, from which tier.

A request's content is a case of :mod:`.prompts` drawn from its true class's
pool; the mix of classes, the share of Chinese, the share of requests with a long
document and the tiers are the learner's.  Tomorrow's traffic is harder: fewer
simple requests, more complex and coding ones, and part of the complex ones are
"plain but hard" questions in everyday words, which a keyword classifier scores
low.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .prompts import CLASSES, cases, document_pool, plain_hard_pool, pool

TIER_MIXES = {
    "mixed": {"free": 0.6, "premium": 0.3, "enterprise": 0.1},
    "free": {"free": 1.0},
    "premium": {"premium": 1.0},
    "enterprise": {"enterprise": 1.0},
}
TIERS = ("free", "premium", "enterprise")
# Tomorrow: each class's weight is multiplied by this, then the mix renormalised.
SHIFT_FACTORS = {"simple": 0.7, "medium": 1.0, "complex": 2.0, "specialized": 1.0}
SHIFT_PLAIN_HARD = 0.8  # share of tomorrow's complex requests that are plain-but-hard questions


@dataclass(frozen=True)
class Traffic:
    """N requests as arrays: the case of each (see prompts.cases()) and its tier index."""

    case: np.ndarray  # int, ids into prompts.cases()
    tier: np.ndarray  # int, index into TIERS

    def __len__(self) -> int:
        return len(self.case)


def class_mix(weights: Mapping[str, float], shifted: bool) -> np.ndarray:
    """The share of each class of CLASSES (weights normalised; all zero means equal shares)."""
    raw = np.array([max(0.0, float(weights[c])) * (SHIFT_FACTORS[c] if shifted else 1.0) for c in CLASSES])
    total = raw.sum()
    return raw / total if total > 0 else np.full(len(CLASSES), 1.0 / len(CLASSES))


def generate(requests: int, weights: Mapping[str, float], chinese: float, documents: float,
             tier_mix: str, seed: int, shifted: bool = False) -> Traffic:
    """``requests`` requests; the same arguments and seed give the same traffic."""
    rng = np.random.default_rng([seed, 1 if shifted else 0])
    mix = class_mix(weights, shifted)
    kind = rng.choice(len(CLASSES), size=requests, p=mix)
    zh = rng.random(requests) < chinese
    with_doc = rng.random(requests) < documents
    plain_hard = rng.random(requests) < (SHIFT_PLAIN_HARD if shifted else 0.0)
    pick = rng.random(requests)
    out = np.empty(requests, dtype=np.int64)
    lang = np.where(zh, 1, 0)
    for index, kind_name in enumerate(CLASSES):
        for code, lang_name in enumerate(("en", "zh")):
            plain = (kind == index) & (lang == code) & ~with_doc
            hard = plain & plain_hard if kind_name == "complex" else np.zeros(requests, dtype=bool)
            for mask, ids in ((plain & ~hard, pool(kind_name, lang_name)), (hard, plain_hard_pool(lang_name))):
                out[mask] = np.asarray(ids)[(pick[mask] * len(ids)).astype(np.int64)]
    for code, lang_name in enumerate(("en", "zh")):
        mask = with_doc & (lang == code)
        ids = document_pool(lang_name)
        out[mask] = np.asarray(ids)[(pick[mask] * len(ids)).astype(np.int64)]
    shares = TIER_MIXES[tier_mix]
    tier = rng.choice([TIERS.index(t) for t in shares], size=requests, p=list(shares.values()))
    return Traffic(out, tier.astype(np.int64))


def true_kind(traffic: Traffic) -> np.ndarray:
    """The true class index of each request."""
    table = np.array([CLASSES.index(c.kind) for c in cases()])
    return table[traffic.case]


def language(traffic: Traffic) -> np.ndarray:
    """1 for Chinese, 0 for English."""
    table = np.array([c.lang == "zh" for c in cases()], dtype=np.int64)
    return table[traffic.case]
