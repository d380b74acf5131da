"""How a component's result is shown: labels, charts, table, summary, notes, code.

Each component has one module in this package (e.g. ``batching.py``) that
builds a :class:`Presentation`; :func:`presentation_for` finds it by name.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from django.utils.translation import gettext

from simulations.component import Note, Result

from .forms import FieldText


@dataclass(frozen=True)
class Chart:
    """One Plotly figure plus its accessible alternative: a caption and a data table."""

    id: str
    title: str
    figure_json: str  # see figure_json(); drawn by static/js/lab.js
    table: Table
    wide: bool = False  # spans the whole panel: long labels, many rows


def figure_json(figure: Any) -> str:
    """A plotly.py figure as JSON that is safe inside a <script> element."""
    text = json.dumps(figure.to_plotly_json(), separators=(",", ":"), default=_plain)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def chart_layout(**extra: Any) -> dict[str, Any]:
    """The layout every lab chart starts from; ``extra`` adds keys or replaces them."""
    # uniformtext hides a bar's label rather than shrinking it into an unreadable sliver.
    return {"margin": {"l": 10, "r": 10, "t": 10, "b": 40}, "height": 340, "font": {"size": 14},
            "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom"},
            "uniformtext": {"minsize": 11, "mode": "hide"}, **extra}


def _plain(value: Any) -> Any:
    # numpy arrays and scalars, should a figure carry them
    return value.tolist() if hasattr(value, "tolist") else str(value)


@dataclass(frozen=True)
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]
    caption: str = ""


@dataclass(frozen=True)
class CodeBlock:
    title: str
    source: str


@dataclass(frozen=True)
class Presentation:
    title: str
    texts: Mapping[str, FieldText]
    charts: Callable[[Result], list[Chart]]
    metrics: Callable[[Result], Table]
    summary: Callable[[Result], str]
    # code -> the component's English note template (marked with gettext_noop in
    # simulations/), translated here and filled from Note.data
    note_texts: Mapping[str, str] = field(default_factory=dict)
    # functions whose source is the code that ran
    code: Sequence[tuple[str, Callable[..., Any]]] = ()

    def note(self, note: Note) -> str:
        template = self.note_texts.get(note.code)
        if template is None:
            return note.text
        return gettext(template) % dict(note.data)

    def code_blocks(self) -> list[CodeBlock]:
        return [CodeBlock(str(title), _source(func)) for title, func in self.code]


# Source files do not change while the app runs: read each function's source once.
_source = functools.cache(inspect.getsource)


def presentation_for(component_name: str) -> Presentation:
    module = import_module(f"webapp.lab.{component_name.replace('-', '_')}")
    return module.PRESENTATION
