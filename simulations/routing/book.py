"""The chapter's router (32.5.1), reproduced exactly, and its arithmetic, recomputed.

``classify_task`` and ``select_model`` follow the chapter's code line for line:
the same keyword lists, the same order of checks, the same substring tests on
``prompt.lower()``, the same character counts.  Their failures are therefore the
chapter's: a keyword found inside another word ("code" in "decode", "define" in
"undefined"), prompts in Chinese that match no keyword at all, and a length rule
that counts characters, not tokens.  :func:`explain` says which check fired and
where, so a learner can see why.

The chapter's "expected results" are kept as constants (``CLAIMED``) beside the
figures it quotes as inputs (its mix, its per-request prices, its latency
table), and :func:`recompute` redoes its arithmetic from those inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from ..component import Note, note
from ..text import gettext_noop


class TaskComplexity(Enum):
    SIMPLE = "simple"
    MEDIUM = "medium"
    COMPLEX = "complex"
    SPECIALIZED = "specialized"


# The chapter's ``ModelRouter.models``: one price per 1K tokens, a "max_tokens"
# that is really the context window, an average latency in seconds.
MODELS: dict[str, dict[str, Any]] = {
    "gpt-3.5-turbo": {"cost_per_1k_tokens": 0.002, "max_tokens": 16000, "avg_latency": 1.5,
                      "strengths": ["speed", "cost"]},
    "gpt-4": {"cost_per_1k_tokens": 0.03, "max_tokens": 128000, "avg_latency": 3.0,
              "strengths": ["reasoning", "accuracy"]},
    "claude-3-opus": {"cost_per_1k_tokens": 0.015, "max_tokens": 200000, "avg_latency": 2.5,
                      "strengths": ["coding", "long_context"]},
}

SIMPLE_KEYWORDS = ["what is", "define", "translate", "summarize"]
COMPLEX_KEYWORDS = ["analyze", "compare", "evaluate", "critique"]
CODE_KEYWORDS = ["code", "function", "algorithm", "debug", "implement"]
LONG_CHARS = 10000  # "context > 10K tokens" in the docstring; characters in the code
SHORT_CHARS = 100


def classify_task(prompt: str, context: str = "") -> TaskComplexity:
    """The chapter's ``ModelRouter.classify_task``, unchanged."""
    prompt_lower = prompt.lower()
    total_length = len(prompt) + len(context)

    if any(kw in prompt_lower for kw in CODE_KEYWORDS):
        return TaskComplexity.SPECIALIZED

    if total_length > LONG_CHARS or any(kw in prompt_lower for kw in COMPLEX_KEYWORDS):
        return TaskComplexity.COMPLEX

    if len(prompt) < SHORT_CHARS and any(kw in prompt_lower for kw in SIMPLE_KEYWORDS):
        return TaskComplexity.SIMPLE

    return TaskComplexity.MEDIUM


def select_model(prompt: str, context: str = "", user_tier: str = "free",
                 priority: str = "balanced") -> str:
    """The chapter's ``ModelRouter.select_model``: classify, then its branches (it never looks at a context window)."""
    complexity = classify_task(prompt, context)
    return select_for_class(complexity, user_tier, priority)


def select_for_class(complexity: TaskComplexity, user_tier: str, priority: str) -> str:
    """The branches of the chapter's ``select_model`` after ``classify_task``, unchanged."""
    if user_tier == "free":
        return "gpt-3.5-turbo"

    if complexity == TaskComplexity.SIMPLE:
        return "gpt-3.5-turbo"

    elif complexity == TaskComplexity.SPECIALIZED:
        return "claude-3-opus"

    elif complexity == TaskComplexity.COMPLEX:
        if priority == "cost":
            return "gpt-3.5-turbo"
        elif priority == "quality":
            return "gpt-4"
        else:  # the chapter's comment says "balanced"; "speed" lands here too
            return "gpt-4" if user_tier == "enterprise" else "gpt-3.5-turbo"

    else:  # MEDIUM
        if priority == "speed":
            return "gpt-3.5-turbo"
        else:
            return "gpt-4"


def estimate_cost(response_text: str, model: str) -> tuple[int, float]:
    """The chapter's cost estimate in ``route_request``: words of the answer times one price.

    It counts whitespace-separated words (not tokens) of the reply only (not the
    prompt or the context), at one price for input and output.  A Chinese reply
    has no spaces, so a whole paragraph counts as one "token".
    """
    token_count = len(response_text.split())  # the chapter's "simplified estimate"
    cost = token_count / 1000 * MODELS[model]["cost_per_1k_tokens"]
    return token_count, cost


# -- why it decided what it decided ---------------------------------------------------

