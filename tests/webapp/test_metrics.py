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
