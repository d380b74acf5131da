"""The contract every interactive component follows, and the registry of them.

A component is a :class:`ParamSpec` plus ``run(params, seed) -> Result``.  The
result is plain data (numbers, lists, strings) so it can be cached as JSON,
printed by the command line, charted by the web app and compared in golden tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .clock import wall_limit
from .params import ParamSpec, Value


@dataclass(frozen=True)
class Note:
    """A remark about a result, e.g. where the chapter's figure differs.

    ``code`` names the kind of note so the web app can show it in the reader's
    language; ``text`` is the English wording; ``data`` fills the placeholders.
    """

    code: str
    text: str
    data: Mapping[str, Any] = field(default_factory=dict)


def note(templates: Mapping[str, str], code: str, **data: Any) -> Note:
    """A Note whose English text is ``templates[code]`` filled from ``data``.

    The templates are marked with ``text.gettext_noop``, so the web app shows the
    same wording translated, filled from the same ``data``.
    """
    return Note(code, templates[code] % data, data)


@dataclass(frozen=True)
class Result:
    component: str
    params: Mapping[str, Value]
    seed: int
    metrics: Mapping[str, Any]
    series: Mapping[str, Any]
    trace: list[Mapping[str, Any]] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Result:
        fields = dict(data)
        fields["notes"] = [Note(**n) for n in data.get("notes", [])]
        return cls(**fields)


@dataclass(frozen=True)
class Component:
    """A named simulation.  ``section`` is the lesson it belongs to (e.g. '30.2')."""

    name: str
    title: str
    section: str
    spec: ParamSpec
    run: Callable[[Mapping[str, Value], int], Result]
    # Real seconds one run may take before it is stopped (see clock.SimulationTimeout).
    wall_limit_s: float = 5.0

    def execute(self, raw: Mapping[str, Any], *, preset: str | None = None, seed: int = 0) -> Result:
        """Parse ``raw`` against the spec and run within the component's time budget.

        Raises ParamError on bad input, clock.SimulationTimeout past the budget.
        """
        params = self.spec.parse(raw, preset)
        with wall_limit(self.wall_limit_s):
            return self.run(params, seed)


_REGISTRY: dict[str, Component] = {}


def register(component: Component) -> Component:
    if component.name in _REGISTRY:
        raise ValueError(f"component {component.name!r} registered twice")
    _REGISTRY[component.name] = component
    return component


def get(name: str) -> Component:
    _load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise KeyError(f"unknown component {name!r} (known: {known})") from None


def all_components() -> list[Component]:
    _load_all()
    return sorted(_REGISTRY.values(), key=lambda c: (c.section, c.name))


def _load_all() -> None:
    # Importing a component module registers it; the list is explicit so the
    # order and the set of components are visible in one place.
    from . import components  # noqa: F401


def code_version() -> str:
    """A digest of the simulations' source, so cached results die with the code that made them."""
    digest = hashlib.sha256()
    root = Path(__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
