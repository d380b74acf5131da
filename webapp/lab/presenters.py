"""Every component's presentation, listed once (the web's counterpart of simulations.registry)."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from simulations import registry

from . import ab_dashboard, batching, caching_comparison, microservices, routing_flow
from .presentation import Presentation

PRESENTATIONS: dict[str, Presentation] = {
    p.component: p for p in (
        batching.PRESENTATION,
        caching_comparison.PRESENTATION,
        routing_flow.PRESENTATION,
        ab_dashboard.PRESENTATION,
        microservices.PRESENTATION,
    )
}


def presentation_for(component_name: str) -> Presentation:
    """The presentation of ``component_name``; KeyError if it has none."""
    return PRESENTATIONS[component_name]


def _check() -> None:
    # Every component can be shown, and every presentation shows a component.
    missing = set(registry.COMPONENTS) ^ set(PRESENTATIONS)
    if missing:
        raise ImproperlyConfigured(f"components and presentations differ: {sorted(missing)}")

_check()
