"""Parameters of a simulation: defaults, bounds, units, presets, and parsing.

One declarative description serves every consumer: the command line parses with
:meth:`ParamSpec.parse`, the web forms build their fields from the same bounds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Value = int | float | str | bool


class ParamError(ValueError):
    """A parameter value was rejected.  ``field`` names it; the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Param:
    """One tunable input.  ``kind`` is 'int', 'float', 'choice' or 'bool'."""

    name: str
    default: Value
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: tuple[str, ...] = ()
    unit: str = ""
    help: str = ""

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
        """Turn ``raw`` (a string from a URL or shell, or a Python value) into a checked value."""
        kind = self.kind
        if kind == "choice":
            value = str(raw)
            if value not in self.choices:
                raise ParamError(self.name, f"must be one of {', '.join(self.choices)}")
            return value
        if kind == "bool":
            return _parse_bool(self.name, raw)
        try:
            number = _parse_number(raw, integer=(kind == "int"))
        except (TypeError, ValueError):
            expected = "a whole number" if kind == "int" else "a number"
            raise ParamError(self.name, f"must be {expected}, got {raw!r}") from None
        if self.min is not None and number < self.min:
            raise ParamError(self.name, f"must be at least {self.min:g}")
        if self.max is not None and number > self.max:
            raise ParamError(self.name, f"must be at most {self.max:g}")
        return number

    def describe(self) -> dict[str, Any]:
        """The JSON description used by ``simulate --list``."""
        out: dict[str, Any] = {"name": self.name, "default": self.default, "kind": self.kind}
        if self.choices:
            out["choices"] = list(self.choices)
        else:
            if self.min is not None:
                out["min"] = self.min
            if self.max is not None:
                out["max"] = self.max
        if self.unit:
            out["unit"] = self.unit
        return out


def _parse_number(raw: Any, *, integer: bool) -> int | float:
    if isinstance(raw, bool):
        raise TypeError("booleans are not numbers here")
    if isinstance(raw, (int, float)):
        number = raw
    else:
        number = float(str(raw).strip())
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError("not finite")
    if integer:
        if float(number) != int(number):
            raise ValueError("not whole")
        return int(number)
    return float(number)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _parse_bool(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ParamError(name, f"must be true or false, got {raw!r}")


@dataclass(frozen=True)
class ParamSpec:
    """All parameters of one component, with named presets (partial overrides)."""

    params: tuple[Param, ...]
    presets: Mapping[str, Mapping[str, Value]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [p.name for p in self.params]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate parameter names in {names}")
        for preset, overrides in self.presets.items():
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

    def parse(self, raw: Mapping[str, Any], preset: str | None = None) -> dict[str, Value]:
        """Defaults, then the preset, then ``raw``; every value checked.

        Unknown names are refused so a typo never silently runs the default.
        Raises :class:`ParamError` for the first bad field.
        """
        values = self.defaults()
        if preset:
            if preset not in self.presets:
                known = ", ".join(self.presets) or "none"
                raise ParamError("preset", f"unknown preset {preset!r} (known: {known})")
            values.update(self.presets[preset])
        for name, value in raw.items():
            if name not in values:
                raise ParamError(name, f"unknown parameter (known: {', '.join(self.names)})")
            values[name] = self[name].coerce(value)
        return values
