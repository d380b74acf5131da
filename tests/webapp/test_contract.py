"""Every registered component can be shown, in both languages: a new lab is covered by registering it.

Its own page and its lesson render at the defaults; every label, unit, help text,
code title and note template has a Chinese translation; every chart is valid JSON
with a data table whose rows fit its headers.
"""

from __future__ import annotations

import json

import polib
import pytest
from django.conf import settings
from django.utils import translation

from simulations import registry
from simulations.params import MESSAGES
from webapp.lab.presenters import presentation_for
from webapp.lessons import course

COMPONENTS = sorted(registry.COMPONENTS)
LANGUAGES = ("en", "zh-hans")


@pytest.fixture(scope="module")
def catalogue() -> dict[str, str]:
    po = polib.pofile(str(settings.BASE_DIR / "locale/zh_Hans/LC_MESSAGES/django.po"))
    return {e.msgid: e.msgstr for e in po if e.translated() and "fuzzy" not in e.flags and not e.obsolete}


def _words(name: str) -> list[str]:
    component = registry.get(name)
    words = [component.title, *(ref.title for ref in component.code)]
    for param in component.spec.params:
        words += [w for w in (param.label, param.unit, param.help) if w]
        words += list(param.choice_labels.values())
    return words


@pytest.mark.parametrize("name", COMPONENTS)
def test_every_word_a_learner_reads_is_translated(name, catalogue):
    # A label that is a code name (max_concurrency) reads the same in every language.
    missing = [w for w in _words(name) if w not in catalogue and "_" not in w]
    assert not missing, f"untranslated: {missing}"


@pytest.mark.parametrize("name", COMPONENTS)
def test_every_note_is_translated(name, catalogue):
    component = registry.get(name)
    presets = (None, *component.spec.presets)
    templates = {n.template for p in presets for n in component.execute({}, preset=p).notes}
    missing = [t for t in templates if t not in catalogue]
    assert not missing, f"untranslated notes: {missing}"


def test_every_refusal_is_translated(catalogue):
    assert [m for code, m in MESSAGES.items() if code != "invalid" and m not in catalogue] == []


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", COMPONENTS)
def test_the_lab_has_a_page_of_its_own(client, name, language):
    response = client.get(f"/{language}/lab/{name}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="lab-{name}"' in html and f'id="lab-{name}-result"' in html
    assert 'id="plotly-template"' in html


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", COMPONENTS)
def test_charts_are_json_with_a_table_that_fits(name, language):
    result = registry.get(name).execute({})
    with translation.override(language):
        charts = presentation_for(name).charts(result)
        presentation_for(name).metrics(result)
        summary = presentation_for(name).summary(result)
    assert summary and "%(" not in summary
    assert len({c.key for c in charts}) == len(charts)
    for chart in charts:
        figure = json.loads(chart.figure_json)
        assert figure["data"] and "template" not in figure["layout"], chart.key  # the theme is sent once
        assert "<" not in chart.figure_json
        assert all(len(row) == len(chart.table.headers) for row in chart.table.rows), chart.key


@pytest.mark.parametrize("name", COMPONENTS)
def test_each_component_has_a_lesson(name):
    assert course.lesson_for_component(name) is not None


def test_an_unknown_lab_is_404(client):
    assert client.get("/en/lab/nope/").status_code == 404
