"""LLM caches for the caching lab, all langchain-core ``BaseCache``s on an injectable clock.

Exact caches key on a SHA-256 of the prompt and the model's parameters
(:mod:`.keys`): :class:`SQLiteCache` (a file, survives restarts),
:class:`RedisCache` (shared, namespaced per run), :class:`LruCache` (in
process) and :class:`MultiLevelCache` (L1 in process, L2 shared).
:class:`SemanticCache` reuses answers to questions close in meaning, and
:class:`SingleFlight` merges identical calls that are in flight together.
langchain-core's own ``InMemoryCache`` is used as it is.
"""

from .expiry import Clock, loop_clock
from .keys import cache_key, key_fields
from .lru import LruCache
from .multilevel import LevelStats, MultiLevelCache
from .prompt_parts import PromptParts, split_prompt
from .redis_cache import RedisCache
from .semantic import SemanticCache, SemanticLookup, same_model_and_context
from .singleflight import SingleFlight
from .sqlite_cache import SQLiteCache

__all__ = [
    "Clock",
    "LevelStats",
    "LruCache",
    "MultiLevelCache",
    "PromptParts",
    "RedisCache",
    "SQLiteCache",
    "SemanticCache",
    "SemanticLookup",
    "SingleFlight",
    "cache_key",
    "key_fields",
    "loop_clock",
    "same_model_and_context",
    "split_prompt",
]
