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

RUNS = 200


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
    from webapp.lessons import course

    from .stats import describe_ms

    print(f"Slider latency: server time per htmx re-run at defaults ({RUNS} runs each)")
    base_seed = int(time.time())  # fresh seeds that no earlier run has cached
    for component in all_components():
        # what a slider move asks for: the result element of this component's panel
        client = Client(headers={"HX-Request": "true", "HX-Target": f"lab-{component.name}-result"})
        lesson = course.lesson_for_component(component.name)
        with translation.override("en"):
            url = reverse("lessons:lesson", args=[lesson.slug])
        fresh = [_timed(client, url, {"seed": base_seed + i}) for i in range(RUNS)]
        cached = [_timed(client, url, {"seed": 1}) for _ in range(RUNS)]
        print(f"  {component.name:20s} fresh : {describe_ms(fresh)}")
        print(f"  {component.name:20s} cached: {describe_ms(cached)}")


def _timed(client, url: str, query: dict) -> float:
    started = time.perf_counter()
    response = client.get(url, query)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}: {response.content[:300]!r}")
    return elapsed


if __name__ == "__main__":
    main()
