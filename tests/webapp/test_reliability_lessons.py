"""The reliability lessons (30.5, 30.6, 30.11, 30.12): pages, the decision tree over htmx and without it, bad input."""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils.html import escape

from simulations.reliability import book

LANGUAGES = ("en", "zh-hans")
LESSONS = {"retries": "30.5", "fallbacks": "30.6", "reliability-tree": "30.11", "chapter-30-summary": "30.12"}
TREE = "/en/lessons/reliability-tree/"
PANEL = {"HX-Request": "true", "HX-Target": "lab-reliability-tree"}
RESULT = {"HX-Request": "true", "HX-Target": "lab-reliability-tree-result"}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("slug", list(LESSONS))
def test_each_lesson_renders_with_its_section_and_errata(client, slug, language):
    response = client.get(f"/{language}/lessons/{slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<section id="s{LESSONS[slug].replace(".", "-")}"' in html
    assert 'class="errata"' in html and 'class="predict"' in html
    if slug != "chapter-30-summary":
        assert 'id="lab-reliability-tree"' in html and 'id="lab-reliability-tree-tree"' in html


@pytest.mark.parametrize("slug", list(LESSONS))
def test_each_section_leads_to_its_lesson(client, slug):
    response = client.get(f"/en/sections/{LESSONS[slug]}/")
    assert response.status_code == 302 and response["Location"].startswith(f"/en/lessons/{slug}/")


def test_the_retries_errata_print_what_the_code_really_does(client):
    html = client.get("/en/lessons/retries/").content.decode()
    assert escape(book.with_retry_rejects_chapter_kwargs()) in html
    assert "cannot import name &#x27;RunnableRetry&#x27;" in html
    assert "2, 2, 4, 8" in html  # tenacity's waits for the chapter's wait_exponential(min=2)


def test_the_fallbacks_errata_name_the_hidden_error(client):
    html = client.get("/zh-hans/lessons/fallbacks/").content.decode()
    assert "check_cache" in html and "熔断器" in html
    assert f"{book.chapter_chain_worst_case_s():.1f}" in html


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_summary_asks_questions_that_link_to_every_section_of_chapter_30(client, language):
    html = client.get(f"/{language}/lessons/chapter-30-summary/").content.decode()
    for number in range(1, 12):
        assert f'href="/{language}/sections/30.{number}/"' in html, number


# -- the decision tree -------------------------------------------------------------------


def test_the_tree_starts_with_the_first_question_and_answer_links_that_keep_every_value(client):
    html = client.get(TREE, {"seed": 5, "requests": 12}).content.decode()
    yes = re.search(r'id="lab-reliability-tree-tree-yes"[^>]*href="([^"]+)"[^>]*hx-get="([^"]+)"', html)
    assert yes, "the Yes answer is a link with hx-get"
    href, hx = (x.replace("&amp;", "&") for x in yes.groups())
    assert href.endswith("#lab-reliability-tree-tree") and "tree=y" in href
    assert "requests=12" in hx and "seed=5" in hx and 'hx-target="#lab-reliability-tree"' in html


def test_an_answer_over_htmx_swaps_the_panel_with_the_next_question(client):
    response = client.get(TREE, {"tree": "y", "seed": 5}, headers=PANEL)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="lab-reliability-tree"')
    assert "Are many requests failing at once" in html
    assert '<option value="y" selected>' in html  # the form keeps the position for the next slider move
    assert "Would the same request succeed" in html  # the first answer, in the trail, links back


def test_every_node_of_the_tree_is_a_link_in_the_whole_tree(client):
    html = client.get(TREE, {"tree": "yy"}).content.decode()
    outline = html[html.index('class="tree-outline"'):]
    for path in ("start", "y", "n", "yy", "yn", "yyy", "yyn", "yyyy", "yyyn", "yyny", "yynn"):
        assert f"tree={path}#lab-reliability-tree-tree" in outline, path
    assert 'aria-current="step"' in outline


def test_a_leaf_offers_its_preset_and_then_says_it_is_running(client):
    html = client.get(TREE, {"tree": "n"}).content.decode()
    assert "Do not retry: fix the request" in html
    assert 'href="/en/lessons/reliability-tree/?preset=tree-fail-fast#lab-reliability-tree-tree"' in html
    running = client.get(TREE, {"preset": "tree-fail-fast"}, headers=PANEL).content.decode()
    assert "The simulation is running this leaf's preset (tree-fail-fast)" in running
    assert 'aria-current="true">tree-fail-fast' in running


def test_the_tree_reads_in_chinese(client):
    html = client.get("/zh-hans/lessons/reliability-tree/", {"tree": "yyn"}).content.decode()
    assert "缓存中过时的答案可以接受吗" in html and "问题 4" in html


# -- input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "field", "message"), [
    ({"requests": 1000}, "requests", "must be at most 200"),
    ({"timeout_rate": 0.5}, "timeout_rate", "must be at most 0.15"),
    ({"tree": "yyyyy"}, "tree", "must be one of"),
    ({"fallbacks": "gpt-5"}, "fallbacks", "must be one of"),
])
def test_bad_values_are_a_400_with_the_message_beside_the_field(client, query, field, message):
    response = client.get(TREE, query)
    assert response.status_code == 400
    assert f'<div id="reliability-tree-{field}_errors" class="errors"><p class="error">{escape(message)}' in \
        response.content.decode()


def test_a_slider_move_returns_the_result_with_the_tree_in_it(client):
    response = client.get(TREE, {"requests": 10, "tree": "yn", "seed": 2}, headers=RESULT)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="lab-reliability-tree-result"')
    assert "Retry with exponential back-off and jitter" in html and "10 requests to gpt-4o" in html


def test_simulate_prints_the_documented_json(db):
    out = StringIO()
    call_command("simulate", "reliability-tree", "--format", "json", "--seed", "1", stdout=out)
    result = json.loads(out.getvalue())
    for name in ("no_retry", "retry", "fallback", "breaker", "full"):
        assert {"availability", "p95_latency_ms", "cost_usd", "provider_calls_per_request"} <= set(
            result["metrics"]["strategies"][name])
    assert all(state in ("closed", "open", "half_open") for _, state in result["series"]["breaker_state"])


def test_a_run_past_its_time_limit_is_refused_with_a_message(client, settings):
    settings.SIMULATION_WALL_LIMIT_S = 0.001
    response = client.get(TREE, {"requests": 200, "seed": 424242})
    assert response.status_code == 400
    assert "real time and was stopped" in response.content.decode()
