"""Fallback chains: primary model, then other models, then a cached answer, then a default answer.

``primary.with_fallbacks([b1, b2, ...])`` tries each in turn, moving on when one
raises (any ``Exception`` unless ``exceptions_to_handle`` says otherwise) and
raising the *primary's* error if every one fails.  Three details decide whether
a chain really helps:

* each model needs its own timeout, short for the primary: a hung primary holds
  the request until its client gives up (ten minutes for the OpenAI client), and
  only then does the fallback start;
* a fallback on the same provider shares the provider's outages;
* with ``exception_key="error"`` every rung receives the input dictionary plus
  the last error, so a default answer can say *why* (and when to try again);
  it needs a dictionary input all the way down.

The cache rung answers only what was answered before (a stale answer, but an
answer); the default rung always answers, honestly saying that it cannot.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration
from langchain_core.runnables import Runnable, RunnableLambda

from ..caches import LruCache

ERROR_KEY = "error"
SERVED_BY = "served_by"  # response_metadata key of answers that no model wrote just now
CACHE, DEFAULT = "cache", "default"
# Stored under a fixed "model" string: a stale answer from any model will do.
_ANY_MODEL = "any-model"
DEFAULT_ANSWER = "We cannot answer right now. Please try again in a minute."


class CacheMiss(LookupError):
    """The cache rung has no answer for this question."""


class AnswerCache:
    """The last good answer to each question, kept for when every model fails (an LruCache)."""

    def __init__(self, maxsize: int = 1000) -> None:
        self.store = LruCache(maxsize)
        self.hits = 0
        self.misses = 0

    def remember(self, question: str, message: AIMessage) -> None:
        self.store.update(question, _ANY_MODEL, [ChatGeneration(message=message)])

    async def answer(self, question: str) -> AIMessage:
        found = self.store.lookup(question, _ANY_MODEL)
        if not found:
            self.misses += 1
            raise CacheMiss(question)
        self.hits += 1
        stored = found[0].message
        return AIMessage(content=stored.content, response_metadata={
            **stored.response_metadata, SERVED_BY: CACHE, "stale_from": stored.response_metadata.get("model_name")})


async def default_answer(question: Any) -> AIMessage:
    """The last rung: always answers, and says it cannot."""
    return AIMessage(content=DEFAULT_ANSWER, response_metadata={SERVED_BY: DEFAULT})


def fallback_chain(primary: Runnable, backups: Sequence[BaseChatModel], *,
                   cache: AnswerCache | None = None, default: bool = True) -> Runnable:
    """primary, then each backup model, then the cache, then the default answer: first to answer wins."""
    rungs: list[Runnable] = list(backups)
    if cache is not None:
        rungs.append(RunnableLambda(cache.answer, name="cached_answer"))
    if default:
        rungs.append(RunnableLambda(default_answer, name="default_answer"))
    if not rungs:
        return primary
    return primary.with_fallbacks(rungs)


async def _question(inputs: dict[str, Any]) -> str:
    return inputs["question"]


async def _default_saying_why(inputs: dict[str, Any]) -> AIMessage:
    error = inputs.get(ERROR_KEY)
    wait = getattr(error, "retry_after_s", None)
    text = DEFAULT_ANSWER if wait is None else f"We cannot answer right now. Please try again in {wait:.0f} s."
    return AIMessage(content=text, response_metadata={SERVED_BY: DEFAULT, "reason": type(error).__name__})


def keyed_chain(primary: BaseChatModel, backups: Sequence[BaseChatModel]) -> Runnable:
    """The ``exception_key`` variant: every rung takes {"question": ...}; the default answer reads the error."""
    def ask(model: BaseChatModel) -> Runnable:
        return RunnableLambda(_question, name="question") | model

    rungs = [ask(model) for model in backups] + [RunnableLambda(_default_saying_why, name="default_answer")]
    return ask(primary).with_fallbacks(rungs, exception_key=ERROR_KEY)


def served_by(message: AIMessage) -> str:
    """Who answered: a model's name, "cache" or "default"."""
    metadata = message.response_metadata
    return metadata.get(SERVED_BY) or metadata.get("model_name", "?")
