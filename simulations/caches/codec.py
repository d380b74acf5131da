"""Cached answers as text, and back, with langchain's own serializer."""

from __future__ import annotations

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


def encode_generations(return_val: RETURN_VAL_TYPE) -> str:
    return dumps(list(return_val))


def decode_generations(text: str | bytes) -> list[Generation]:
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    # A list, never a tuple: langchain treats anything but a list as a miss.
    return list(loads(text, allowed_objects=_ANSWER_TYPES))
