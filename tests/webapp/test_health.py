from unittest import mock

import pytest
import redis

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_healthz_names_redis_when_it_is_down(client):
    with mock.patch("webapp.health.redis_client") as broken:
        broken.return_value.ping.side_effect = redis.ConnectionError("connection refused")
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["database"] == "ok"
    assert body["redis"].startswith("down: ConnectionError")
