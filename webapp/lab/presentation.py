"""How a component's result is shown: charts, tables, a summary, widgets.

Each component has one module in this package, named as the component is
(``webapp/lab/<name>.py``, dashes as underscores), that builds a
:class:`Presentation`; :mod:`.presenters` lists them.  This module holds what
they share: the one way to build a chart (plain figure dicts in Plotly's schema,
with one layout and the theme sent once per page), tables, number formats.

Charts are plain dictionaries rather than plotly.py objects: a page redraws
several charts on every slider move, and building and validating plotly.py's
object tree for them took longer than most simulations.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import plotly.io as pio
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext as _

from simulations.component import CodeRef, Note, Result

PERCENT = 100.0


# -- charts -------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]
    caption: str = ""


@dataclass(frozen=True)
class Chart:
    """One Plotly figure plus its accessible alternative: a caption and a data table.

    ``key`` is unique within the component (``wall``, ``hit-rate``); the page's
    element ids add the component's name, so one page can hold several labs.
    """

    key: str
    title: str
    figure: dict[str, Any]  # {"data": [...], "layout": {...}}, see figure()
    table: Table
    wide: bool = False  # spans the whole panel: long labels, many rows

    @property
    def figure_json(self) -> str:
        return script_json(self.figure)


def figure(traces: list[dict[str, Any]], **layout: Any) -> dict[str, Any]:
    """A figure in Plotly's JSON schema: ``traces`` and the shared layout updated by ``layout``.

    The theme (plotly.py's default template) is not in it: the page sends it once
    (:func:`plotly_template_json`) and static/js/lab.js applies it to every chart.
    """
    return {"data": traces, "layout": chart_layout(**layout)}


def chart_layout(**extra: Any) -> dict[str, Any]:
    """The layout every lab chart starts from; ``extra`` adds keys or replaces them."""
    # uniformtext hides a bar's label rather than shrinking it into an unreadable sliver.
    return {"margin": {"l": 10, "r": 10, "t": 10, "b": 40}, "height": 340, "font": {"size": 14},
            "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom"},
            "uniformtext": {"minsize": 11, "mode": "hide"}, **extra}


def marked(layout: dict[str, Any], *, x: float | None = None, y: float | None = None,
           label: str | None = None) -> dict[str, Any]:
    """``layout`` plus a dashed marker line at ``x`` (vertical) or ``y`` (horizontal), with its label.

    What plotly.py's ``add_vline`` / ``add_hline`` add; several calls add several lines.
    """
    if (x is None) == (y is None):
        raise ValueError("give x or y")
    if x is not None:
        line = {"type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain"}
        note = {"x": x, "xanchor": "left", "xref": "x", "y": 1, "yanchor": "top", "yref": "y domain"}
    else:
        line = {"type": "line", "y0": y, "y1": y, "yref": "y", "x0": 0, "x1": 1, "xref": "x domain"}
        note = {"y": y, "yanchor": "bottom", "yref": "y", "x": 1, "xanchor": "right", "xref": "x domain"}
    out = {**layout, "shapes": [*layout.get("shapes", []), {**line, "line": {"dash": "dash"}}]}
    if label is not None:
        out["annotations"] = [*layout.get("annotations", []), {"showarrow": False, "text": label, **note}]
    return out


@functools.cache
def _template(name: str) -> dict[str, Any]:
    return pio.templates[name].to_plotly_json()


@functools.cache
def plotly_template_json() -> str:
    """The theme every chart shares (plotly.py's default), as JSON for a <script> element."""
    return script_json(_template(pio.templates.default))


def script_json(value: Any) -> str:
    """``value`` as JSON that is safe inside a <script type="application/json"> element."""
    text = json.dumps(value, separators=(",", ":"), default=_plain, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _plain(value: Any) -> Any:
    # numpy arrays and scalars, should a figure carry them
    return value.tolist() if hasattr(value, "tolist") else str(value)


# -- numbers as a learner reads them ----------------------------------------------


def pct(rate: float, digits: int = 1) -> str:
    """A share (0.25) as a percentage ("25.0%")."""
    return f"{rate * PERCENT:.{digits}f}%"


def ms(value: float) -> str:
    """Milliseconds, with the precision their size needs (0.05 ms, 240 ms, 1.25 s)."""
    if value < 10:
        return _("%(n)s ms") % {"n": f"{value:.2f}"}
    if value < 1000:
        return _("%(n)s ms") % {"n": f"{value:.0f}"}
    return seconds(value / 1000)


def seconds(value: float) -> str:
    return _("%(n)s s") % {"n": f"{value:.2f}"}


def usd(value: float, digits: int = 4) -> str:
    return f"${value:.{digits}f}"


def sentences(parts: Sequence[str]) -> str:
    """Sentences in the reader's language, one after another: spaced in English, not in Chinese."""
    language = get_language() or ""
    return ("" if language.lower().startswith("zh") else " ").join(part for part in parts if part)


# -- the presentation of one component -------------------------------------------------


@dataclass(frozen=True)
class CodeBlock:
    title: str
    source: str


@dataclass(frozen=True)
class Widget:
    """A partial template shown in the result, above the charts (a diagram, a decision tree).

    ``template`` is rendered with the panel's context plus ``context``; any id it
    uses should start with the panel's ``dom_id`` so a page can hold several labs.
    """

    template: str
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Presentation:
    """What the web shows for one component; labels and units come from its Params."""

    component: str
    charts: Callable[[Result], list[Chart]]
    metrics: Callable[[Result], Table]
    summary: Callable[[Result], str]
    widgets: Callable[[Result], list[Widget]] = lambda result: []


def note_text(note: Note) -> str:
    """A note in the reader's language: its English template translated, then filled."""
    return gettext(note.template) % dict(note.data)


def code_blocks(code: Sequence[CodeRef]) -> list[CodeBlock]:
    return [CodeBlock(gettext(ref.title), _source(ref.function)) for ref in code]


# Source files do not change while the app runs: read each function's source once.
_source = functools.cache(inspect.getsource)
