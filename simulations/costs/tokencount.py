"""The "count my text" tool: a text's tokens under a model's encoding, offline.

The encodings are OpenAI's (o200k_base for the gpt-4o family, cl100k_base for
gpt-4 and gpt-3.5-turbo), bundled with ``bpe_openai``.  A chat request costs more
than the text's own tokens: each message is wrapped in a few formatting tokens and
the reply is primed with a few more (``simulations.tokens``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..profiles import profile
from ..text import gettext_noop
from ..tokens import count_chat_tokens, count_tokens, token_pieces
from .pricing import list_price

MAX_CHARS = 4000
MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4", "gpt-3.5-turbo")
DEFAULT_MODEL = "gpt-4o"
OTHER_ENCODING = {"o200k_base": "cl100k_base", "cl100k_base": "o200k_base"}

# The same request in two languages, for the lesson's comparison.
SAMPLES = (
    ("en", "Please summarise this support ticket in three sentences and suggest a reply."),
    ("zh-hans", "请用三句话总结这张工单，并给出回复建议。"),
    ("en", "Why was I charged twice this month?"),
    ("zh-hans", "为什么这个月扣了我两次费用？"),
)

MESSAGES = {
    "too_long": gettext_noop("at most %(max)s characters; this text has %(n)s"),
    "unknown_model": gettext_noop("must be one of %(models)s"),
}


class ToolError(ValueError):
    """A refused input: ``field`` names it, ``template`` and ``data`` say why."""

    def __init__(self, field: str, code: str, **data: Any) -> None:
        self.field = field
        self.template = MESSAGES[code]
        self.data = data
        super().__init__(f"{field}: {self.template % data}")


@dataclass(frozen=True)
class Segment:
    text: str
    tokens: int  # more than 1 when several tokens make up one character


@dataclass(frozen=True)
class TokenReport:
    text: str
    model: str
    encoding: str
    segments: tuple[Segment, ...]
    tokens: int
    chat_tokens: int  # the text sent as one user message
    other_encoding: str
    other_tokens: int

    @property
    def chars(self) -> int:
        return len(self.text)

    @property
    def tokens_per_char(self) -> float:
        return self.tokens / self.chars if self.chars else 0.0

    @property
    def input_cost(self) -> Fraction:
        """What the chat request's prompt costs at the model's list input price."""
        return list_price(self.model).cost(self.chat_tokens, 0)


def parse(query: Mapping[str, Any]) -> tuple[str, str]:
    """(text, model) from a query; ToolError for a text over MAX_CHARS or an unknown model."""
    text = str(query.get("text", "") or "")
    model = str(query.get("model", "") or DEFAULT_MODEL)
    if model not in MODELS:
        raise ToolError("model", "unknown_model", models=", ".join(MODELS))
    if len(text) > MAX_CHARS:
        raise ToolError("text", "too_long", max=f"{MAX_CHARS:,}", n=f"{len(text):,}")
    return text, model


def count(text: str, model: str) -> TokenReport:
    encoding = profile(model).encoding
    pieces = token_pieces(text, encoding)
    other = OTHER_ENCODING[encoding]
    return TokenReport(text, model, encoding, _segments(pieces), len(pieces),
                       count_chat_tokens([text], encoding), other, count_tokens(text, other))


def _segments(pieces: tuple[str, ...]) -> tuple[Segment, ...]:
    """Pieces for display: a token that ends inside a character joins the piece that completes it."""
    out: list[Segment] = []
    pending = 0
    for piece in pieces:
        pending += 1
        if piece:
            out.append(Segment(piece, pending))
            pending = 0
    if pending:
        out.append(Segment("", pending))
    return tuple(out)


def compare_samples() -> list[dict[str, Any]]:
    """Characters and tokens of the sample sentences in both encodings."""
    rows = []
    for lang, text in SAMPLES:
        rows.append({"lang": lang, "text": text, "chars": len(text),
                     "o200k": count_tokens(text, "o200k_base"), "cl100k": count_tokens(text, "cl100k_base")})
    return rows