RULE_TEXTS = {
    "book_code_keyword": gettext_noop(
        "Code keyword “%(keyword)s” found in “%(word)s”: SPECIALIZED (checked first)."),
    "book_long": gettext_noop(
        "Prompt and context are %(chars)s characters, over %(limit)s (characters, not tokens): COMPLEX."),
    "book_complex_keyword": gettext_noop("Keyword “%(keyword)s” found in “%(word)s”: COMPLEX."),
    "book_simple_keyword": gettext_noop(
        "Under %(limit)s characters and keyword “%(keyword)s” found in “%(word)s”: SIMPLE."),
    "book_medium": gettext_noop("No keyword matched: MEDIUM, the default."),
    "book_free": gettext_noop("Free tier: always %(model)s, whatever the task."),
    "book_simple": gettext_noop("SIMPLE: %(model)s."),
    "book_specialized": gettext_noop("SPECIALIZED: %(model)s."),
    "book_complex_cost": gettext_noop("COMPLEX with priority cost: %(model)s."),
    "book_complex_quality": gettext_noop("COMPLEX with priority quality: %(model)s."),
    "book_complex_enterprise": gettext_noop("COMPLEX, priority %(priority)s, enterprise tier: %(model)s."),
    "book_complex_other": gettext_noop(
        "COMPLEX, priority %(priority)s, %(tier)s tier: %(model)s, a weaker model than a MEDIUM task gets."),
    "book_medium_speed": gettext_noop("MEDIUM with priority speed: %(model)s."),
    "book_medium_other": gettext_noop("MEDIUM: %(model)s."),
}


@dataclass(frozen=True)
class Check:
    """The check of ``classify_task`` that decided a prompt's class, and the keyword it found where."""

    rule: str  # a key of RULE_TEXTS
    keyword: str = ""
    at: int = -1  # where the keyword starts in the prompt


def deciding_check(prompt: str, context: str = "") -> Check:
    """Which of ``classify_task``'s checks fired, in the code's own order (``any()`` stops at the first keyword)."""
    lower = prompt.lower()

    def first(keywords: list[str]) -> tuple[str, int] | None:
        for keyword in keywords:
            if keyword in lower:
                return keyword, lower.find(keyword)
        return None

    if hit := first(CODE_KEYWORDS):
        return Check("book_code_keyword", *hit)
    if len(prompt) + len(context) > LONG_CHARS:
        return Check("book_long")
    if hit := first(COMPLEX_KEYWORDS):
        return Check("book_complex_keyword", *hit)
    if len(prompt) < SHORT_CHARS and (hit := first(SIMPLE_KEYWORDS)):
        return Check("book_simple_keyword", *hit)
    return Check("book_medium")


def _word_around(text: str, start: int, length: int) -> str:
    """The match with its neighbouring word on each side (a few characters in Chinese), to show the context."""
    left = start
    for _ in range(2):  # back over the word the match is in, then over the one before
        while left > 0 and text[left - 1].isspace():
            left -= 1
        while left > 0 and not text[left - 1].isspace() and start - left < 12:
            left -= 1
    right = start + length
    for _ in range(2):
        while right < len(text) and text[right].isspace():
            right += 1
        while right < len(text) and not text[right].isspace() and right - start - length < 12:
            right += 1
    snippet = text[left:right].strip()
    return ("…" if left > 0 else "") + snippet + ("…" if right < len(text) else "")


def keyword_inside_a_word(prompt: str, context: str = "") -> bool:
    """Whether the keyword that decided the class was found inside a longer word ("define" in "undefined")."""
    check = deciding_check(prompt, context)
    if not check.keyword:
        return False
    lower = prompt.lower()
    end = check.at + len(check.keyword)
    before = lower[check.at - 1] if check.at > 0 else " "
    after = lower[end] if end < len(lower) else " "
    return before.isalnum() or after.isalnum()


def explain_class(prompt: str, context: str = "") -> Note:
    """Which of ``classify_task``'s checks fired, and on which word."""
    check = deciding_check(prompt, context)
    if check.keyword:
        limit = {"limit": SHORT_CHARS} if check.rule == "book_simple_keyword" else {}
        return note(RULE_TEXTS, check.rule, keyword=check.keyword,
                    word=_word_around(prompt, check.at, len(check.keyword)), **limit)
    if check.rule == "book_long":
        return note(RULE_TEXTS, "book_long", chars=f"{len(prompt) + len(context):,}", limit=f"{LONG_CHARS:,}")
    return note(RULE_TEXTS, check.rule)


def explain_selection(complexity: TaskComplexity, tier: str, priority: str) -> Note:
    """Which branch of ``select_model`` returned, naming the model it returned."""
    model = select_for_class(complexity, tier, priority)
    if tier == "free":
        rule = "book_free"
    elif complexity in (TaskComplexity.SIMPLE, TaskComplexity.SPECIALIZED):
        rule = f"book_{complexity.value}"
    elif complexity == TaskComplexity.COMPLEX:
        rule = {"cost": "book_complex_cost", "quality": "book_complex_quality"}.get(
            priority, "book_complex_enterprise" if tier == "enterprise" else "book_complex_other")
    else:
        rule = "book_medium_speed" if priority == "speed" else "book_medium_other"
    return note(RULE_TEXTS, rule, model=model, priority=priority, tier=tier)


