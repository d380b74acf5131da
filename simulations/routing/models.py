"""The models a router chooses from, and whether a request fits a model's context window.

The catalogue is the chapter's three models, with today's list prices, context
windows and speeds from :mod:`simulations.profiles`.  Each has a role: the
cheap, fast *weak* model, the *strong* model everything goes to without routing,
and a *specialist* with a long context window.
"""

from __future__ import annotations

from ..profiles import profile

WEAK = "gpt-3.5-turbo"
STRONG = "gpt-4"
SPECIALIST = "claude-3-opus"
MODELS: tuple[str, ...] = (WEAK, STRONG, SPECIALIST)

# Every call asks for at most this many answer tokens (max_tokens), so a request
# fits a model when its prompt leaves this much room in the context window.
ANSWER_BUDGET = 1024


def room_needed(input_tokens: int) -> int:
    return input_tokens + ANSWER_BUDGET


def fits(model: str, input_tokens: int) -> bool:
    """Whether a prompt of ``input_tokens`` leaves room for the answer in ``model``'s window."""
    return room_needed(input_tokens) <= profile(model).context_window


def capability(model: str) -> float:
    """How good a model is on hard tasks (its quality at complexity 1): the order for fallbacks."""
    return profile(model).quality_hard
