"""The contract every interactive component follows.

A component is a :class:`ParamSpec` plus ``run(params, seed) -> Result``.  The
result is plain data (numbers, lists, strings) so it can be cached as JSON,
printed by the command line, charted by the web app and compared in golden tests.
What a result *means* (verdicts, splits, comparisons with the chapter) is computed
here, in ``simulations/``; the web app only words and draws it.

The registry of components is :mod:`simulations.registry`, which imports the
component modules; this module imports none of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import clock
from .clock import wall_limit
from .params import ParamSpec, Value


@dataclass(frozen=True)
class Note:
    """A remark about a result, e.g. where the chapter's figure differs.

    ``code`` names the kind of note; ``template`` is its English wording, marked
    with ``gettext_noop`` so the web app can show it translated; ``data`` fills the
    template's ``%(name)s`` placeholders.
    """

    code: str
    template: str
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.template % dict(self.data)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "text": self.text, "template": self.template, "data": dict(self.data)}


def note(templates: Mapping[str, str], code: str, **data: Any) -> Note:
    """A Note whose English wording is ``templates[code]`` (marked with gettext_noop)."""
    return Note(code, templates[code], data)


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
        data = asdict(self)
        data["notes"] = [n.to_dict() for n in self.notes]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Result:
        fields = dict(data)
        fields["notes"] = [Note(n["code"], n["template"], n["data"]) for n in data.get("notes", [])]
        return cls(**fields)


@dataclass(frozen=True)
class CodeRef:
    """A function whose source a lesson shows as "the code that ran"; ``title`` is marked with gettext_noop."""

    title: str
    function: Callable[..., Any]


@dataclass(frozen=True)
class Deferred:
    """The slow part of a component's result, which a page may compute after the rest, batch by batch.

    ``run`` gives the whole result in one call (what :class:`Component` runs for the
    command line and the tests).  A page can instead show ``first(params, seed)`` at
    once, then ask for the batches one request at a time and show how far it has
    got: ``sizes(params)`` is how much work each batch is, in ``unit`` (marked with
    gettext_noop, e.g. "repetitions"); ``batch(params, seed, index)`` is plain data
    that depends on no other batch; ``complete(first, parts)`` gives exactly what
    ``run`` gives.  With a single batch there is nothing to wait for.
    """

    unit: str
    first: Callable[[Mapping[str, Value], int], Result]
    sizes: Callable[[Mapping[str, Value]], list[int]]
    batch: Callable[[Mapping[str, Value], int, int], Any]
    complete: Callable[[Result, Sequence[Any]], Result]

    def run(self, params: Mapping[str, Value], seed: int) -> Result:
        first = self.first(params, seed)
        parts = []
        for index in range(len(self.sizes(params))):
            clock.check_wall_limit()
            parts.append(self.batch(params, seed, index))
        return self.complete(first, parts)


@dataclass(frozen=True)
class Component:
    """A named simulation.

    ``name`` is the one name from module to URL: ``simulations/components/<name>.py``
    and ``webapp/lab/<name>.py`` with dashes as underscores, ``/<lang>/lab/<name>/``.
    ``title`` is marked with gettext_noop; ``section`` is the chapter section it
    belongs to (e.g. '30.2'); ``code`` is what the lesson shows as the code that ran;
    ``deferred``, when set, is a slow part that a page may fetch after the rest
    (``run`` is then ``deferred.run``, the whole result).
    """

    name: str
    title: str
    section: str
    spec: ParamSpec
    run: Callable[[Mapping[str, Value], int], Result]
    code: Sequence[CodeRef] = ()
    deferred: Deferred | None = None

    def execute(self, raw: Mapping[str, Any], *, preset: str | None = None, seed: int = 0,
                wall_limit_s: float | None = None) -> Result:
        """Parse ``raw`` against the spec and run within ``wall_limit_s`` real seconds.

        Raises ParamError on bad input, clock.SimulationTimeout past the limit.
        """
        return self.run_parsed(self.spec.parse(raw, preset), seed, wall_limit_s)

    def run_parsed(self, params: Mapping[str, Value], seed: int, wall_limit_s: float | None = None) -> Result:
        """Run on values already parsed by ``spec.parse``, within ``wall_limit_s`` real seconds
        (by default :data:`clock.DEFAULT_WALL_LIMIT_S`)."""
        with wall_limit(wall_limit_s):
            return self.run(params, seed)

    def run_first(self, params: Mapping[str, Value], seed: int, wall_limit_s: float | None = None) -> Result:
        """As :meth:`run_parsed`, without the deferred part (the whole result when there is none)."""
        run = self.deferred.first if self.deferred else self.run
        with wall_limit(wall_limit_s):
            return run(params, seed)

    def run_batch(self, params: Mapping[str, Value], seed: int, index: int, wall_limit_s: float | None = None) -> Any:
        """Batch ``index`` of the deferred part, within ``wall_limit_s`` real seconds."""
        if self.deferred is None:
            raise ValueError(f"{self.name} has no deferred part")
        with wall_limit(wall_limit_s):
            return self.deferred.batch(params, seed, index)


def code_version() -> str:
    """A digest of the simulations' source, so cached results die with the code that made them."""
    digest = hashlib.sha256()
    root = Path(__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
