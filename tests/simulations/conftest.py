"""Fixtures for the simulation tests: a real Redis server for the whole session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from simulations.redis_server import client, ensure_redis_url


@pytest.fixture(scope="session", autouse=True)
def real_redis_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """REDIS_URL of a real server: the one already set, or an embedded one started here."""
    return ensure_redis_url(tmp_path_factory.mktemp("redis"))


@pytest.fixture
def redis_namespace(real_redis_url: str) -> Iterator[str]:
    """A namespace of its own for one test; its ``llmops:*:<namespace>:*`` keys go afterwards."""
    namespace = f"test-{uuid.uuid4().hex[:12]}"
    yield namespace
    redis = client(real_redis_url)
    leftovers = list(redis.scan_iter(match=f"llmops:*:{namespace}:*"))
    if leftovers:
        redis.delete(*leftovers)
    redis.close()
