"""What an exact cache's key is made of, and what goes wrong when a field is left out.

A base request and a few variants of it are sent to a real model through a probe
cache that only records the two strings langchain hands every cache (the
serialized prompt and the ``llm_string``) and answers at once, so no model call
is made.  For each field of the key we then check which variants would share the
base request's key if that field were left out: a variant that needs another
answer would be served the wrong one.  A paraphrase shows the opposite failure:
a different key, so a miss, although the cached answer would have been right.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration

from .. import intents
from ..caches import cache_key, key_fields
from ..mock_llm import MockChatModel

VALUE_CHARS = 90  # how much of a field's value the view shows

# What happens to a variant of the base request under a key: it shares the base's
# entry or not, and that is right or wrong depending on whether the base's answer fits it.
APART, SHARED, WRONG, MISSED = "apart", "shared", "wrong_answer", "missed"


def verdict(shares_entry: bool, same_meaning: bool) -> str:
    if shares_entry:
        return SHARED if same_meaning else WRONG
    return MISSED if same_meaning else APART


class _KeyProbe(BaseCache):
    """Records what langchain asks a cache, and answers so the model is never called."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        self.asked.append((prompt, llm_string))
        return [ChatGeneration(message=AIMessage(""))]

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        """Nothing to store: every lookup already answered."""

    def clear(self, **kwargs: Any) -> None:
        self.asked.clear()


@dataclass(frozen=True)
class Variant:
    code: str
    detail: str  # what differs from the base request
    same_meaning: bool  # would the base request's answer be right for it?
    model: str
    messages: Sequence[BaseMessage]
    # Call-time parameters.  The mock model ignores temperature, but langchain puts
    # it into the key as it would for any chat model, which is what this view shows.
    call: dict[str, Any] = field(default_factory=dict)


def _variants(question: str, paraphrase: str, model: str) -> tuple[Variant, list[Variant]]:
    other_model = "gpt-4o" if model != "gpt-4o" else "gpt-4o-mini"
    human = [HumanMessage(question)]
    deterministic = {"temperature": 0.0}
    base = Variant("base", "", True, model, human, deterministic)
    return base, [
        Variant("temperature", "temperature=0.7", False, model, human, {"temperature": 0.7}),
        Variant("model", other_model, False, other_model, human, deterministic),
        Variant("max_tokens", "max_tokens=20", False, model, human,
                {**deterministic, "max_tokens": 20}),
        Variant("system_prompt", "Answer in French.", False, model,
                [SystemMessage("Answer in French."), HumanMessage(question)], deterministic),
        Variant("paraphrase", paraphrase, True, model, [HumanMessage(paraphrase)], deterministic),
        # langchain blanks message ids before building the key, so this one matches.
        Variant("message_id", "id='msg-42'", True, model,
                [HumanMessage(question, id="msg-42")], deterministic),
    ]


def _key_inputs(variant: Variant) -> tuple[str, str]:
    probe = _KeyProbe()
    MockChatModel(model=variant.model, cache=probe).invoke(list(variant.messages), **variant.call)
    return probe.asked[0]


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS - 1] + "…"


def key_view(intent_id: str, model: str) -> dict[str, Any]:
    """The key fields of a request for ``intent_id`` to ``model``, and the variants' collisions."""
    return copy.deepcopy(_key_view(intent_id, model))  # the caller's own, free to change


@lru_cache(maxsize=256)
def _key_view(intent_id: str, model: str) -> dict[str, Any]:
    # Seven langchain calls that depend on nothing but these two names: made once
    # per pair and process, not on every run of the comparison.
    intent = intents.get(intent_id)
    base, variants = _variants(intent.canonical, intent.paraphrases[0], model)
    base_inputs = _key_inputs(base)
    inputs = {v.code: _key_inputs(v) for v in variants}
    fields = key_fields(*base_inputs)
    full_key = cache_key(*base_inputs)

    def collides_without(name: str) -> list[str]:
        mine = cache_key(*base_inputs, omit=[name])
        return [code for code, pair in inputs.items()
                if cache_key(*pair) != full_key and cache_key(*pair, omit=[name]) == mine]

    same_key = {v.code: cache_key(*inputs[v.code]) == full_key for v in variants}
    collisions = {name: collides_without(name) for name in fields}

    def row(without: str | None) -> list[str]:
        return [verdict(same_key[v.code] or (without is not None and v.code in collisions[without]),
                        v.same_meaning) for v in variants]

    return {
        "question": intent.canonical,
        "model": model,
        "fields": [{"field": name, "value": _shown(value), "collides_without": collisions[name]}
                   for name, value in fields.items()],
        "variants": [{"variant": v.code, "detail": v.detail, "same_meaning": v.same_meaning,
                      "same_key": same_key[v.code]}
                     for v in variants],
        # One row for the full key, then one per field left out: each variant's verdict.
        "verdicts": [{"without": None, "verdicts": row(None)}]
                    + [{"without": name, "verdicts": row(name)} for name in fields],
    }
