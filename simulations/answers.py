"""What the mock model says: a fixed reply per (intent, model).

A catalogue question's reply opens with its intent's reference answer; any other
question's reply restates it, so two intents never share a reply and a cached
answer served to the wrong question is visible.  Replies are padded with neutral
sentences to a length that grows with the question's complexity.

These are pure functions, memoised: the same questions come back thousands of
times per run.
"""

from __future__ import annotations

import random
import zlib
from functools import lru_cache

from . import intents
from .tokens import count_tokens, token_pieces

UNKNOWN_INTENT_COMPLEXITY = 0.5
SUBJECT_CHARS = 60  # how much of an unknown question its reply restates


@lru_cache(maxsize=65_536)
def intent(question: str) -> tuple[str, str, float]:
    """(intent id, lead, complexity) of a question.

    The lead opens the reply: a catalogue intent's answer, else a restatement of
    the normalized question, so two intents never share a reply.
    """
    intent_id = intents.intent_of(question)
    try:
        known = intents.get(intent_id)
    except KeyError:
        subject = intents.normalize(question)
        if len(subject) > SUBJECT_CHARS:
            subject = subject[:SUBJECT_CHARS - 3] + "..."
        return intent_id, f'About "{subject}":', UNKNOWN_INTENT_COMPLEXITY
    lead = known.answer if known.answer.endswith((".", "!", "?")) else known.answer + "."
    return intent_id, lead, known.complexity


# Neutral follow-up sentences that pad a reply to its intended length.
_FOLLOW_UPS = (
    "That is the short answer; the details depend on your setup.",
    "If anything is unclear, ask and I will go into more detail.",
    "Here is a bit more context in case it helps.",
    "This covers the common cases.",
    "There are a few edge cases, but they rarely matter in practice.",
    "It is worth checking the official documentation for the latest details.",
    "A quick test with your own data will confirm it.",
    "The same idea applies in most similar situations.",
    "Keep in mind that behaviour can change between versions.",
    "First, make sure the basics are in place.",
    "Then change one thing at a time and check the result.",
    "Finally, write down what worked so it is easy to repeat.",
    "Some of this depends on your account settings.",
    "An example usually makes the idea much clearer.",
    "Measure before and after, so you know the change helped.",
    "If it fails, wait a moment and try again.",
    "I hope this helps.",
)


def _answer_length(intent_id: str, complexity: float) -> int:
    """Target reply length in tokens: longer for harder questions, with a fixed jitter per intent."""
    jitter = zlib.crc32(intent_id.encode()) % 41 - 20
    return max(8, round(24 + 150 * complexity) + jitter)


@lru_cache(maxsize=65_536)
def reply_tokens(intent_id: str, lead: str, complexity: float, model: str,
                 encoding: str) -> tuple[str, ...]:
    """The reply's tokens, fixed per (intent, model): the lead, then whole sentences to the length."""
    order = random.Random(f"{intent_id}|{model}").sample(_FOLLOW_UPS, len(_FOLLOW_UPS))
    target = _answer_length(intent_id, complexity)
    parts = [lead]
    tokens = count_tokens(lead, encoding)
    while tokens < target:
        sentence = order[(len(parts) - 1) % len(order)]
        parts.append(sentence)
        tokens += count_tokens(" " + sentence, encoding)
    return token_pieces(" ".join(parts), encoding)
