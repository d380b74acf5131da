"""Figures and code for the cost and monitoring lessons, taken from the simulation, never typed into the prose.

``{% cost_book as book %}`` gives the chapter's claims and the same figures
recomputed; ``{% token_samples as samples %}`` the sample sentences counted in
both encodings; ``{% token_box "text" %}`` the "count my text" box, counted;
``{% cost_source "tracker" %}`` the source of what the simulation runs.
"""

from __future__ import annotations

import inspect
import textwrap
from typing import Any

from django import template
from django.template.loader import render_to_string

from simulations.costs import book, budget, compression, levers, metrics, tracker
from simulations.costs.pricing import LARGE, SMALL, book_price, list_price
from simulations.costs.tokencount import MAX_CHARS, compare_samples
from simulations.mock_llm import COMPRESSION_QUALITY_LOSS
from simulations.profiles import profile
from simulations.tokens import count_tokens

from ..token_tool import box

register = template.Library()

SOURCES = {
    "tracker": (tracker.CostTracker,),
    "pipeline": (levers.RoutingRule, levers.build_pipeline),
    "compress": (compression.compress,),
    "budget": (budget.BudgetStore.reserve, budget.BudgetStore.settle, budget.reserved_request),
    "histogram-quantile": (metrics.histogram_quantile,),
}
SCRIPTS = {"reserve": budget.RESERVE, "settle": budget.SETTLE}
KEEP_LOW = 0.2  # a heavy compression, for comparison
# The first thinking question: a prompt-heavy call on gpt-4o, per million calls.
PREDICT_INPUT, PREDICT_OUTPUT, PREDICT_CAP = 1_500, 100, 50
PROMETHEUS_DEFAULT_TOP_BUCKET_S = 10.0  # prometheus_client's Histogram.DEFAULT_BUCKETS ends at 10 s before +Inf


def _money(value: float, digits: int = 2) -> str:
    return f"${value:,.{digits}f}"


def _short(value: float) -> str:
    """A price as the chapter writes it: no trailing zeros ($2.5 is $2.50, $0.15)."""
    return f"${value:.2f}"


def _pct(value: float, digits: int = 1) -> str:
    return f"{value * 100:.{digits}f}%"


