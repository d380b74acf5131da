"""Per-tier limits at the gateway, the batch path, and the chapter's limiter code beside ours."""

from __future__ import annotations

import pytest

from simulations.architecture import book
from simulations.architecture.gateway import TieredLimits, max_in_any_window, retry_after_header, run_all
from simulations.architecture.traffic import Arrival, generate
from simulations.ratelimit import FixedWindowLimiter, SlidingWindowLimiter, TokenBucketLimiter, hit_many
from simulations.redis_server import client

LIMITS = {"free": 2, "pro": 4, "enterprise": 8}


@pytest.fixture
def redis(real_redis_url):
    connection = client(real_redis_url)
    yield connection
    connection.close()


def _arrivals(times, user="free-0", tier="free"):
    return [Arrival(i, t, tier, user, "chat") for i, t in enumerate(times)]


@pytest.mark.parametrize("kind", [SlidingWindowLimiter, FixedWindowLimiter, TokenBucketLimiter])
def test_hit_many_answers_exactly_as_hit_one_by_one(redis, redis_namespace, kind):
    def make(name):
        key = f"llmops:limit:{redis_namespace}:{name}"
        return kind(redis, key, 1.0, 3) if kind is TokenBucketLimiter else kind(redis, key, 3, 2.0)
    times = [0.0, 0.0, 0.5, 1.0, 1.9, 2.0, 2.0, 2.1, 4.5, 4.5]
    one, many = make("one"), make("many")
    assert hit_many([(many, t) for t in times]) == [one.hit(now_s=t) for t in times]
    redis.delete(*one.keys(), *many.keys())


def test_each_tier_has_its_own_limit(redis, redis_namespace):
    limits = TieredLimits(redis, "sliding_window", redis_namespace, LIMITS, 60.0)
    arrivals = _arrivals([1.0] * 5) + _arrivals([1.0] * 5, "pro-0", "pro")
    allowed = [d.allowed for d in limits.decide(arrivals)]
    assert allowed[:5].count(True) == 2 and allowed[5:].count(True) == 4
    redis.delete(*limits.keys())


def test_users_of_one_tier_do_not_share_a_limit(redis, redis_namespace):
    limits = TieredLimits(redis, "token_bucket", redis_namespace, LIMITS, 60.0)
    arrivals = _arrivals([0.0, 0.0, 0.0]) + _arrivals([0.0, 0.0], "free-1")
    assert [d.allowed for d in limits.decide(arrivals)] == [True, True, False, True, True]
    redis.delete(*limits.keys())


def test_a_refusal_says_when_to_retry_and_a_retry_then_succeeds(redis, redis_namespace):
    limits = TieredLimits(redis, "sliding_window", redis_namespace, LIMITS, 10.0)
    first = limits.decide(_arrivals([0.0, 3.0, 4.0]))
    refused = first[2]
    assert not refused.allowed and refused.retry_after_s == pytest.approx(6.0)
    assert retry_after_header(refused.retry_after_s) == "6"
    assert limits.decide(_arrivals([4.0 + refused.retry_after_s]))[0].allowed  # retry-after honoured: t = 10
    redis.delete(*limits.keys())


def test_the_window_edge_lets_the_fixed_window_double_and_nobody_else(redis, redis_namespace):
    arrivals = generate({"free": 0.0}, "edge", 180.0, seed=1, window_s=60.0, edge_limit=10)
    outcomes, keys = run_all(redis, redis_namespace, arrivals, {"free": 10, "pro": 10, "enterprise": 10}, 60.0)
    assert outcomes["fixed_window"].max_in_window_by_tier["free"] == 20
    assert outcomes["sliding_window"].max_in_window_by_tier["free"] == 10
    assert outcomes["fixed_window"].users_over_limit == 1 and outcomes["sliding_window"].users_over_limit == 0
    redis.delete(*keys)


def test_max_in_any_window_is_over_sliding_half_open_windows():
    assert max_in_any_window([0, 0.5, 0.99, 1.0, 1.5], 1.0) == 3
    assert max_in_any_window([], 1.0) == 0


def test_the_chapters_sliding_window_counts_one_timestamp_once(redis, redis_namespace):
    check = book.same_timestamp(redis, redis_namespace, limit=3, window_s=60.0)
    assert check["book_admitted"] == check["requests"] == 5  # every request got through
    assert check["ours_admitted"] == 3


def test_app_servers_with_their_own_clocks_exceed_the_limit(redis, redis_namespace):
    check = book.clock_skew(redis, redis_namespace, limit=10, window_s=60.0, skew_s=15.0)
    assert check["own_clocks_max"] > 10
    assert check["shared_clock_max"] <= 10


def test_the_chapters_retry_after_truncates_to_zero():
    check = book.retry_after(tokens=0.3, rate_per_s=10.0)
    assert check["book_s"] == 0 and check["header"] == "1"
    assert check["wait_s"] == pytest.approx(0.07)


def test_in_process_buckets_multiply_the_limit_by_the_instances(redis, redis_namespace):
    check = book.in_process_buckets(redis, redis_namespace, instances=3, capacity=50, rate_per_s=10.0, seconds=1.0)
    assert check["shared_total"] == 59  # 50 at once, then 10 a second for the rest of the second
    assert check["per_process_total"] == 3 * 59  # each process has its own 50 and its own 10 a second
