"""The breaker around Redis: open after a failure, one probe per cooldown, closed by a success."""

from __future__ import annotations

import pytest
import redis

from webapp import redis_conn
from webapp.redis_conn import Breaker, RedisUnavailable


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_closed_until_a_failure_then_one_probe_per_cooldown():
    clock = Clock()
    breaker = Breaker(cooldown_s=1.0, clock=clock)
    assert breaker.allow() and not breaker.is_open
    breaker.failed(redis.ConnectionError("gone"))
    assert breaker.is_open and not breaker.allow()
    clock.now += 1.0
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # only one per cooldown
    breaker.failed(redis.TimeoutError("hung"))
    clock.now += 0.5
    assert not breaker.allow()
    clock.now += 0.5
    assert breaker.allow()
    breaker.succeeded()
    assert not breaker.is_open and breaker.allow() and breaker.allow()


def test_guarded_calls_skip_redis_at_once_while_it_is_down(monkeypatch):
    calls = []

    class Dead:
        def ping(self):
            calls.append(1)
            raise redis.ConnectionError("connection refused")

    monkeypatch.setattr(redis_conn, "redis_client", lambda: Dead())
    monkeypatch.setattr(redis_conn, "breaker", Breaker(cooldown_s=60))
    with pytest.raises(redis.ConnectionError):
        redis_conn.guarded(lambda r: r.ping())
    for _ in range(5):
        with pytest.raises(RedisUnavailable):
            redis_conn.guarded(lambda r: r.ping())
    assert len(calls) == 1  # one request paid for the outage; the others did not wait


def test_a_mistake_in_one_command_does_not_open_the_breaker(monkeypatch):
    monkeypatch.setattr(redis_conn, "breaker", Breaker(cooldown_s=60))
    with pytest.raises(redis.ResponseError):
        redis_conn.guarded(lambda r: r.execute_command("NO-SUCH-COMMAND"))
    assert not redis_conn.breaker.is_open
