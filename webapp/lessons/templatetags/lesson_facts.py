"""Figures a lesson's prose quotes, taken from the simulations rather than typed.

``{% load lesson_facts %}`` in a lesson body, then for example::

    {% example_pairs "capital-france" "enable-2fa/disable-2fa" as pairs %}
    {% pair_score "enable-2fa/disable-2fa" "hashed" %}            → 0.822
    {% near_misses_at_least 0.95 "minilm" %}                       → 3
    {% chapter_32_3 as book %}{{ book.mean_floor_ms|floatformat:0 }} → 200

Pairs are named by :func:`simulations.caching.threshold.pair_key`; an unknown name
fails the page loudly rather than printing nothing.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django import template

from simulations.caching import book, threshold

register = template.Library()

EMBEDDINGS = ("hashed", "minilm")


@cache
def _pairs() -> dict[str, dict[str, Any]]:
    return threshold.reference_pairs()


def _pair(key: str) -> dict[str, Any]:
    try:
        return _pairs()[key]
    except KeyError:
        raise template.TemplateSyntaxError(f"no example pair {key!r}; known: {', '.join(_pairs())}") from None


def _embedding(name: str) -> str:
    if name not in EMBEDDINGS:
        raise template.TemplateSyntaxError(f"embedding must be one of {EMBEDDINGS}, not {name!r}")
    return name


@register.simple_tag
def example_pairs(*keys: str) -> list[dict[str, Any]]:
    """The named example pairs, in this order, each with its ``hashed`` and ``minilm`` scores."""
    return [_pair(key) for key in keys]


@register.simple_tag
def pair_score(key: str, embedding: str, digits: int = 3) -> str:
    """One pair's cosine similarity under ``embedding`` ("hashed" or "minilm"), as printed."""
    return f"{_pair(key)[_embedding(embedding)]:.{digits}f}"


@register.simple_tag
def near_miss_count() -> int:
    """How many near-miss pairs (alike in words, different in meaning) the simulator knows."""
    return sum(pair["kind"] == "near_miss" for pair in _pairs().values())


@register.simple_tag
def near_misses_at_least(threshold_value: float, embedding: str) -> int:
    """How many near-miss pairs score ``threshold_value`` or more under ``embedding``: wrong hits."""
    name = _embedding(embedding)
    return sum(pair["kind"] == "near_miss" and pair[name] >= threshold_value for pair in _pairs().values())


@register.simple_tag
def chapter_32_3() -> dict[str, float]:
    """The chapter's multi-level cache figures (32.3.1) and what follows from them."""
    return book.figures_32_3()
