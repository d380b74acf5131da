"""Run any component from the shell.

    python manage.py simulate --list
    python manage.py simulate batching --preset book-30.2 --set requests=20 --seed 3 --format table

The JSON output is a documented interface (see README): ``component``,
``params``, ``seed``, ``metrics``, ``series``, ``trace``, ``notes``.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from django.conf import settings

from simulations import registry
from simulations.clock import SimulationDeadlock, SimulationTimeout
from simulations.params import ParamError
from webapp.lessons import course


class Command(BaseCommand):
    help = "Run a simulation component and print its result (json, table or csv)."

    def add_arguments(self, parser):
        parser.add_argument("component", nargs="?", help="component name (see --list)")
        parser.add_argument("--list", action="store_true", help="print every component as JSON")
        parser.add_argument("--preset", help="named preset to start from")
        parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a parameter")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--format", choices=["json", "table", "csv"], default="json")

    def handle(self, *args, **options):
        if options["list"]:
            self.stdout.write(json.dumps([_describe(c) for c in registry.all_components()], indent=2))
            return
        if not options["component"]:
            raise CommandError("give a component name, or --list")
        try:
            component = registry.get(options["component"])
        except KeyError as exc:
            raise CommandError(exc.args[0]) from None
        overrides = dict(_split_assignment(item) for item in options["set"])
        try:
            result = component.execute(overrides, preset=options["preset"], seed=options["seed"],
                                       wall_limit_s=settings.SIMULATION_WALL_LIMIT_S)
        except ParamError as exc:
            raise CommandError(str(exc)) from None
        except (SimulationTimeout, SimulationDeadlock) as exc:
            raise CommandError(f"run stopped: {exc}") from None
        data = result.to_dict()
        writer = {"json": _as_json, "table": _as_table, "csv": _as_csv}[options["format"]]
        self.stdout.write(writer(data))


def _split_assignment(item: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep or not name.strip():
        raise CommandError(f"--set expects KEY=VALUE, got {item!r}")
    return name.strip(), value.strip()


def _describe(component) -> dict[str, Any]:
    return {
        "name": component.name,
        "title": component.title,
        "section": component.section,
        "path": _page_path(component.name),
        "lab_path": _lab_path(component.name),
        "params": [p.describe() for p in component.spec.params],
        "presets": {name: dict(values) for name, values in component.spec.presets.items()},
        # A slow part a page fetches batch by batch (``batch=N``), or None.
        "deferred": None if component.deferred is None else {"batches_at_defaults": len(
            component.deferred.sizes(component.spec.parse({}, None)))},
    }


def _page_path(component_name: str) -> str | None:
    lesson = course.lesson_for_component(component_name)
    if lesson is None:
        return None
    with translation.override("en"):
        try:
            return reverse("lessons:lesson", args=[lesson.slug])
        except NoReverseMatch:
            return None


def _lab_path(component_name: str) -> str:
    with translation.override("en"):
        return reverse("lab:component", args=[component_name])


def _as_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


def _flat_metrics(metrics: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows.extend(_flat_metrics(value, name + "."))
        else:
            rows.append((name, value))
    return rows


def _as_table(data: dict[str, Any]) -> str:
    rows = _flat_metrics(data["metrics"])
    width = max((len(name) for name, _ in rows), default=0)
    lines = [f"{data['component']}  seed={data['seed']}  {json.dumps(data['params'])}"]
    lines += [f"{name.ljust(width)}  {value}" for name, value in rows]
    lines += [f"note: {note['text']}" for note in data["notes"]]
    return "\n".join(lines)


def _as_csv(data: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["metric", "value"])
    writer.writerows(_flat_metrics(data["metrics"]))
    return out.getvalue().rstrip("\n")
