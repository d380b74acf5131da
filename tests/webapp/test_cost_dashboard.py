"""The cost lessons, the dashboard's views, the token box and the simulate JSON."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

LESSONS = {"cost-dashboard": "s30-10", "cost-control": "s30-4", "monitoring": "s30-7", "case-study": "s30-9"}
HTMX_RESULT = {"HX-Request": "true", "HX-Target": "tokens-tool-result"}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(("slug", "anchor"), LESSONS.items())
def test_each_cost_lesson_renders_with_its_lab(client, language, slug, anchor):
    response = client.get(f"/{language}/lessons/{slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<section id="{anchor}"' in html
    assert 'id="lab-cost-dashboard-result"' in html
    assert 'data-figure="lab-cost-dashboard-chart-waterfall"' in html
    assert 'class="errata"' in html and 'class="predict"' in html
    assert "{{" not in html and "{%" not in html


def test_the_lessons_open_with_their_presets(client):
    assert 'aria-current="true">book-30.4.2' in client.get("/en/lessons/cost-control/").content.decode()
    assert 'aria-current="true">book-30.9' in client.get("/en/lessons/case-study/").content.decode()


def test_sections_lead_to_their_lessons(client):
    assert client.get("/en/sections/30.4/")["Location"] == "/en/lessons/cost-control/#s30-4"
    assert client.get("/en/sections/30.10/")["Location"] == "/en/lessons/cost-dashboard/#s30-10"
    assert client.get("/en/sections/30.8/")["Location"] == "/en/lessons/cache-warmup/#s30-8"
    warmup = client.get("/en/lessons/cache-warmup/").content.decode()
    assert "/en/lessons/cost-control/#s30-8-3" in warmup  # 30.8.3 is taught with cost control


def test_prompt_compression_is_a_section_of_the_cost_lesson(client):
    for language in ("en", "zh-hans"):
        html = client.get(f"/{language}/lessons/cost-control/").content.decode()
        assert '<section id="s30-8-3"' in html
        assert 'id="tokens-tool-result"' in html and "data-tokens=" in html


def test_the_chapter_figures_in_the_prose_come_from_the_simulation(client):
    html = client.get("/en/lessons/cost-control/").content.decode()
    assert "65.8%" in html and "85%" in html and "90.4%" in html
    html = client.get("/en/lessons/case-study/").content.decode()
    assert "$6.84" in html


def test_a_bad_value_is_a_400_naming_the_field(client):
    response = client.get("/en/lessons/cost-dashboard/", {"max_tokens": "-1"})
    assert response.status_code == 400
    assert "must be at least 0" in response.content.decode()
    response = client.get("/en/lab/cost-dashboard/", {"daily_budget_usd": "lots"},
                          headers={"HX-Request": "true", "HX-Target": "lab-cost-dashboard-result"})
    assert response.status_code == 400
    assert "must be a number" in response.content.decode()


def test_the_dashboard_shows_its_tables_and_the_metrics_text(client):
    html = client.get("/en/lab/cost-dashboard/", {"seed": 3}).content.decode()
    for part in ("lab-cost-dashboard-case", "lab-cost-dashboard-prices", "lab-cost-dashboard-budget",
                 "lab-cost-dashboard-exposition", "# TYPE app_request_duration_seconds histogram",
                 'data-chart="panel-latency"', 'data-chart="budget"'):
        assert part in html


def test_the_monitoring_panels_form_a_grid_below_the_wide_charts(client):
    html = client.get("/en/lab/cost-dashboard/", {"seed": 3}).content.decode()
    figures = re.findall(r'<figure class="chart( wide)?"[^>]*>.*?data-chart="([\w-]+)"', html, re.S)
    narrow = [key for wide, key in figures if not wide]
    assert narrow == ["panel-requests", "panel-latency", "panel-errors", "panel-call-errors", "panel-hits",
                      "panel-tokens", "panel-cost", "panel-in-flight"]
    assert all(wide for wide, key in figures if not key.startswith("panel-"))


def test_the_price_links_switch_to_the_chapter_prices(client):
    html = client.get("/en/lab/cost-dashboard/").content.decode()
    link = re.search(r'id="lab-cost-dashboard-prices-book" href="([^"#]+)', html).group(1)
    page = client.get(link.replace("&amp;", "&")).content.decode()
    assert 'name="price_out_large" value="2.5"' in page
    assert 'name="price_out_small" value="0.15"' in page


# -- the token box ------------------------------------------------------------------------------------

def test_the_token_box_counts_without_javascript(client):
    response = client.get("/en/tools/tokens/", {"text": "This is a sample text for token counting."})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-tokens="9"' in html
    assert "<form" in html and 'name="text"' in html


def test_the_token_box_counts_chinese_and_answers_htmx_with_the_result(client):
    response = client.get("/zh-hans/tools/tokens/", {"text": "为什么这个月扣了我两次费用？", "model": "gpt-4"},
                          headers=HTMX_RESULT)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="tokens-tool-result"')
    assert 'data-tokens="16"' in html  # cl100k_base
    assert html.count('class="tok ') >= 10


def test_long_text_and_unknown_models_are_refused_with_a_message(client):
    response = client.get("/en/tools/tokens/", {"text": "x" * 4001}, headers=HTMX_RESULT)
    assert response.status_code == 400
    html = response.content.decode()
    assert "at most 4,000 characters" in html and "data-tokens" not in html
    assert 'id="tokens-tool-text_errors" class="errors" hx-swap-oob="true"' in html
    response = client.get("/en/tools/tokens/", {"text": "hi", "model": "gpt-5"})
    assert response.status_code == 400
    assert "must be one of" in response.content.decode()


def test_the_token_box_speaks_chinese(client):
    html = client.get("/zh-hans/tools/tokens/", {"text": "hello"}).content.decode()
    assert "数一数" in html or "计数" in html


# -- the command line ---------------------------------------------------------------------------------

def _simulate(*args) -> dict:
    out = StringIO()
    call_command("simulate", "cost-dashboard", *args, stdout=out)
    return json.loads(out.getvalue())


def test_simulate_json_has_the_documented_fields():
    data = _simulate("--seed", "2")
    metrics = data["metrics"]
    assert {"baseline_cost_usd", "optimized_cost_usd", "savings_pct", "before", "after"} <= metrics.keys()
    rows = data["series"]["waterfall"]
    assert [r["lever"] for r in rows] == ["cache", "max_tokens", "routing", "compression", "batching",
                                         "retries_fallbacks"]
    total = sum(Decimal(str(r["saved_usd"])) for r in rows)
    assert total == Decimal(str(metrics["baseline_cost_usd"])) - Decimal(str(metrics["optimized_cost_usd"]))


def test_simulate_presets():
    routed = _simulate("--preset", "book-30.4.2")["metrics"]
    assert routed["savings_pct"] == pytest.approx(65.8)
    case = _simulate("--preset", "book-30.9")["metrics"]
    assert case["before"]["cost_per_day_usd"] == 50.0
    for system in ("before", "after"):
        assert set(case[system]) >= {"qps", "p95_latency_ms", "cost_per_day_usd", "cache_hit_rate", "availability"}


def test_a_run_past_its_time_limit_is_refused_with_a_message(client, settings):
    settings.SIMULATION_WALL_LIMIT_S = 0.001
    response = client.get("/en/lab/cost-dashboard/", {"sample_requests": 200, "seed": 515151},
                          headers={"HX-Request": "true", "HX-Target": "lab-cost-dashboard-result"})
    assert response.status_code == 400
    assert "real time and was stopped" in response.content.decode()
