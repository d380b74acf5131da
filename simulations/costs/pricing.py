"""Prices per model, input and output apart, and money kept exact.

A provider bills input (prompt) and output (completion) tokens at different prices,
quoted in USD per one million tokens.  Costs are added up as exact fractions and
rounded once, to a millionth of a dollar, where they are reported: the savings of
the waterfall then add up to the difference of its ends to the last digit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from ..profiles import TOKENS_PER_PRICE_UNIT, profile

LARGE = "gpt-4o"  # the model every request goes to before optimisation
SMALL = "gpt-4o-mini"  # where routing sends simple requests, and the fallback
MODELS = (LARGE, SMALL)
MICROS_PER_USD = 1_000_000  # money is reported to a millionth of a dollar


@dataclass(frozen=True)
class Price:
    """USD per 1M input tokens and per 1M output tokens."""

    input_per_1m: float
    output_per_1m: float

    def cost(self, input_tokens: int, output_tokens: int) -> Fraction:
        """The exact cost of one call, in USD."""
        return (_exact(self.input_per_1m) * input_tokens
                + _exact(self.output_per_1m) * output_tokens) / TOKENS_PER_PRICE_UNIT


@dataclass(frozen=True)
class PriceTable:
    """The price of each model the lab uses; any model missing is priced at its list price."""

    prices: tuple[tuple[str, Price], ...]

    def __getitem__(self, model: str) -> Price:
        for name, price in self.prices:
            if name == model:
                return price
        return list_price(model)

    def cost(self, model: str, input_tokens: int, output_tokens: int) -> Fraction:
        return self[model].cost(input_tokens, output_tokens)

    def as_rows(self) -> list[dict[str, float | str]]:
        return [{"model": name, "input_per_1m": p.input_per_1m, "output_per_1m": p.output_per_1m}
                for name, p in self.prices]


def list_price(model: str) -> Price:
    """Today's list price of ``model`` (simulations.profiles)."""
    spec = profile(model)
    return Price(spec.price_in_per_1m, spec.price_out_per_1m)


def book_price(model: str) -> Price:
    """The chapter's one figure per model, applied to input and output alike, as it does."""
    spec = profile(model)
    if spec.book_price_per_1m is None:
        return list_price(model)
    return Price(spec.book_price_per_1m, spec.book_price_per_1m)


def table(large_in: float, large_out: float, small_in: float, small_out: float) -> PriceTable:
    return PriceTable(((LARGE, Price(large_in, large_out)), (SMALL, Price(small_in, small_out))))


def list_table() -> PriceTable:
    return PriceTable(tuple((m, list_price(m)) for m in MODELS))


def book_table() -> PriceTable:
    return PriceTable(tuple((m, book_price(m)) for m in MODELS))


def usd(amount: Fraction) -> Decimal:
    """``amount`` rounded to a millionth of a dollar (half to even), exactly."""
    return Decimal(round(amount * MICROS_PER_USD)).scaleb(-6)


@lru_cache(maxsize=256)
def _exact(price: float) -> Fraction:
    # The price as the learner typed it (2.5, 0.15), not its nearest binary float.
    return Fraction(repr(price))
