"""The chapter's figures for sections 30.4, 30.7, 30.8.3 and 30.9, and the same figures recomputed.

Lessons render these numbers rather than typing them, and the component's notes
compare a run with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..profiles import profile
from ..tokens import count_chat_tokens, count_tokens
from .pricing import LARGE, SMALL, list_price

# 30.4.1: the tiktoken example and the callback's "expected output".
TIKTOKEN_TEXT = "This is a sample text for token counting."
TIKTOKEN_CLAIMED = 9
CALLBACK_PROMPT = "Tell me a joke"
CALLBACK_CLAIMED = {"total": 45, "prompt": 12, "completion": 33, "cost_usd": "0.0003"}

# 30.4.2: route 70% of requests to gpt-4o-mini and "save about 85%".
ROUTED_SHARE = 0.70
CLAIMED_SAVING = 0.85
LENGTH_LIMIT_CHARS = 50

# 30.7.2: the metrics callback's flat price and its expected output.
FLAT_PRICE_PER_1K = 0.002
METRICS_CLAIMED = {"calls": 1, "tokens": 15, "cost_usd": 0.00003}

# 30.8.3: "rate=0.5 ... tokens halved, cost halved".
COMPRESSION_RATE = 0.5

# 30.9: the case study's table.
@dataclass(frozen=True)
class CaseStudy:
    qps: float
    p95_latency_ms: float
    cost_per_day_usd: float
    cache_hit_rate: float
    availability: float


CASE_BEFORE = CaseStudy(qps=5, p95_latency_ms=3200, cost_per_day_usd=50, cache_hit_rate=0.0, availability=0.995)
CASE_AFTER = CaseStudy(qps=50, p95_latency_ms=800, cost_per_day_usd=8, cache_hit_rate=0.60, availability=0.9995)
CASE_CACHE_HIT_RATE = 0.60
CASE_ROUTED_SHARE = 0.70
CASE_BATCH = 10
CASE_CONCURRENCY = 50
CASE_FIELDS = ("qps", "p95_latency_ms", "cost_per_day_usd", "cache_hit_rate", "availability")


def routing_saving(routed_share: float, large: float, small: float) -> float:
    """Saving of routing ``routed_share`` of equal-size requests from a model at ``large`` to ``small``."""
    return routed_share * (1.0 - small / large)


def book_routing_saving() -> float:
    """30.4.2 with the chapter's own prices: 70% x (1 - 0.15 / 2.50)."""
    return routing_saving(ROUTED_SHARE, profile(LARGE).book_price_per_1m, profile(SMALL).book_price_per_1m)


def share_needed(saving: float) -> float:
    """The share of requests that would have to be routed for ``saving`` at the chapter's prices."""
    return saving / (1.0 - profile(SMALL).book_price_per_1m / profile(LARGE).book_price_per_1m)


def case_study_cost_estimate() -> float:
    """$50 a day with 60% of requests served from the cache and 70% of the rest at 6% of the price."""
    ratio = profile(SMALL).book_price_per_1m / profile(LARGE).book_price_per_1m
    return CASE_BEFORE.cost_per_day_usd * (1 - CASE_CACHE_HIT_RATE) * (
        (1 - CASE_ROUTED_SHARE) + CASE_ROUTED_SHARE * ratio)


def tiktoken_count() -> int:
    return count_tokens(TIKTOKEN_TEXT, profile(SMALL).encoding)


def callback_prompt_tokens() -> int:
    """What the provider bills for "Tell me a joke" sent as one user message."""
    return count_chat_tokens([CALLBACK_PROMPT], profile(SMALL).encoding)


def callback_costs() -> dict[str, Fraction]:
    """The chapter's 12 prompt and 33 completion tokens priced on each model, today's list prices."""
    return {model: list_price(model).cost(CALLBACK_CLAIMED["prompt"], CALLBACK_CLAIMED["completion"])
            for model in (LARGE, SMALL)}


def metrics_callback_today(input_tokens: int = 8, output_tokens: int = 7) -> Fraction:
    """30.7.2's 15 tokens at today's gpt-4o-mini prices, split as a short prompt and reply."""
    return list_price(SMALL).cost(input_tokens, output_tokens)
