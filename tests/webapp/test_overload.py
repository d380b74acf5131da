"""What a learner sees when the server, or one learner, asks too much, or Redis is away.

The pool and Redis are made busy or absent here by hand; tests/webapp/test_live_*.py
do it for real against running servers.
"""

from __future__ import annotations

import itertools
import zlib

import pytest
import redis
from django.test import Client, override_settings

from simulations.redis_server import client_options
from webapp.lab import service
from webapp.lab.pool import Busy, WorkerError
from webapp.redis_conn import breaker

URL = "/en/lab/batching/"
HTMX_RESULT = {"HX-Request": "true", "HX-Target": "lab-batching-result"}
_seeds = itertools.count(900_000)


def fresh() -> dict[str, int]:
    return {"seed": next(_seeds)}


class RefusingPool:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def call(self, *args, **kwargs):
        raise self.error


@pytest.fixture
def refusing(monkeypatch):
    def use(error: Exception) -> None:
        monkeypatch.setattr(service, "pool", lambda: RefusingPool(error))
    return use


@pytest.fixture(autouse=True)
def closed_breaker():
    breaker.reset()
    service._needs_redis.clear()
    yield
    breaker.reset()
    service._needs_redis.clear()


@pytest.fixture
def redis_away(monkeypatch):
    """The web process's Redis client points at a socket nobody listens on."""
    dead = redis.Redis(unix_socket_path="/nonexistent/redis.sock", **client_options(0.2))
    monkeypatch.setattr("webapp.redis_conn.redis_client", lambda: dead)


def test_a_busy_server_answers_503_with_retry_after_and_a_calm_status_that_retries(client, refusing):
    refusing(Busy(3))
    response = client.get(URL, fresh(), headers=HTMX_RESULT)
    assert response.status_code == 503
    assert response["Retry-After"] == "3"
    assert response["HX-Reswap"] == "none"  # the last good result stays on screen
    html = response.content.decode()
    assert 'class="status busy"' in html and "busy" in html and "Retrying in 3 s" in html
    assert "try fewer" not in html  # never the learner's fault
    assert 'hx-trigger="load delay:3s"' in html and 'hx-include="#lab-batching-form"' in html
    assert 'hx-target="#lab-batching-result"' in html


def test_a_busy_server_still_serves_the_whole_page(client, refusing):
    refusing(Busy(2))
    response = client.get(URL, fresh())
    assert response.status_code == 200
    assert response["Retry-After"] == "2"
    html = response.content.decode()
    assert "<form" in html and 'class="status busy"' in html and 'hx-trigger="load delay:2s"' in html


def test_a_run_too_big_on_its_own_is_still_the_learners_400(client, refusing):
    refusing(WorkerError("timeout", "simulation stopped after 5 s of real time"))
    response = client.get(URL, fresh(), headers=HTMX_RESULT)
    assert response.status_code == 400
    assert "Retry-After" not in response
    assert "try fewer requests" in response.content.decode()


def test_the_chinese_page_says_busy_in_chinese(client, refusing):
    refusing(Busy(4))
    html = client.get("/zh-hans/lab/batching/", fresh(), headers=HTMX_RESULT).content.decode()
    assert "繁忙" in html and "4" in html


@override_settings(CLIENT_RATE_PER_S=0.01, CLIENT_BURST=2)
def test_one_learner_past_their_allowance_gets_429_and_others_do_not(client):
    client.get(URL)  # opening the page starts the learner's session (it was counted by address)
    assert client.cookies.get("sessionid")
    assert [client.get(URL, fresh(), headers=HTMX_RESULT).status_code for _ in range(2)] == [200, 200]
    response = client.get(URL, fresh(), headers=HTMX_RESULT)
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    html = response.content.decode()
    assert 'class="status busy"' in html and "Retrying in" in html and "try fewer" not in html
    neighbour = Client()
    neighbour.get(URL)
    assert neighbour.get(URL, fresh(), headers=HTMX_RESULT).status_code == 200


