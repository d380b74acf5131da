"""The three caching lessons share one live component with different presets."""

import pytest

from tests.webapp.html import text

LESSONS = {"caching-basics": "s30-1", "cache-warmup": "s30-8", "multilevel-cache": "s32-3"}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(("slug", "anchor"), LESSONS.items())
def test_each_caching_lesson_renders_with_its_lab(client, language, slug, anchor):
    response = client.get(f"/{language}/lessons/{slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<section id="{anchor}"' in html
    assert 'id="lab-caching-comparison-result"' in html
    assert 'data-figure="lab-caching-comparison-chart-threshold"' in html
    assert 'class="errata"' in html and 'class="predict"' in html


def test_the_multilevel_lesson_starts_from_the_chapter_preset(client):
    html = client.get("/en/lessons/multilevel-cache/").content.decode()
    assert 'aria-current="true">book-32.3' in html
    assert 'name="l1_size" value="1000"' in html and 'name="requests" value="200"' in html
    # The chapter's notes appear only when the run used the preset's values.
    notes = text(html, css_class="note", tag="aside")
    assert "The chapter expects L1 ≈ 40% and L2 ≈ 35%" in notes


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_lesson_prose_quotes_the_simulations_figures(client, language):
    from simulations.caching import threshold

    pairs = threshold.reference_pairs()
    basics = client.get(f"/{language}/lessons/caching-basics/").content.decode()
    table = text(basics, id="s30-1-pairs-caption")  # the caption names the table
    assert table
    for key in ("capital-france", "enable-2fa/disable-2fa"):
        for embedding in ("hashed", "minilm"):
            assert f"<td>{pairs[key][embedding]:.3f}</td>" in basics
    multilevel = client.get(f"/{language}/lessons/multilevel-cache/").content.decode()
    errata = text(multilevel, css_class="errata", tag="aside")
    assert "200" in errata and "50" in errata  # the floor and the chapter's claim, from book.figures_32_3()


def test_bad_threshold_is_a_400_naming_the_field(client):
    response = client.get("/en/lessons/caching-basics/", {"semantic_threshold": 1.5})
    assert response.status_code == 400
    assert "must be at most 1" in response.content.decode()


def test_json_has_one_object_per_strategy():
    import json
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("simulate", "caching-comparison", "--seed", "3", stdout=out)
    strategies = json.loads(out.getvalue())["metrics"]["strategies"]
    assert set(strategies) == {"none", "in_memory", "sqlite", "redis", "multi_level", "semantic"}
    for metrics in strategies.values():
        assert {"hit_rate", "p50_latency_ms", "p95_latency_ms", "cost_usd", "llm_calls", "wrong_answer_rate"} <= metrics.keys()
