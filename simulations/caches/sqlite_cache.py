"""An exact-match LLM cache in a SQLite file: one machine, survives restarts."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from langchain_core.caches import RETURN_VAL_TYPE

from .base import DirectAsyncCache
from .codec import decode_generations, encode_generations
from .expiry import Clock, checked_ttl, expiry_for, is_expired, loop_clock
from .keys import cache_key

_SCHEMA = """
CREATE TABLE IF NOT EXISTS llm_cache (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    expires_at REAL
)
"""


class SQLiteCache(DirectAsyncCache):
    """Answers keyed by :func:`cache_key` in the file at ``path``; they expire ``ttl_s``
    after being written, measured on ``clock``.

    A new instance on the same file sees the entries of the previous one.
    """

    def __init__(
        self, path: str | Path, *, ttl_s: float | None = None, clock: Clock = loop_clock
    ) -> None:
        self.ttl_s = checked_ttl(ttl_s)
        self._clock = clock
        # Autocommit: each write is durable on its own, with no transaction left open.
        self._db = sqlite3.connect(str(path), isolation_level=None)
        # WAL lets readers and a writer (another process on the same file) proceed
        # together; NORMAL syncs at checkpoints, not on every write: a cache may
        # lose its last entries in a power cut, never its consistency.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        key = cache_key(prompt, llm_string)
        row = self._db.execute(
            "SELECT value, expires_at FROM llm_cache WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        value, expires_at = row
        if is_expired(expires_at, self._clock()):
            # Only this version: a fresh write by another process in between survives.
            self._db.execute(
                "DELETE FROM llm_cache WHERE key = ? AND expires_at = ?", (key, expires_at)
            )
            return None
        return decode_generations(value)

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO llm_cache (key, value, expires_at) VALUES (?, ?, ?)",
            (
                cache_key(prompt, llm_string),
                encode_generations(return_val),
                expiry_for(self._clock(), self.ttl_s),
            ),
        )

    def clear(self, **kwargs: Any) -> None:
        self._db.execute("DELETE FROM llm_cache")

    def __len__(self) -> int:
        """Rows stored, expired ones included until a lookup removes them."""
        return self._db.execute("SELECT COUNT(*) FROM llm_cache").fetchone()[0]

    def close(self) -> None:
        self._db.close()