@override_settings(ADDRESS_RATE_PER_S=0.01, ADDRESS_BURST=3, CLIENT_BURST=1000)
def test_without_a_session_the_address_is_the_client(client):
    statuses = [Client(REMOTE_ADDR="203.0.113.9").get(URL, fresh(), headers=HTMX_RESULT).status_code
                for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert Client(REMOTE_ADDR="203.0.113.10").get(URL, fresh(), headers=HTMX_RESULT).status_code == 200


@override_settings(CLIENT_RATE_PER_S=0.01, CLIENT_BURST=1, ADDRESS_RATE_PER_S=0.01, ADDRESS_BURST=1)
def test_limits_fail_open_while_redis_is_away(client, redis_away):
    for _ in range(3):
        assert client.get(URL, fresh(), headers=HTMX_RESULT).status_code == 200


def test_while_redis_is_away_a_lab_that_does_not_need_it_runs_uncached(client, redis_away):
    response = client.get(URL, fresh(), headers=HTMX_RESULT)
    assert response.status_code == 200
    assert "computed without the result cache" in response.content.decode()
    assert breaker.is_open


def test_while_redis_is_away_a_lab_that_needs_it_says_results_are_paused(client, redis_away, refusing):
    refusing(WorkerError("redis", "ConnectionError: no such socket"))
    url = "/en/lab/caching-comparison/"
    response = client.get(url, fresh(), headers={"HX-Request": "true", "HX-Target": "lab-caching-comparison-result"})
    assert response.status_code == 503
    assert response["Retry-After"] == str(service.REDIS_RETRY_AFTER_S)
    assert "Live results are paused" in response.content.decode()
    page = client.get("/en/lessons/caching-basics/", fresh())
    assert page.status_code == 200 and "Live results are paused" in page.content.decode()


def test_results_are_stored_compressed_and_always_expire(client, redis_client):
    query = fresh()
    client.get(URL, query, headers=HTMX_RESULT)
    from simulations.registry import get

    params = get("batching").spec.parse({}, None)
    key = service.result_key("batching", params, query["seed"])
    stored = redis_client.get(key)
    assert stored is not None and zlib.decompress(stored).startswith(b'{"component":"batching"')
    assert len(stored) < len(zlib.decompress(stored)) / 2
    assert 0 < redis_client.ttl(key) <= 24 * 3600
    with override_settings(RESULT_CACHE_TTL_S=0):  # "no age limit" still leaves it evictable
        again = fresh()
        client.get(URL, again, headers=HTMX_RESULT)
        assert redis_client.ttl(service.result_key("batching", params, again["seed"])) > 300 * 24 * 3600


class BatchRefusingPool:
    """The real pool, except that it refuses the batches of a deferred part as a full server would."""

    def __init__(self, real, seconds: int) -> None:
        self.real, self.seconds, self.refused = real, seconds, 0

    def call(self, target, *args, **kwargs):
        from simulations.worker import BATCH_TARGET

        if target == BATCH_TARGET:
            self.refused += 1
            raise Busy(self.seconds)
        return self.real.call(target, *args, **kwargs)


AB = "/en/lab/ab-dashboard/"
AB_RESULT = {"HX-Request": "true", "HX-Target": "lab-ab-dashboard-result"}
AB_PENDING = {"HX-Request": "true", "HX-Target": "lab-ab-dashboard-pending"}


def _next_batch(html: str) -> str | None:
    import html as entities
    import re

    found = re.search(r'<div id="lab-ab-dashboard-pending"[^>]*hx-get="([^"]+)"', html)
    return entities.unescape(found.group(1)) if found else None


def test_a_batch_refused_as_busy_answers_503_and_the_page_asks_again_by_itself(client, monkeypatch):
    """The progress line's request for a batch, on a full server: 503, Retry-After, a calm line that retries."""
    real = service.pool()
    refusing = BatchRefusingPool(real, 4)
    monkeypatch.setattr(service, "pool", lambda: refusing)
    query = {"preset": "aa-test", **fresh()}
    first = client.get(AB, query, headers=AB_RESULT)
    assert first.status_code == 200
    url = _next_batch(first.content.decode())
    assert url and url.endswith("&batch=0")

    refused = client.get(url, headers=AB_PENDING)
    assert refusing.refused == 1
    assert refused.status_code == 503
    assert refused["Retry-After"] == "4"
    assert refused["HX-Reswap"] == "none"  # the first result and its progress line stay
    html = refused.content.decode()
    assert 'id="lab-ab-dashboard-status" class="status busy"' in html and 'hx-swap-oob="true"' in html
    assert "Retrying in 4 s" in html and "try fewer" not in html and "no such batch" not in html
    # The retry the status line holds: the result again, with the form's values, after Retry-After.
    assert 'hx-trigger="load delay:4s"' in html and 'hx-include="#lab-ab-dashboard-form"' in html
    assert 'hx-target="#lab-ab-dashboard-result"' in html

    # Once the server has room, that retry gets the first result back and the batches go on to the end.
    monkeypatch.setattr(service, "pool", lambda: real)
    again = client.get(AB, query, headers=AB_RESULT)
    assert again.status_code == 200
    url = _next_batch(again.content.decode())
    assert url and url.endswith("&batch=0")
    for _ in range(20):
        response = client.get(url, headers=AB_PENDING)
        assert response.status_code == 200
        url = _next_batch(response.content.decode())
        if url is None:
            break
    assert 'data-chart="repetitions"' in response.content.decode()
    assert 'class="status"' in response.content.decode()  # the busy line is gone
