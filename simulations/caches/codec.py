"""Cached answers as text, and back, with langchain's own serializer."""

from __future__ import annotations

from functools import lru_cache

from langchain_core.caches import RETURN_VAL_TYPE
from langchain_core.load import dumps, loads
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, Generation, GenerationChunk

# Only answer types may come back to life: a cache entry is data, and loading it
# must never construct a model or a client (see langchain_core.load's threat model).
_ANSWER_TYPES = [
    Generation,
    GenerationChunk,
    ChatGeneration,
    ChatGenerationChunk,
    AIMessage,
    AIMessageChunk,
]
# Distinct stored answers parsed recently.  A popular answer is read back on every
# hit; parsing it once and copying it is several times cheaper than loads().
DECODED_MEMO_SIZE = 512


def encode_generations(return_val: RETURN_VAL_TYPE) -> str:
    return dumps(list(return_val))


def decode_generations(text: str | bytes) -> list[Generation]:
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    # A list, never a tuple: langchain treats anything but a list as a miss.  Deep
    # copies, because langchain replaces a hit's message in place (zeroing its cost).
    return [generation.model_copy(deep=True) for generation in _decoded(text)]


@lru_cache(maxsize=DECODED_MEMO_SIZE)
def _decoded(text: str) -> tuple[Generation, ...]:
    return tuple(loads(text, allowed_objects=_ANSWER_TYPES))
