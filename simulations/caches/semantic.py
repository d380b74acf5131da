"""A semantic LLM cache: a question close enough in meaning reuses a stored answer.

"How do you say dog in French?" can reuse the answer to "Translate 'dog' to
French".  Closeness is the cosine similarity of the questions' embeddings; the
threshold trades hits for wrong answers ("enable X" and "disable X" embed very
close).  Entries are only compared with entries of the same partition, given by
the metadata of the request (see :func:`same_model_and_context`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, NamedTuple

import redis
from langchain_core.caches import RETURN_VAL_TYPE
from langchain_core.embeddings import Embeddings
from langchain_core.outputs import Generation

from .base import DirectAsyncCache
from .codec import decode_generations, encode_generations
from .expiry import Clock, checked_ttl, loop_clock
from .keys import cache_key, digest
from .prompt_parts import PromptParts, split_prompt
from .redis_space import DEFAULT_REAL_EXPIRY_S, KeyLedger, RedisNamespace
from .vector_index import VectorIndex

MetadataOf = Callable[[PromptParts, str], Mapping[str, str]]


def same_model_and_context(parts: PromptParts, llm_string: str) -> dict[str, str]:
    """The default filter: reuse only answers made with the same model settings and setting.

    The ``llm_string`` must be part of the filter.  An exact cache gets this for
    free, because the llm_string is in its key; a similarity search over the
    question alone does not see it, and would serve a small model's answer to a
    request for a large one, an answer cut at 50 tokens to a request allowing
    1000, or a temperature-1.0 improvisation to a request for temperature 0.
    The context (system prompt, earlier turns) must match too: the same question
    under another system prompt is another request.
    """
    return {"llm": digest(llm_string), "context": digest(parts.context)}


class SemanticLookup(NamedTuple):
    """A lookup with its evidence, for exploring thresholds."""

    value: list[Generation] | None  # the reused answer, None on a miss
    score: float | None  # cosine similarity of the closest live entry in the partition
    matched_prompt: str | None  # that entry's question


class SemanticCache(DirectAsyncCache):
    """Answers reused when ``cosine(question, stored question) >= threshold``.

    ``metadata_of`` returns the labels an entry must share with the request to
    be considered (add e.g. a topic; returning ``{}`` disables the filter, which
    a lesson can use to show why it exists).  Entries live in Redis under
    ``namespace`` and expire after ``ttl_s`` on ``clock``; a new instance on the
    same namespace finds them again.
    """

    def __init__(
        self,
        embeddings: Embeddings,
        *,
        namespace: str,
        threshold: float = 0.9,
        ttl_s: float | None = None,
        clock: Clock = loop_clock,
        client: redis.Redis | None = None,
        metadata_of: MetadataOf = same_model_and_context,
        real_expiry_s: float = DEFAULT_REAL_EXPIRY_S,
        embedding_memo_size: int = 256,
        ledger: KeyLedger | None = None,
    ) -> None:
        if not -1.0 <= threshold <= 1.0:
            raise ValueError(f"threshold is a cosine similarity in [-1, 1], got {threshold!r}")
        self.threshold = threshold
        self.ttl_s = checked_ttl(ttl_s)
        self._clock = clock
        self._metadata_of = metadata_of
        self._space = RedisNamespace(
            namespace, kind="semantic", client=client, real_expiry_s=real_expiry_s, ledger=ledger
        )
        self._index = VectorIndex(self._space)
        # A miss is followed by an update for the same question: remembering
        # recent embeddings saves the second, often costliest, step.
        self._embed = lru_cache(maxsize=embedding_memo_size)(embeddings.embed_query)

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        return self.lookup_with_score(prompt, llm_string).value

    def lookup_with_score(self, prompt: str, llm_string: str) -> SemanticLookup:
        """The best entry's answer if it reaches the threshold, and its score either way."""
        parts = split_prompt(prompt)
        found = self._index.nearest(self._partition(parts, llm_string),
                                    self._embed(parts.question), self._clock(), self.threshold)
        if found.entry is None:
            return SemanticLookup(None, None, None)
        value = None if found.answer is None else decode_generations(found.answer)
        return SemanticLookup(value, found.score, found.entry.question)

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        parts = split_prompt(prompt)
        self._index.add(
            self._space.key("entry", cache_key(prompt, llm_string)),
            partition=self._partition(parts, llm_string),
            question=parts.question,
            vector=self._embed(parts.question),
            value=encode_generations(return_val),
            now=self._clock(),
            ttl_s=self.ttl_s,
        )

    def clear(self, **kwargs: Any) -> None:
        self.drop()

    def drop(self) -> int:
        """Delete this namespace's entries; returns how many keys went."""
        return self._index.drop()

    def close(self) -> None:
        """Release the connection; the entries stay for the next instance."""
        self._space.close()

    def _partition(self, parts: PromptParts, llm_string: str) -> str:
        metadata = self._metadata_of(parts, llm_string)
        return json.dumps(dict(metadata), sort_keys=True, ensure_ascii=False)
