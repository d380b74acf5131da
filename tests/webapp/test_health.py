from unittest import mock

import pytest
import redis

from webapp.redis_conn import breaker

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def closed_breaker():
    breaker.reset()
    yield
    breaker.reset()


def test_healthz_reports_database_redis_and_simulations(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok", "simulations": "ok"}


def test_healthz_answers_head_too(client):
    assert client.head("/healthz").status_code == 200


def test_healthz_names_redis_when_it_is_down(client):
    with mock.patch("webapp.redis_conn.redis_client") as broken:
        broken.return_value.ping.side_effect = redis.ConnectionError("connection refused")
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["database"] == "ok"
    assert body["redis"].startswith("down: ConnectionError")
