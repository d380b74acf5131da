"""An exact-match LLM cache on a real Redis, shared by every process that uses it."""

from __future__ import annotations

from typing import Any

import redis
from langchain_core.caches import RETURN_VAL_TYPE

from .base import DirectAsyncCache
from .codec import decode_generations, encode_generations
from .expiry import Clock, checked_ttl, loop_clock
from .keys import cache_key
from .redis_space import DEFAULT_REAL_EXPIRY_S, KeyLedger, RedisNamespace


class RedisCache(DirectAsyncCache):
    """Answers keyed by :func:`cache_key` under ``namespace``; they expire ``ttl_s`` after
    being written, measured on ``clock``.

    A new instance with the same namespace sees the old entries: that is a
    "restart".  ``drop()`` (or langchain's ``clear()``) deletes the namespace.
    """

    def __init__(
        self,
        namespace: str,
        *,
        ttl_s: float | None = None,
        clock: Clock = loop_clock,
        client: redis.Redis | None = None,
        real_expiry_s: float = DEFAULT_REAL_EXPIRY_S,
        ledger: KeyLedger | None = None,
    ) -> None:
        self.ttl_s = checked_ttl(ttl_s)
        self._clock = clock
        self._space = RedisNamespace(
            namespace, kind="cache", client=client, real_expiry_s=real_expiry_s, ledger=ledger
        )

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        raw = self._space.read(self._key(prompt, llm_string), self._clock())
        return None if raw is None else decode_generations(raw)

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        fields = {"value": encode_generations(return_val)}
        self._space.write(self._key(prompt, llm_string), fields, self._clock(), self.ttl_s)

    def clear(self, **kwargs: Any) -> None:
        self.drop()

    def drop(self) -> int:
        """Delete this namespace's entries; returns how many keys went."""
        return self._space.drop()

    def close(self) -> None:
        """Release the connection; the entries stay for the next instance."""
        self._space.close()

    def _key(self, prompt: str, llm_string: str) -> str:
        return self._space.key(cache_key(prompt, llm_string))
