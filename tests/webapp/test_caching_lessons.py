"""The three caching lessons share one live component with different presets."""

import pytest

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
    assert "L1" in html and "L2" in html


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
