"""Every component of the course, listed once.

The list is explicit, so the set of components and their order are visible in one
place, and no module imports this one back: component modules import only the
contract (:mod:`simulations.component`), this module imports them.
"""

from __future__ import annotations

from .component import Component
from .components import ab_dashboard, batching, caching_comparison, microservices, routing_flow

COMPONENTS: dict[str, Component] = {
    c.name: c for c in (
        batching.COMPONENT,
        caching_comparison.COMPONENT,
        routing_flow.COMPONENT,
        ab_dashboard.COMPONENT,
        microservices.COMPONENT,
    )
}


def get(name: str) -> Component:
    """The component called ``name``; KeyError naming the known ones otherwise."""
    try:
        return COMPONENTS[name]
    except KeyError:
        known = ", ".join(sorted(COMPONENTS)) or "none"
        raise KeyError(f"unknown component {name!r} (known: {known})") from None


def all_components() -> list[Component]:
    return sorted(COMPONENTS.values(), key=lambda c: (_section_key(c.section), c.name))


def _section_key(section: str) -> tuple[int, ...]:
    return tuple(int(part) for part in section.split("."))
