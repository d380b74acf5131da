"""Prompt compression of our own: fewer context tokens, chosen by relevance to the question.

Two steps, cheapest loss first:

1. drop filler words (articles, "please", "very", ...) from every sentence: a few
   per cent of the tokens, almost no meaning;
2. keep whole sentences, most relevant first, until the token budget
   (``keep`` times the original count) is spent.  A sentence's relevance is the
   number of the question's content words it shares; a sentence holding one of
   the ``force`` words always goes first (LLMLingua-2 calls them force tokens).
   Ties keep the retriever's order.  The kept sentences stay in their original order.

Only the context is compressed: the instructions and the question are the parts a
model is most sensitive to, and they are short.  The compressed message says what
share of its tokens it kept (``mock_llm.COMPRESSION_KEPT``), which is what the mock
model's quality penalty reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from langchain_core.messages import BaseMessage, SystemMessage

from ..mock_llm import COMPRESSION_KEPT
from ..tokens import count_tokens

CONTEXT_PREFIX = "Context: "
FILLER = frozenset({"a", "an", "the", "that", "which", "very", "just", "also", "please",
                    "really", "quite", "simply", "currently", "any", "own"})
STOP = FILLER | frozenset({"is", "are", "was", "be", "do", "does", "i", "my", "me", "you", "your",
                           "it", "to", "of", "in", "on", "for", "and", "or", "how", "what", "why",
                           "when", "can", "with", "this", "from", "at", "by", "as", "if", "we"})
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")
_WORD = re.compile(r"[A-Za-z0-9]+|[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Compressed:
    text: str
    tokens_before: int
    tokens_after: int
    sentences_before: int
    sentences_after: int

    @property
    def kept_share(self) -> float:
        return self.tokens_after / self.tokens_before if self.tokens_before else 1.0


@lru_cache(maxsize=8192)
def compress(text: str, question: str, keep: float, encoding: str,
             force: tuple[str, ...] = ()) -> Compressed:
    """``text`` shortened to about ``keep`` of its tokens, keeping what the question needs."""
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if s]
    before = count_tokens(text, encoding)
    if keep >= 1.0 or not sentences:
        return Compressed(text, before, before, len(sentences), len(sentences))
    trimmed = [_without_filler(s) for s in sentences]
    costs = [count_tokens(" " + s, encoding) for s in trimmed]
    wanted = _content_words(question)
    forced = {w.lower() for w in force}
    ranked = sorted(range(len(trimmed)), key=lambda i: (
        -(any(w in forced for w in _words(trimmed[i])) * 1000 + len(wanted & _content_words(trimmed[i]))), i))
    budget = keep * before
    chosen: set[int] = set()
    spent = 0
    for i in ranked:
        if spent + costs[i] <= budget:
            chosen.add(i)
            spent += costs[i]
    result = " ".join(trimmed[i] for i in sorted(chosen))
    return Compressed(result, before, count_tokens(result, encoding), len(sentences), len(chosen))


def compress_messages(messages: tuple[BaseMessage, ...], keep: float,
                      encoding: str) -> tuple[tuple[BaseMessage, ...], Compressed | None]:
    """The request's messages with its context message compressed (and marked), and what was done."""
    if keep >= 1.0:
        return messages, None
    question = messages[-1].text
    out: list[BaseMessage] = []
    done = None
    for message in messages:
        if isinstance(message, SystemMessage) and message.text.startswith(CONTEXT_PREFIX):
            done = compress(message.text[len(CONTEXT_PREFIX):], question, keep, encoding)
            message = SystemMessage(CONTEXT_PREFIX + done.text,
                                    additional_kwargs={COMPRESSION_KEPT: round(done.kept_share, 4)})
        out.append(message)
    return tuple(out), done


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


@lru_cache(maxsize=16384)  # the same passages come back in request after request
def _content_words(text: str) -> frozenset[str]:
    return frozenset(_stem(w) for w in _words(text) if w not in STOP)


def _stem(word: str) -> str:
    # "refunds" and "refund", "charged" and "charge": enough to match a question to a passage.
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=16384)
def _without_filler(sentence: str) -> str:
    kept = [w for w in sentence.split(" ") if w.lower().strip(",;:") not in FILLER]
    text = " ".join(kept)
    return text[:1].upper() + text[1:] if text else text
