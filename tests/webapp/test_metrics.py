import re

import pytest

pytestmark = pytest.mark.django_db


def _value(text: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_metrics_count_requests_by_view(client):
    series = 'llmopslab_http_requests_total{method="GET",status="200",view="healthz"}'
    before = _value(client.get("/metrics").content.decode(), series)
    client.get("/healthz")
    client.get("/healthz")
    text = client.get("/metrics").content.decode()
    assert _value(text, series) == before + 2
    assert "# TYPE llmopslab_http_request_duration_seconds histogram" in text
    assert 'llmopslab_http_request_duration_seconds_bucket{le="+Inf",view="healthz"}' in text


def test_metrics_count_simulation_runs_and_result_cache(client):
    url = "/en/lessons/batching-async/?seed=424242&requests=7"
    hits = 'llmopslab_result_cache_hits_total{component="batching"}'
    before = client.get("/metrics").content.decode()
    client.get(url)
    client.get(url)
    after = client.get("/metrics").content.decode()
    assert _value(after, hits) >= _value(before, hits) + 1
    assert 'llmopslab_simulation_duration_seconds_count{component="batching"}' in after
    assert "llmopslab_simulation_runs_total{" in after


def test_invented_methods_share_one_series(client):
    for method in ("FROB", "X-EVIL-1", "X-EVIL-2"):
        client.generic(method, "/healthz")
    text = client.get("/metrics").content.decode()
    assert 'method="other"' in text
    assert "FROB" not in text and "X-EVIL" not in text


def test_metrics_answer_503_not_500_while_redis_is_away(client, monkeypatch):
    import redis

    from simulations.redis_server import client_options
    from webapp.redis_conn import breaker

    dead = redis.Redis(unix_socket_path="/nonexistent/redis.sock", **client_options(0.2))
    monkeypatch.setattr("webapp.redis_conn.redis_client", lambda: dead)
    try:
        response = client.get("/metrics")
        assert response.status_code == 503
        assert "Retry-After" in response and "Redis" in response.content.decode()
    finally:
        breaker.reset()


@pytest.mark.parametrize(("token", "allowed", "headers", "address", "status"), [
    ("", [], {}, "127.0.0.1", 403),  # production with nothing configured: closed
    ("s3cret", [], {}, "198.51.100.7", 403),
    ("s3cret", [], {"Authorization": "Bearer wrong"}, "198.51.100.7", 403),
    ("s3cret", [], {"Authorization": "Bearer s3cret"}, "198.51.100.7", 200),
    ("", ["10.0.0.0/8"], {}, "10.1.2.3", 200),
    ("", ["10.0.0.0/8"], {}, "192.168.1.2", 403),
])
def test_metrics_in_production_need_the_token_or_an_allowed_address(client, settings, token, allowed,
                                                                   headers, address, status):
    settings.DEBUG = False
    settings.METRICS_TOKEN = token
    settings.METRICS_ALLOWED_IPS = allowed
    assert client.get("/metrics", headers=headers, REMOTE_ADDR=address).status_code == status