@register.simple_tag
def cost_book() -> dict[str, Any]:
    costs = book.callback_costs()
    ratio = profile(SMALL).book_price_per_1m / profile(LARGE).book_price_per_1m
    today = book.metrics_callback_today()
    flat = book.METRICS_CLAIMED["tokens"] * book.FLAT_PRICE_PER_1K / 1000
    kept = book.COMPRESSION_RATE
    return {
        "large": LARGE, "small": SMALL,
        "large_in": _short(list_price(LARGE).input_per_1m), "large_out": _short(list_price(LARGE).output_per_1m),
        "small_in": _short(list_price(SMALL).input_per_1m), "small_out": _short(list_price(SMALL).output_per_1m),
        "large_book": _short(book_price(LARGE).input_per_1m), "small_book": _short(book_price(SMALL).input_per_1m),
        "price_ratio": _pct(ratio), "output_factor": f"{list_price(LARGE).output_per_1m / list_price(LARGE).input_per_1m:.0f}",
        "routed_share": _pct(book.ROUTED_SHARE, 0), "claimed_saving": _pct(book.CLAIMED_SAVING, 0),
        "saving": _pct(book.book_routing_saving()), "share_needed": _pct(book.share_needed(book.CLAIMED_SAVING)),
        "length_limit": book.LENGTH_LIMIT_CHARS,
        "tiktoken_text": book.TIKTOKEN_TEXT, "tiktoken_claimed": book.TIKTOKEN_CLAIMED, "tiktoken": book.tiktoken_count(),
        "callback_prompt": book.CALLBACK_PROMPT, "callback_tokens": book.callback_prompt_tokens(),
        "claimed_prompt": book.CALLBACK_CLAIMED["prompt"], "claimed_completion": book.CALLBACK_CLAIMED["completion"],
        "claimed_total": book.CALLBACK_CLAIMED["total"], "claimed_cost": "$" + book.CALLBACK_CLAIMED["cost_usd"],
        "callback_cost_large": f"${float(costs[LARGE]):.5f}", "callback_cost_large_printed": f"${float(costs[LARGE]):.4f}",
        "callback_cost_small": f"${float(costs[SMALL]):.7f}", "callback_cost_small_printed": f"${float(costs[SMALL]):.4f}",
        "flat_price_1k": f"${book.FLAT_PRICE_PER_1K:.3f}", "flat_cost": f"${flat:.5f}",
        "metrics_tokens": book.METRICS_CLAIMED["tokens"], "today_cost": f"${float(today):.7f}",
        "flat_over_today": f"{flat / float(today):.1f}",
        "case_before": _money(book.CASE_BEFORE.cost_per_day_usd, 0), "case_after": _money(book.CASE_AFTER.cost_per_day_usd, 0),
        "case_estimate": _money(book.case_study_cost_estimate()),
        "case_estimate_saving": _pct(1 - book.case_study_cost_estimate() / book.CASE_BEFORE.cost_per_day_usd),
        "case_claimed_saving": _pct(1 - book.CASE_AFTER.cost_per_day_usd / book.CASE_BEFORE.cost_per_day_usd, 0),
        "case_hit_rate": _pct(book.CASE_CACHE_HIT_RATE, 0), "case_routed": _pct(book.CASE_ROUTED_SHARE, 0),
        "case_batch": book.CASE_BATCH, "case_concurrency": book.CASE_CONCURRENCY,
        "case_qps_before": f"{book.CASE_BEFORE.qps:.0f}", "case_qps_after": f"{book.CASE_AFTER.qps:.0f}",
        "case_p95_before": f"{book.CASE_BEFORE.p95_latency_ms / 1000:.1f}", "case_p95_after": f"{book.CASE_AFTER.p95_latency_ms / 1000:.1f}",
        "case_availability_before": _pct(book.CASE_BEFORE.availability, 1),
        "case_availability_after": _pct(book.CASE_AFTER.availability, 2),
        "case_unavailable_before": _pct(1 - book.CASE_BEFORE.availability, 1),
        "case_unavailable_after": _pct(1 - book.CASE_AFTER.availability, 2),
        "compression_rate": _pct(kept, 0), "quality_loss": f"{COMPRESSION_QUALITY_LOSS:g}",
        "quality_at_rate": _pct(1 - COMPRESSION_QUALITY_LOSS * (1 - kept) ** 2, 0),
        "quality_at_20": _pct(1 - COMPRESSION_QUALITY_LOSS * (1 - KEEP_LOW) ** 2, 0),
        "max_chars": f"{MAX_CHARS:,}", "cache_lookup_ms": f"{levers.CACHE_LOOKUP_S * 1000:g}",
        "top_bucket": f"{metrics.LATENCY_BUCKETS[-1]:g}", "default_top_bucket": f"{PROMETHEUS_DEFAULT_TOP_BUCKET_S:g}",
        "alert_thresholds": ", ".join(_pct(t, 0) for t in budget.ALERT_THRESHOLDS),
        "large_max_output": f"{profile(LARGE).max_output_tokens:,}",
        "callback_text_tokens": count_tokens(book.CALLBACK_PROMPT, profile(SMALL).encoding),
        "keep_low": _pct(KEEP_LOW, 0),
        **_predict_prompt_or_answer(),
        "quality_hard_large": _pct(profile(LARGE).quality_hard, 0), "quality_hard_small": _pct(profile(SMALL).quality_hard, 0),
        "quality_easy_large": _pct(profile(LARGE).quality_easy, 0), "quality_easy_small": _pct(profile(SMALL).quality_easy, 0),
    }


def _predict_prompt_or_answer() -> dict[str, str]:
    # tokens per call x USD per 1M tokens = USD per 1M calls
    price = list_price(LARGE)
    input_cost = PREDICT_INPUT * price.input_per_1m
    output_cost = PREDICT_OUTPUT * price.output_per_1m
    capped = PREDICT_CAP * price.output_per_1m
    return {"p_in_tokens": f"{PREDICT_INPUT:,}", "p_out_tokens": f"{PREDICT_OUTPUT:,}", "p_cap": PREDICT_CAP,
            "p_in_cost": _money(input_cost, 0), "p_out_cost": _money(output_cost, 0),
            "p_half_saves": _money(input_cost / 2, 0), "p_cap_saves": _money(output_cost - capped, 0)}


@register.simple_tag
def token_samples() -> list[dict[str, Any]]:
    rows = compare_samples()
    for row in rows:
        row["per_char"] = f"{row['o200k'] / row['chars']:.2f}"
    return rows


@register.simple_tag
def token_box(example: str = "") -> str:
    context, _status = box({"text": example})
    return render_to_string("lab/tools/tokens_box.html#tokens-box", {"box": context})


@register.simple_tag
def cost_source(name: str) -> str:
    try:
        functions = SOURCES[name]
    except KeyError:
        raise template.TemplateSyntaxError(f"unknown source {name}") from None
    return "\n\n".join(textwrap.dedent(inspect.getsource(f)).rstrip() for f in functions)


@register.simple_tag
def cost_script(name: str) -> str:
    return SCRIPTS[name].strip()