# -- the chapter's "expected results", and its arithmetic redone -------------------------

# Its traffic mix and the per-request prices of its table ("$0.002/req", "$0.03/req").
MIX = {"simple": 0.6, "medium": 0.3, "complex": 0.1}
TABLE_MODEL = {"simple": "gpt-3.5-turbo", "medium": "gpt-4", "complex": "gpt-4"}
PRICE_PER_REQUEST = {name: spec["cost_per_1k_tokens"] for name, spec in MODELS.items()}
MONTHLY_REQUESTS = 1_000_000
BASELINE_MODEL = "gpt-4"


@dataclass(frozen=True)
class Claims:
    """What the chapter prints as its results."""

    baseline_cost: float = 0.05  # "Without Routing (All GPT-4): Average Cost: $0.05/request"
    baseline_latency_s: float = 3.2
    baseline_monthly: float = 50_000
    avg_cost: float = 0.011
    reduction: float = 0.78
    avg_latency_s: float = 2.1
    speedup: float = 0.34
    monthly: float = 11_000
    saving: float = 39_000
    success: float = 0.98
    baseline_success: float = 0.99


CLAIMED = Claims()


def dollars(value: float) -> str:
    """A dollar figure as the chapter writes it: $0.05, $0.011, $0.0132, $11,000."""
    return f"${value:,.0f}" if value >= 100 else "$" + f"{value:.4f}".rstrip("0").rstrip(".")


def percent(share: float, digits: int = 0) -> str:
    return f"{share * 100:.{digits}f}%"


def cost_sum() -> str:
    """Its average cost as a sum over its mix: "60% × $0.002 + 30% × $0.03 + 10% × $0.03"."""
    return " + ".join(f"{percent(share)} × {dollars(PRICE_PER_REQUEST[TABLE_MODEL[c]])}" for c, share in MIX.items())


def latency_sum() -> str:
    """Its average latency as a sum over the models of its table, in seconds: "60% × 1.5 + 40% × 3.0"."""
    shares: dict[str, float] = {}
    for c, share in MIX.items():
        shares[TABLE_MODEL[c]] = shares.get(TABLE_MODEL[c], 0.0) + share
    return " + ".join(f"{percent(share)} × {MODELS[m]['avg_latency']:.1f}" for m, share in shares.items())


def recompute() -> dict[str, float]:
    """The chapter's results recomputed from its own inputs (mix, per-request prices, latency table)."""
    avg_cost = sum(share * PRICE_PER_REQUEST[TABLE_MODEL[c]] for c, share in MIX.items())
    table_baseline_cost = PRICE_PER_REQUEST[BASELINE_MODEL]  # its own table's price for a GPT-4 request
    latency = sum(share * MODELS[TABLE_MODEL[c]]["avg_latency"] for c, share in MIX.items())
    table_baseline_latency = MODELS[BASELINE_MODEL]["avg_latency"]
    monthly = avg_cost * MONTHLY_REQUESTS
    return {
        "avg_cost": avg_cost,
        "reduction_vs_claimed_baseline": 1 - avg_cost / CLAIMED.baseline_cost,
        "table_baseline_cost": table_baseline_cost,
        "reduction_vs_table_baseline": 1 - avg_cost / table_baseline_cost,
        "monthly": monthly,
        "saving_vs_claimed_baseline": CLAIMED.baseline_monthly - monthly,
        "table_baseline_monthly": table_baseline_cost * MONTHLY_REQUESTS,
        "saving_vs_table_baseline": table_baseline_cost * MONTHLY_REQUESTS - monthly,
        "avg_latency_s": latency,
        "table_baseline_latency_s": table_baseline_latency,
        "speedup_vs_claimed_baseline": 1 - latency / CLAIMED.baseline_latency_s,
        "speedup_vs_table_baseline": 1 - latency / table_baseline_latency,
        # $0.05 at $0.03 per 1K tokens is a request of about 1,667 tokens; the routed
        # prices ($0.002, $0.03 "per request") are 1,000 tokens each.
        "baseline_tokens_implied": CLAIMED.baseline_cost / PRICE_PER_REQUEST[BASELINE_MODEL] * 1000,
    }


def code_cost_by_tier(priority: str = "balanced") -> dict[str, float]:
    """Average per-request price if its own ``select_model`` routed its mix (classified perfectly), per tier."""
    return {tier: sum(share * PRICE_PER_REQUEST[select_for_class(TaskComplexity(c), tier, priority)]
                      for c, share in MIX.items())
            for tier in ("free", "premium", "enterprise")}
