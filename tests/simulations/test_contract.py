"""Every registered component keeps the contract: a new lab is covered by adding it to the registry.

Runs at the defaults and at each preset, the same result twice for a seed, a JSON
round trip that changes nothing, every parameter described for a learner, every
note worded by a template that its data fills.
"""

from __future__ import annotations

import functools
import json

import pytest

from simulations import registry
from simulations.component import Result
from simulations.params import ParamError

COMPONENTS = sorted(registry.COMPONENTS)
RUNS = [(name, preset) for name in COMPONENTS for preset in (None, *registry.get(name).spec.presets)]


@functools.cache
def _run(name: str, preset: str | None, seed: int = 0) -> Result:
    return registry.get(name).execute({}, preset=preset, seed=seed)


def _id(run) -> str:
    name, preset = run
    return f"{name}:{preset or 'defaults'}"


@pytest.mark.parametrize("run", RUNS, ids=_id)
def test_runs_and_says_what_it_ran(run):
    name, preset = run
    result = _run(name, preset)
    component = registry.get(name)
    assert result.component == name
    assert dict(result.params) == component.spec.parse({}, preset)
    assert result.metrics and result.series


@pytest.mark.parametrize("run", RUNS, ids=_id)
def test_same_seed_same_result(run):
    name, preset = run
    again = registry.get(name).execute({}, preset=preset, seed=0)
    assert json.dumps(again.to_dict(), sort_keys=True) == json.dumps(_run(name, preset).to_dict(), sort_keys=True)


@pytest.mark.parametrize("run", RUNS, ids=_id)
def test_json_round_trip_changes_nothing(run):
    result = _run(*run)
    text = json.dumps(result.to_dict(), allow_nan=False)  # no NaN or inf: the web's JSON is strict
    back = Result.from_dict(json.loads(text))
    assert back.to_dict() == json.loads(text)
    assert [n.text for n in back.notes] == [n.text for n in result.notes]


@pytest.mark.parametrize("run", RUNS, ids=_id)
def test_every_note_is_a_template_its_data_fills(run):
    for note in _run(*run).notes:
        assert note.code and note.template
        assert "%(" not in note.text, note.code


@pytest.mark.parametrize("name", COMPONENTS)
def test_every_param_is_described_for_a_learner(name):
    component = registry.get(name)
    assert component.title and component.section and component.code
    for param in component.spec.params:
        assert param.label, f"{name}.{param.name} has no label"
        if param.kind in ("int", "float"):
            assert param.min is not None and param.max is not None, f"{name}.{param.name} is unbounded"
            assert param.step, f"{name}.{param.name} has no step"


@pytest.mark.parametrize("name", COMPONENTS)
def test_values_arrive_typed(name):
    spec = registry.get(name).spec
    raw = {p.name: str(p.default) for p in spec.params}  # strings, as from a URL
    parsed = spec.parse(raw)
    for param in spec.params:
        assert type(parsed[param.name]) is {"int": int, "float": float, "bool": bool, "choice": str}[param.kind]


@pytest.mark.parametrize("name", COMPONENTS)
def test_bad_values_are_refused_with_the_field_named(name):
    spec = registry.get(name).spec
    for param in spec.params:
        if param.kind in ("int", "float"):
            for bad in ("", "nan", "inf", "1e999", "١٢", "x" * 100, str(param.max + 1)):
                with pytest.raises(ParamError) as refused:
                    spec.parse({param.name: bad})
                assert refused.value.field == param.name
