"""The caching comparison's presentation, on real results, in both languages."""

from __future__ import annotations

import json

import pytest
from django.utils import translation

from simulations.component import Result
from simulations.registry import get
from simulations.caching.keyview import APART, MISSED, SHARED, WRONG
from webapp.lab.presentation import code_blocks, note_text
from webapp.lab.presenters import presentation_for

LANGUAGES = ("en", "zh-hans")
CHART_KEYS = ["hit-rate", "latency", "cost", "over-time", "threshold", "pairs", "cache-key"]


@pytest.fixture(scope="module")
def presentation():
    return presentation_for("caching-comparison")


@pytest.fixture(scope="module")
def result():
    return get("caching-comparison").execute({"restart_at": 30, "warmup": True}, seed=0)


@pytest.fixture(scope="module")
def cached_result(result):
    """The result as the web's result cache hands it back: through JSON."""
    return Result.from_dict(json.loads(json.dumps(result.to_dict())))


@pytest.fixture(scope="module")
def book_results():
    component = get("caching-comparison")
    return [component.execute({}, preset=name, seed=0) for name in component.spec.presets]


def _trace_has_data(trace: dict) -> bool:
    return any(trace.get(axis) for axis in ("x", "y", "z"))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("source", ["result", "cached_result"])
def test_every_chart_is_valid_json_with_data_and_a_table(presentation, request, source, language):
    with translation.override(language):
        charts = presentation.charts(request.getfixturevalue(source))
    assert [chart.key for chart in charts] == CHART_KEYS
    for chart in charts:
        figure = json.loads(chart.figure_json)
        assert figure["data"] and all(_trace_has_data(trace) for trace in figure["data"]), chart.key
        assert chart.title and chart.table.rows, chart.key
        assert all(len(row) == len(chart.table.headers) for row in chart.table.rows), chart.key
        assert "<" not in chart.figure_json  # safe inside a <script> element


def test_series_are_told_apart_by_more_than_colour(presentation, result):
    with translation.override("en"):
        charts = {chart.key: json.loads(chart.figure_json) for chart in presentation.charts(result)}
    lines = charts["over-time"]["data"]
    assert len({trace["marker"]["symbol"] for trace in lines}) == len(lines)
    bars = charts["hit-rate"]["data"]
    assert len({trace["marker"]["pattern"]["shape"] for trace in bars}) == len(bars)
    pairs = charts["pairs"]["data"]
    assert {trace["marker"]["symbol"] for trace in pairs} == {"circle", "x"}


def test_the_over_time_chart_marks_the_restart(presentation, result):
    with translation.override("en"):
        chart = next(c for c in presentation.charts(result) if c.key == "over-time")
    shapes = json.loads(chart.figure_json)["layout"]["shapes"]
    assert [shape["x0"] for shape in shapes] == [31]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_summary_states_the_hit_rates_and_the_embedding(presentation, result, language):
    per = result.metrics["strategies"]
    with translation.override(language):
        text = presentation.summary(result)
    for name in ("in_memory", "sqlite", "multi_level", "semantic"):
        assert f"{per[name]['hit_rate'] * 100:.1f}%" in text
    assert f"{per['multi_level']['l1_hit_rate'] * 100:.1f}%" in text
    assert f"{per['in_memory']['hit_rate_after_restart'] * 100:.1f}%" in text
    assert "\n" not in text and "%(" not in text
    if language == "en":
        assert "hashed n-gram vectors" in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_metrics_table_has_a_row_per_strategy(presentation, result, language):
    with translation.override(language):
        table = presentation.metrics(result)
    assert len(table.rows) == 6
    assert table.rows[0][1] == "0.0%"  # no cache, no hits


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_note_is_filled_in(presentation, book_results, language):
    with translation.override(language):
        texts = [note_text(note) for result in book_results for note in result.notes]
    assert len(texts) == 10
    assert all(text and "%(" not in text for text in texts)
    if language == "en":
        assert any("at least 200 ms" in text and "93.75%" in text for text in texts)


def test_the_key_view_marks_wrong_answers_and_needless_misses(result):
    view = result.series["cache_key"]
    rows = {row["without"]: row["verdicts"] for row in view["verdicts"]}
    variants = [v["variant"] for v in view["variants"]]
    full_key, without_model = rows[None], rows["model_name"]
    assert dict(zip(variants, full_key)) == {
        "temperature": APART, "model": APART, "max_tokens": APART, "system_prompt": APART,
        "paraphrase": MISSED, "message_id": SHARED}
    assert without_model[variants.index("model")] == WRONG


def test_the_code_that_ran_is_the_real_source():
    blocks = code_blocks(get("caching-comparison").code)
    sources = "\n".join(block.source for block in blocks)
    assert "async def ask" in sources and "def lookup_with_score" in sources
    assert "MockChatModel(" in sources and "SingleFlight()" in sources
