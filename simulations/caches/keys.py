"""Stable cache keys for exact caches, and the fields that go into them.

langchain hands a cache two strings: the prompt (its messages serialized as
JSON) and the ``llm_string`` (the model's parameters: class, model name,
temperature, max_tokens, stop words...).  A correct key depends on every one of
them: leave ``temperature`` out and a creative answer is served to a request
that asked for a deterministic one; leave the model out and a small model's
answer is served as if a large one wrote it.

:func:`key_fields` names those fields so a lesson can show them, and
:func:`cache_key` digests them with SHA-256.  Never Python's ``hash()``: it is
salted per process (PYTHONHASHSEED), so two workers, or one worker after a
restart, would compute different keys for the same request and never share a hit.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Collection, Mapping
from functools import lru_cache
from typing import Any

PROMPT_FIELD = "prompt"


def key_fields(prompt: str, llm_string: str) -> dict[str, Any]:
    """Every field the key of (``prompt``, ``llm_string``) is made of, by name.

    The model parameters are read back out of langchain's ``llm_string``.  If it
    is in a shape we do not recognise, it is kept whole as one field, so the key
    still changes whenever the string does.
    """
    return {PROMPT_FIELD: prompt, **dict(_llm_fields(llm_string))}


def cache_key(prompt: str, llm_string: str, *, omit: Collection[str] = ()) -> str:
    """The SHA-256 hex key of a request.

    ``omit`` leaves fields out, to show what would collide without them: e.g.
    ``cache_key(p, s, omit=["temperature"])`` is equal for two requests that
    differ only in temperature.  Real caches never pass it.
    """
    if not omit:
        return _full_key(prompt, llm_string)
    return _digest_fields({name: value for name, value in key_fields(prompt, llm_string).items()
                           if name not in omit})


@lru_cache(maxsize=256)
def _full_key(prompt: str, llm_string: str) -> str:
    # A miss computes the key twice (lookup, then update), and every cache in a
    # process keys the same popular prompts: a dictionary probe instead of a digest.
    return _digest_fields(key_fields(prompt, llm_string))


def _digest_fields(fields: dict[str, Any]) -> str:
    # sort_keys makes the digest independent of field order; default=repr covers
    # the rare parameter value that is not plain JSON (a tuple, a set).
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def digest(text: str) -> str:
    """A short stable digest of any text, for labels and partitions (not for cache keys)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@lru_cache(maxsize=256)
def _llm_fields(llm_string: str) -> tuple[tuple[str, Any], ...]:
    # A model keeps one llm_string for all its calls, so parsing it once per
    # distinct string keeps the per-lookup cost to a dictionary probe.
    try:
        fields = _parse_llm_string(llm_string)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        fields = {"llm_string": llm_string}
    return tuple(fields.items())


def _parse_llm_string(llm_string: str) -> dict[str, Any]:
    """The two shapes langchain-core builds (``BaseChatModel._get_llm_string``).

    A serializable model (e.g. ChatOpenAI) gives ``<its JSON>---<call params>``;
    any other model gives ``str(sorted(params.items()))``.
    """
    fields: dict[str, Any] = {}
    serialized, separator, call_params = llm_string.rpartition("---")
    if separator:
        for name, value in _model_fields(json.loads(serialized)).items():
            _put(fields, name, value, prefix="model.")
    else:
        call_params = llm_string
    for name, value in _literal_pairs(call_params):
        _put(fields, name, value, prefix="call.")
    return fields


def _model_fields(serialized: Any) -> dict[str, Any]:
    if not isinstance(serialized, Mapping):
        raise ValueError("serialized model is not an object")
    fields: dict[str, Any] = {}
    for name, value in serialized.items():
        if name == "kwargs" and isinstance(value, Mapping):
            fields.update(value)
        elif name == "id" and isinstance(value, list):
            fields["class"] = ".".join(map(str, value))
        else:
            fields[f"serialized.{name}"] = value
    return fields


def _literal_pairs(text: str) -> list[tuple[str, Any]]:
    pairs = ast.literal_eval(text)
    if not isinstance(pairs, list) or not all(
        isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str) for pair in pairs
    ):
        raise ValueError("not a list of (name, value) pairs")
    return pairs


def _put(fields: dict[str, Any], name: str, value: Any, *, prefix: str) -> None:
    # A parameter may share a name with the prompt or with a constructor
    # argument; prefixing keeps both, so no field silently replaces another.
    while name == PROMPT_FIELD or name in fields:
        name = prefix + name
    fields[name] = value
