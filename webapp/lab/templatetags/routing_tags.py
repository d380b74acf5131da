"""Figures and code for the model-routing lesson, taken from the simulation, never typed into the prose.

``{% routing_book as book %}`` gives the chapter's claims and the same figures
recomputed from its own inputs; ``{% routing_models as models %}`` the model
catalogue, with the chapter's figures beside today's; ``{% routing_source "chain" %}``
the source of the functions the simulation runs.
"""

from __future__ import annotations

import inspect
from typing import Any

from django import template
from django.utils.translation import gettext as _

from simulations.profiles import profile
from simulations.routing import book, chain, classifier, policies
from simulations.routing.models import ANSWER_BUDGET, MODELS
from simulations.routing.prompts import document_size

from ..routing_labels import priority_label

register = template.Library()

SOURCES = {
    "chain": (chain.inline, chain.model_branch, chain.build_chain),
    "guard": (policies.guarded,),
    "code-cue": (classifier._words, classifier.code_cue),
    "cascade": (chain.build_cascade,),
}


def _price(value: float) -> str:
    """A price per 1K tokens, four decimals so that a column of them lines up."""
    return f"${value:.4f}"


@register.simple_tag
def routing_book() -> dict[str, Any]:
    """The chapter's claims and its own arithmetic redone, formatted for prose."""
    again, claimed = book.recompute(), book.CLAIMED
    dollars, percent = book.dollars, book.percent
    tiers = book.code_cost_by_tier()
    contract_chars, contract_tokens = document_size("zh-contract")
    report_chars, report_tokens = document_size("en-report")
    return {
        "mix": {c: percent(s) for c, s in book.MIX.items()},
        "price_weak": dollars(book.PRICE_PER_REQUEST["gpt-3.5-turbo"]),
        "price_strong": dollars(book.PRICE_PER_REQUEST["gpt-4"]),
        "claimed_avg": dollars(claimed.avg_cost), "avg": dollars(again["avg_cost"]),
        "claimed_reduction": percent(claimed.reduction),
        "reduction": percent(again["reduction_vs_claimed_baseline"], 1),
        "reduction_own": percent(again["reduction_vs_table_baseline"]),
        "claimed_baseline": dollars(claimed.baseline_cost), "table_baseline": dollars(again["table_baseline_cost"]),
        "baseline_tokens": f"{again['baseline_tokens_implied']:,.0f}",
        "claimed_monthly": dollars(claimed.monthly), "monthly": dollars(again["monthly"]),
        "claimed_saving": dollars(claimed.saving), "saving": dollars(again["saving_vs_claimed_baseline"]),
        "saving_own": dollars(again["saving_vs_table_baseline"]),
        "claimed_baseline_monthly": dollars(claimed.baseline_monthly),
        "table_baseline_monthly": dollars(again["table_baseline_monthly"]),
        "monthly_requests": f"{book.MONTHLY_REQUESTS:,}",
        "claimed_latency": f"{claimed.avg_latency_s:.1f}", "latency": f"{again['avg_latency_s']:.1f}",
        "claimed_baseline_latency": f"{claimed.baseline_latency_s:.1f}",
        "table_baseline_latency": f"{again['table_baseline_latency_s']:.1f}",
        "claimed_speedup": percent(claimed.speedup), "speedup_own": percent(again["speedup_vs_table_baseline"]),
        "claimed_success": percent(claimed.success), "claimed_baseline_success": percent(claimed.baseline_success),
        "tier_free": dollars(tiers["free"]), "tier_premium": dollars(tiers["premium"]),
        "tier_enterprise": dollars(tiers["enterprise"]),
        "long_chars": f"{book.LONG_CHARS:,}", "short_chars": book.SHORT_CHARS,
        "contract_chars": f"{contract_chars:,}", "contract_tokens": f"{contract_tokens:,}",
        "report_chars": f"{report_chars:,}", "report_tokens": f"{report_tokens:,}",
        "simple_keywords": book.SIMPLE_KEYWORDS, "complex_keywords": book.COMPLEX_KEYWORDS,
        "code_keywords": book.CODE_KEYWORDS,
        "length_limit": policies.LENGTH_LIMIT, "answer_budget": f"{ANSWER_BUDGET:,}",
    }


@register.simple_tag
def routing_models() -> list[dict[str, Any]]:
    """One row per model: today's prices, window and speed, and the chapter's figures."""
    rows = []
    for name in MODELS:
        spec = profile(name)
        chapter = book.MODELS[name]
        rows.append({
            "name": name,
            "price_in_1k": _price(spec.price_in_per_1m / 1000), "price_out_1k": _price(spec.price_out_per_1m / 1000),
            "book_price_1k": book.dollars(chapter["cost_per_1k_tokens"]),
            "price_in_1m": f"{spec.price_in_per_1m:.2f}", "price_out_1m": f"{spec.price_out_per_1m:.2f}",
            "window": f"{spec.context_window:,}", "book_window": f"{chapter['max_tokens']:,}",
            "ttft": f"{spec.ttft_s:.2f}", "speed": f"{spec.tokens_per_s:.0f}",
            "quality_easy": book.percent(spec.quality_easy), "quality_hard": book.percent(spec.quality_hard),
        })
    return rows


@register.simple_tag
def routing_table() -> list[dict[str, Any]]:
    """Our policy table: one row per priority, the model for each class."""
    return [{"priority": priority_label(priority), **row} for priority, row in policies.IMPROVED_TABLE.items()]


@register.simple_tag
def routing_source(name: str) -> str:
    """The source of the functions named by ``name`` (see SOURCES), as the simulation runs them."""
    try:
        functions = SOURCES[name]
    except KeyError:
        raise template.TemplateSyntaxError(_("unknown source %(name)s") % {"name": name}) from None
    return "\n\n".join(inspect.getsource(f).rstrip() for f in functions)
