"""Model profiles: what a call costs, how long it takes, how often it fails, how often it is right.

Prices are the providers' public list prices in USD per one million tokens.  Speed,
error and quality figures are illustrative round numbers of the right order of
magnitude (typical public measurements), not a benchmark: real latency varies by
region, load and prompt, which is what ``latency_spread`` stands for.

Where a chapter quotes a different price, ``book_price_per_1m`` holds the chapter's
figure (converted to per 1M tokens) and ``book_ref`` says where it is, so a lesson
can show both side by side.  The chapters quote one price per model where the
providers charge separately for input and output tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

TOKENS_PER_PRICE_UNIT = 1_000_000


@dataclass(frozen=True)
class ModelProfile:
    name: str
    provider: str
    price_in_per_1m: float  # USD per 1M input (prompt) tokens
    price_out_per_1m: float  # USD per 1M output (completion) tokens
    ttft_s: float  # median time to first token, seconds
    tokens_per_s: float  # output speed once tokens flow
    latency_spread: float  # sigma of the lognormal multiplier on time to first token
    context_window: int  # input + output tokens the model accepts
    max_output_tokens: int
    server_error_rate: float  # share of calls that fail with HTTP 500
    timeout_rate: float  # share of calls that hang until the client gives up
    quality_easy: float  # P(correct answer) for a task of complexity 0
    quality_hard: float  # P(correct answer) for a task of complexity 1
    encoding: str  # tokenizer used to count tokens (see tokens.py)
    book_price_per_1m: float | None = None
    book_ref: str = ""

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """USD for one call with these token counts."""
        return (
            input_tokens * self.price_in_per_1m + output_tokens * self.price_out_per_1m
        ) / TOKENS_PER_PRICE_UNIT

    def p_correct(self, complexity: float) -> float:
        """Probability of a correct answer; quality falls linearly from easy to hard tasks."""
        clamped = min(1.0, max(0.0, complexity))
        return self.quality_easy + (self.quality_hard - self.quality_easy) * clamped


def _profiles(*profiles: ModelProfile) -> dict[str, ModelProfile]:
    return {p.name: p for p in profiles}


PROFILES: dict[str, ModelProfile] = _profiles(
    # Chapter 30 (30.4.2) says "$2.50/1M tokens": that is the input price only;
    # output tokens cost four times as much.
    ModelProfile(
        name="gpt-4o", provider="openai",
        price_in_per_1m=2.50, price_out_per_1m=10.00,
        ttft_s=0.45, tokens_per_s=90.0, latency_spread=0.35,
        context_window=128_000, max_output_tokens=16_384,
        server_error_rate=0.003, timeout_rate=0.001,
        quality_easy=0.97, quality_hard=0.80, encoding="o200k_base",
        book_price_per_1m=2.50, book_ref="30.4.2",
    ),
    # Chapter 30 (30.4.2) says "$0.15/1M tokens": again the input price only.
    ModelProfile(
        name="gpt-4o-mini", provider="openai",
        price_in_per_1m=0.15, price_out_per_1m=0.60,
        ttft_s=0.40, tokens_per_s=85.0, latency_spread=0.35,
        context_window=128_000, max_output_tokens=16_384,
        server_error_rate=0.003, timeout_rate=0.001,
        quality_easy=0.95, quality_hard=0.55, encoding="o200k_base",
        book_price_per_1m=0.15, book_ref="30.4.2",
    ),
    # Chapter 32 (32.5.1) gives "$0.03/1K" (the input price) and a 128,000-token
    # limit; 128K is GPT-4 Turbo's context, the original GPT-4 has 8,192.
    ModelProfile(
        name="gpt-4", provider="openai",
        price_in_per_1m=30.00, price_out_per_1m=60.00,
        ttft_s=0.70, tokens_per_s=25.0, latency_spread=0.40,
        context_window=8_192, max_output_tokens=8_192,
        server_error_rate=0.005, timeout_rate=0.002,
        quality_easy=0.96, quality_hard=0.75, encoding="cl100k_base",
        book_price_per_1m=30.00, book_ref="32.5.1",
    ),
    # Chapter 32 (32.5.1) gives "$0.002/1K" ($2/1M), the 2023 price; the current
    # gpt-3.5-turbo (0125) lists $0.50 in / $1.50 out.  30.7.2's metrics callback
    # assumes the same $0.002/1K for every token.
    ModelProfile(
        name="gpt-3.5-turbo", provider="openai",
        price_in_per_1m=0.50, price_out_per_1m=1.50,
        ttft_s=0.35, tokens_per_s=80.0, latency_spread=0.35,
        context_window=16_385, max_output_tokens=4_096,
        server_error_rate=0.004, timeout_rate=0.001,
        quality_easy=0.92, quality_hard=0.40, encoding="cl100k_base",
        book_price_per_1m=2.00, book_ref="32.5.1",
    ),
    # Chapter 32 (32.5.1) gives "$0.015/1K", the input price; output is $75/1M.
    # Anthropic's tokenizer is not public: cl100k_base is an approximation.
    ModelProfile(
        name="claude-3-opus", provider="anthropic",
        price_in_per_1m=15.00, price_out_per_1m=75.00,
        ttft_s=1.50, tokens_per_s=25.0, latency_spread=0.40,
        context_window=200_000, max_output_tokens=4_096,
        server_error_rate=0.006, timeout_rate=0.002,
        quality_easy=0.97, quality_hard=0.82, encoding="cl100k_base",
        book_price_per_1m=15.00, book_ref="32.5.1",
    ),
    # Not in the chapters: a cheap, fast fallback from a second provider.
    ModelProfile(
        name="claude-3-haiku", provider="anthropic",
        price_in_per_1m=0.25, price_out_per_1m=1.25,
        ttft_s=0.50, tokens_per_s=130.0, latency_spread=0.35,
        context_window=200_000, max_output_tokens=4_096,
        server_error_rate=0.004, timeout_rate=0.001,
        quality_easy=0.93, quality_hard=0.45, encoding="cl100k_base",
    ),
)


def profile(name: str) -> ModelProfile:
    """The profile called ``name``; ValueError naming the known ones otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(PROFILES)
        raise ValueError(f"unknown model {name!r} (known: {known})") from None
