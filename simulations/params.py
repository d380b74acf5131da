"""Parameters of a simulation: defaults, bounds, words, presets, and parsing.

A parameter is described once, here: its bounds, its default, and what a learner
reads beside it (label, unit, help, a label per choice), in English and marked
with ``gettext_noop`` so the web app shows them translated.  Every consumer
parses through :meth:`ParamSpec.parse` (or :meth:`ParamSpec.parse_all`): the
command line, the web forms and the classroom, so a component always receives
typed, checked values (``int`` for whole numbers, ``float``, ``bool``, ``str``)
and never casts them again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .text import gettext_noop

Value = int | float | str | bool

# A number as a person types it, in ASCII only: float() would also take "١٢",
# "1_000", " 12 " and "infinity", which no slider means.
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?")
MAX_RAW_CHARS = 64  # longer than any value a parameter takes

# Why a value was refused; %(name)s placeholders are filled from ParamError.data.
MESSAGES = {
    "required": gettext_noop("a value is required"),
    "too_long": gettext_noop("at most %(n)s characters"),
    "not_a_number": gettext_noop("must be a number, got “%(raw)s”"),
    "not_whole": gettext_noop("must be a whole number, got “%(raw)s”"),
    "too_small": gettext_noop("must be at least %(min)s"),
    "too_large": gettext_noop("must be at most %(max)s"),
    "not_a_choice": gettext_noop("must be one of %(choices)s"),
    "not_a_bool": gettext_noop("must be true or false, got “%(raw)s”"),
    "unknown_param": gettext_noop("unknown parameter (known: %(known)s)"),
    "unknown_preset": gettext_noop("unknown preset “%(raw)s” (known: %(known)s)"),
    # Values that pass their own bounds but not a rule between several (an internal
    # spec, or a component's own check): the reason is in English only.
    "invalid": "%(reason)s",
}


class ParamError(ValueError):
    """A value was refused.  ``field`` names it, ``code`` says why (a key of MESSAGES).

    ``message`` is the English text; ``template`` and ``data`` let the web app show
    it in the reader's language.
    """

    def __init__(self, field: str, code: str, **data: Any) -> None:
        self.field = field
        self.code = code
        self.template = MESSAGES[code]
        self.data = data
        self.message = self.template % data
        super().__init__(f"{field}: {self.message}")


@dataclass(frozen=True)
class Param:
    """One tunable input.  ``kind`` is 'int', 'float', 'choice' or 'bool'.

    ``label``, ``unit``, ``help`` and ``choice_labels`` are English, marked with
    ``gettext_noop``; a choice without a label is shown as its value.
    """

    name: str
    default: Value
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: tuple[str, ...] = ()
    label: str = ""
    unit: str = ""
    help: str = ""
    choice_labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.choices and self.default not in self.choices:
            raise ValueError(f"{self.name}: default {self.default!r} is not a choice")
        unknown = set(self.choice_labels) - set(self.choices)
        if unknown:
            raise ValueError(f"{self.name}: labels for unknown choices {sorted(unknown)}")

    @property
    def kind(self) -> str:
        if self.choices:
            return "choice"
        if isinstance(self.default, bool):
            return "bool"
        if isinstance(self.default, int):
            return "int"
        return "float"

    def coerce(self, raw: Any) -> Value:
        """Turn ``raw`` (a string from a URL, a form or a shell, or a Python value) into a checked value."""
        if isinstance(raw, str):
            if len(raw) > MAX_RAW_CHARS:
                raise ParamError(self.name, "too_long", n=MAX_RAW_CHARS)
            raw = raw.strip()
        kind = self.kind
        if kind == "bool":
            return _parse_bool(self.name, raw)
        if raw == "" or raw is None:
            raise ParamError(self.name, "required")
        if kind == "choice":
            value = raw if isinstance(raw, str) else None
            if value not in self.choices:
                raise ParamError(self.name, "not_a_choice", choices=", ".join(self.choices))
            return value
        number = _parse_number(self.name, raw, integer=(kind == "int"))
        if self.min is not None and number < self.min:
            raise ParamError(self.name, "too_small", min=f"{self.min:g}")
        if self.max is not None and number > self.max:
            raise ParamError(self.name, "too_large", max=f"{self.max:g}")
        return number

    def describe(self) -> dict[str, Any]:
        """The JSON description used by ``simulate --list`` (English words)."""
        out: dict[str, Any] = {"name": self.name, "default": self.default, "kind": self.kind,
                               "label": self.label}
        if self.choices:
            out["choices"] = list(self.choices)
        else:
            for key in ("min", "max", "step"):
                if getattr(self, key) is not None:
                    out[key] = getattr(self, key)
        if self.unit:
            out["unit"] = self.unit
        if self.help:
            out["help"] = self.help
        return out


def _parse_number(name: str, raw: Any, *, integer: bool) -> int | float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise ParamError(name, "not_a_number", raw=_shown(raw))
    if isinstance(raw, str):
        if not _NUMBER.fullmatch(raw):
            raise ParamError(name, "not_a_number", raw=_shown(raw))
        number: int | float = float(raw)
    else:
        number = raw
    if number != number or number in (float("inf"), float("-inf")):
        raise ParamError(name, "not_a_number", raw=_shown(raw))
    if integer:
        if float(number) != int(number):
            raise ParamError(name, "not_whole", raw=_shown(raw))
        return int(number)
    return float(number)


def _shown(raw: Any) -> str:
    text = str(raw)
    return text if len(text) <= 20 else text[:19] + "…"


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _parse_bool(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if raw is None:
        return False
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ParamError(name, "not_a_bool", raw=_shown(raw))


@dataclass(frozen=True)
class ParamSpec:
    """All parameters of one component, with named presets (partial overrides)."""

    params: tuple[Param, ...]
    presets: Mapping[str, Mapping[str, Value]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [p.name for p in self.params]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate parameter names in {names}")
        if "seed" in names or "preset" in names:
            raise ValueError("'seed' and 'preset' are reserved: every run has them")
        for overrides in self.presets.values():
            for name, value in overrides.items():
                self[name].coerce(value)  # a broken preset fails at import, not in a lesson

    def __getitem__(self, name: str) -> Param:
        for param in self.params:
            if param.name == name:
                return param
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def defaults(self) -> dict[str, Value]:
        return {p.name: p.default for p in self.params}

    def parse_all(self, raw: Mapping[str, Any], preset: str | None = None
                  ) -> tuple[dict[str, Value], list[ParamError]]:
        """Defaults, then the preset, then ``raw``; every value checked.

        Returns the values and every refusal (a refused field keeps its default
        or preset value).  Unknown names are refused, so a typo never silently
        runs the default; an unknown preset is refused as the field ``preset``.
        """
        values = self.defaults()
        errors: list[ParamError] = []
        if preset:
            if preset in self.presets:
                values.update(self.presets[preset])
            else:
                errors.append(ParamError("preset", "unknown_preset", raw=_shown(preset),
                                         known=", ".join(self.presets) or "none"))
        for name, value in raw.items():
            if name not in values:
                errors.append(ParamError(_shown(name), "unknown_param", known=", ".join(self.names)))
                continue
            try:
                values[name] = self[name].coerce(value)
            except ParamError as error:
                errors.append(error)
        return values, errors

    def parse(self, raw: Mapping[str, Any], preset: str | None = None) -> dict[str, Value]:
        """As :meth:`parse_all`, raising the first :class:`ParamError` instead of listing them."""
        values, errors = self.parse_all(raw, preset)
        if errors:
            raise errors[0]
        return values

    def matches(self, values: Mapping[str, Value], preset: str) -> bool:
        """Whether ``values`` hold every value of ``preset`` (a chapter note shows only then)."""
        return all(values.get(key) == value for key, value in self.presets[preset].items())
