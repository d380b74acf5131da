"""The one Redis client of the web process (thread-safe, pooled)."""

from functools import cache

import redis
from django.conf import settings


@cache
def redis_client() -> redis.Redis:
    # Short timeouts: a Redis that hangs should make /healthz say "down", not hang.
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
