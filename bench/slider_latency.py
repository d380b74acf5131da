"""Slider latency: server time for one htmx re-run of each component at its
defaults, through Django's full request path (middleware, view, simulation or
result cache, templates).  Two figures per component:

- fresh: every request has a new seed, so the simulation really runs;
- cached: the same request repeated, served from the Redis result cache.

Target: p95 under 100 ms.
"""

from __future__ import annotations

import os
import time

RUNS = int(os.environ.get("BENCH_RUNS", "200"))


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    import django

    django.setup()


def main() -> None:
    _setup_django()
    from django.test import Client
    from django.urls import reverse
    from django.utils import translation

    from simulations.registry import all_components

    from .stats import describe_ms

    print(f"Slider latency: server time per htmx re-run at defaults ({RUNS} runs each)")
    base_seed = int(time.time())  # fresh seeds that no earlier run has cached
    for component in all_components():
        with translation.override("en"):
            url = reverse("lab:component", args=[component.name])
        client = Client(headers={"HX-Request": "true", "HX-Target": f"lab-{component.name}-result"})
        fresh = [_timed(client, url, {"seed": base_seed + i}) for i in range(RUNS)]
        cached = [_timed(client, url, {"seed": 1}) for _ in range(RUNS)]
        for label, samples in (("fresh ", fresh), ("cached", cached)):
            answered = [elapsed for elapsed, status in samples if status == 200]
            refused = len(samples) - len(answered)
            print(f"  {component.name:20s} {label}: {describe_ms(answered) if answered else 'no answer'}" + (f"   refused {refused}" if refused else ""))


def _timed(client, url: str, query: dict) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get(url, query)
    return time.perf_counter() - started, response.status_code


if __name__ == "__main__":
    main()
