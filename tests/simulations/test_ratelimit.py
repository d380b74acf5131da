"""The three limiters on the real Redis: exact semantics at the edges that matter."""

from __future__ import annotations

import pytest

from simulations.ratelimit import FixedWindowLimiter, SlidingWindowLimiter, TokenBucketLimiter
from simulations.redis_server import client


@pytest.fixture
def redis(real_redis_url, redis_namespace):
    connection = client(real_redis_url)
    yield connection
    connection.close()


def _key(namespace: str, name: str) -> str:
    return f"llmops:limit:{namespace}:{name}"


def test_sliding_window_counts_requests_that_share_a_timestamp(redis, redis_namespace):
    limiter = SlidingWindowLimiter(redis, _key(redis_namespace, "same-ts"), limit=3, window_s=60)
    decisions = [limiter.hit(now_s=100.0) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]


def test_sliding_window_says_when_the_oldest_request_leaves(redis, redis_namespace):
    limiter = SlidingWindowLimiter(redis, _key(redis_namespace, "retry"), limit=2, window_s=10)
    limiter.hit(now_s=0.0)
    limiter.hit(now_s=4.0)
    refused = limiter.hit(now_s=5.0)
    assert not refused.allowed and refused.retry_after_s == pytest.approx(5.0)
    assert refused.retry_after_header == "5"
    assert not limiter.hit(now_s=9.999).allowed
    assert limiter.hit(now_s=10.0).allowed  # the request at 0 s has left the window


def test_sliding_window_never_exceeds_the_limit_in_any_window(redis, redis_namespace):
    limiter = SlidingWindowLimiter(redis, _key(redis_namespace, "edge"), limit=5, window_s=1.0)
    admitted = [t / 10 for t in range(40) if limiter.hit(now_s=t / 10).allowed]
    for start in admitted:
        assert sum(start <= t < start + 1.0 for t in admitted) <= 5


def test_fixed_window_lets_twice_the_limit_through_around_an_edge(redis, redis_namespace):
    limiter = FixedWindowLimiter(redis, _key(redis_namespace, "fixed"), limit=5, window_s=1.0)
    late = [limiter.hit(now_s=0.9).allowed for _ in range(6)]
    early = [limiter.hit(now_s=1.05).allowed for _ in range(6)]
    assert late.count(True) == 5 and early.count(True) == 5  # 10 requests within 0.15 s
    refused = limiter.hit(now_s=1.5)
    assert not refused.allowed and refused.retry_after_s == pytest.approx(0.5)


def test_token_bucket_bursts_to_capacity_then_refills_at_its_rate(redis, redis_namespace):
    bucket = TokenBucketLimiter(redis, _key(redis_namespace, "bucket"), rate_per_s=2.0, capacity=4)
    burst = [bucket.hit(now_s=0.0).allowed for _ in range(5)]
    assert burst == [True, True, True, True, False]
    refused = bucket.hit(now_s=0.0)
    assert refused.retry_after_s == pytest.approx(0.5)
    assert bucket.hit(now_s=0.5).allowed and not bucket.hit(now_s=0.5).allowed


def test_token_bucket_never_refills_backwards_when_a_clock_lags(redis, redis_namespace):
    bucket = TokenBucketLimiter(redis, _key(redis_namespace, "skew"), rate_per_s=1.0, capacity=1)
    assert bucket.hit(now_s=10.0).allowed
    assert not bucket.hit(now_s=9.0).allowed  # a server whose clock is behind gets no free tokens
    assert bucket.hit(now_s=11.0).allowed


def test_two_limiter_objects_on_one_key_share_one_limit(redis, redis_namespace):
    key = _key(redis_namespace, "shared")
    first, second = (TokenBucketLimiter(redis, key, rate_per_s=0.001, capacity=3) for _ in range(2))
    results = [limiter.hit(now_s=0.0).allowed for limiter in (first, second, first, second)]
    assert results == [True, True, True, False]  # one bucket in Redis, whoever asks


def test_without_a_time_redis_keeps_the_clock(redis, redis_namespace):
    limiter = SlidingWindowLimiter(redis, _key(redis_namespace, "redis-time"), limit=1, window_s=30)
    assert limiter.hit().allowed
    refused = limiter.hit()
    assert not refused.allowed and 29 < refused.retry_after_s <= 30


def test_a_limiter_knows_every_key_it_wrote(redis, redis_namespace):
    limiter = FixedWindowLimiter(redis, _key(redis_namespace, "keys"), limit=1, window_s=1.0)
    limiter.hit(now_s=0.5)
    limiter.hit(now_s=1.5)
    assert all(redis.exists(key) for key in limiter.keys())
    assert len([k for k in limiter.keys() if ":keys:" in k]) == 2  # one counter per window
    redis.delete(*limiter.keys())
    assert not any(redis.exists(key) for key in limiter.keys())
