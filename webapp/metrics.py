"""Prometheus metrics kept in Redis, so every daphne process adds to one set.

Each sample is a field of one Redis hash; counters and histogram buckets are
incremented with HINCRBYFLOAT.  /metrics reads the hash and prints the
Prometheus text format.  Recording never breaks a request: if Redis is down the
sample is dropped (and /healthz says Redis is down).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from collections import defaultdict
from collections.abc import Mapping

import redis
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.cache import never_cache

from webapp.redis_conn import guarded

log = logging.getLogger(__name__)

METRICS_KEY = "llmopslab:metrics"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HELP = {
    "llmopslab_http_requests_total": ("counter", "HTTP requests by view, method and status."),
    "llmopslab_http_request_duration_seconds": ("histogram", "HTTP request latency by view."),
    "llmopslab_simulation_runs_total": ("counter", "Simulation runs by component and outcome."),
    "llmopslab_simulation_duration_seconds": ("histogram", "Real time one simulation run took."),
    "llmopslab_result_cache_hits_total": ("counter", "Simulation results served from the cache."),
    "llmopslab_result_cache_misses_total": ("counter", "Simulation results that had to be computed."),
}


def _series(name: str, labels: Mapping[str, str]) -> str:
    if not labels:
        return name
    inner = ",".join(f'{k}="{_escape(str(v))}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _samples_for_histogram(name: str, labels: Mapping[str, str], value: float) -> list[str]:
    fields = [_series(f"{name}_bucket", {**labels, "le": _le(b)}) for b in BUCKETS if value <= b]
    fields.append(_series(f"{name}_bucket", {**labels, "le": "+Inf"}))
    fields.append(_series(f"{name}_count", labels))
    return fields


def _le(bound: float) -> str:
    return f"{bound:g}"


Sample = tuple[str, Mapping[str, str], float]  # metric name, labels, amount or observed value


# HTTP's own methods (RFC 9110 and PATCH); anything else a client invents is "other".
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})


def method_label(method: str | None) -> str:
    return method if method in KNOWN_METHODS else "other"


def record(counters: list[Sample] = (), histograms: list[Sample] = ()) -> None:
    """Add counter increments and histogram observations in one round trip."""

    def send(client: redis.Redis) -> None:
        pipe = client.pipeline(transaction=False)
        for name, labels, amount in counters:
            pipe.hincrbyfloat(METRICS_KEY, _series(name, labels), amount)
        for name, labels, value in histograms:
            for field in _samples_for_histogram(name, labels, value):
                pipe.hincrbyfloat(METRICS_KEY, field, 1)
            pipe.hincrbyfloat(METRICS_KEY, _series(f"{name}_sum", labels), value)
        pipe.execute()

    try:
        guarded(send)
    except redis.RedisError as exc:
        log.debug("metrics not recorded: %s", exc)


def count(name: str, amount: float = 1, **labels: str) -> None:
    record(counters=[(name, labels, amount)])


def render() -> str:
    raw = guarded(lambda client: client.hgetall(METRICS_KEY))
    by_metric: dict[str, list[str]] = defaultdict(list)
    for field, value in raw.items():
        series = field.decode()
        by_metric[_metric_of(series)].append(f"{series} {_number(float(value))}")
    lines = []
    for metric, (kind, text) in HELP.items():
        lines.append(f"# HELP {metric} {text}")
        lines.append(f"# TYPE {metric} {kind}")
        lines.extend(sorted(by_metric.get(metric, [])))
    return "\n".join(lines) + "\n"


def _metric_of(series: str) -> str:
    name = series.split("{", 1)[0]
    for suffix in ("_bucket", "_count", "_sum"):
        base = name.removesuffix(suffix)
        if base != name and base in HELP and HELP[base][0] == "histogram":
            return base
    return name


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


@never_cache
def metrics_view(request):
    if not scraper_allowed(request):
        return HttpResponse("Forbidden: /metrics needs METRICS_TOKEN or an address in METRICS_ALLOWED_IPS.\n",
                            status=403, content_type="text/plain; charset=utf-8")
    try:
        text = render()
    except redis.RedisError as exc:
        return HttpResponse(f"Metrics are kept in Redis, which is not answering: {exc}\n", status=503,
                            content_type="text/plain; charset=utf-8", headers={"Retry-After": "5"})
    return HttpResponse(text, content_type="text/plain; version=0.0.4; charset=utf-8")


def scraper_allowed(request) -> bool:
    """Debug: anyone.  Production: the bearer token, or an address in the allow-list; nobody else."""
    if settings.DEBUG:
        return True
    token = settings.METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "")
        if hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return True
    return _address_allowed(request.META.get("REMOTE_ADDR", ""), settings.METRICS_ALLOWED_IPS)


def _address_allowed(address: str, networks: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network, strict=False) for network in networks)


class RequestMetricsMiddleware:
    """Counts every request and times it, labelled by the view that answered.

    It works both ways, so under daphne an async view (the mock endpoint) is
    not pushed through a thread just to be counted.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        started = time.perf_counter()
        response = self.get_response(request)
        _record_request(request, response, started)
        return response

    async def _acall(self, request):
        started = time.perf_counter()
        response = await self.get_response(request)
        _record_request(request, response, started)
        return response


def _record_request(request, response, started: float) -> None:
    match = getattr(request, "resolver_match", None)
    view = match.view_name if match else "unmatched"
    status = str(response.status_code)
    record(
        counters=[("llmopslab_http_requests_total",
                   {"view": view, "method": method_label(request.method), "status": status}, 1)],
        histograms=[("llmopslab_http_request_duration_seconds", {"view": view}, time.perf_counter() - started)],
    )
