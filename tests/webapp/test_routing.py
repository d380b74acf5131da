"""The routing lesson, its lab and the prompt box endpoint, in both languages."""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.core.management import call_command

from simulations.routing import book, tool

TOOL = "/{lang}/tools/route/"
LESSON = "/{lang}/lessons/model-routing/"
RESULT = {"HX-Request": "true", "HX-Target": "lab-routing-flow-route"}
BOX = {"HX-Request": "true", "HX-Target": "lab-routing-flow-box"}


def _attr(html: str, name: str) -> str:
    found = re.search(rf'{name}="([^"]*)"', html)
    assert found, f"no {name} in the fragment"
    return found.group(1)


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_the_tool_answers_a_fragment_with_the_route(client, lang):
    response = client.get(TOOL.format(lang=lang), {"prompt": "什么是 Python？"}, headers=RESULT)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and 'id="lab-routing-flow-route"' in html
    assert _attr(html, "data-model") == "gpt-3.5-turbo"  # defaults: premium, balanced, our router
    assert _attr(html, "data-complexity") == "simple"
    assert json.loads(_attr(html, "data-path").replace("&quot;", '"')) == [
        "class:simple", "tier:premium", "model:gpt-3.5-turbo"]


def test_the_tool_takes_tier_priority_and_policy(client):
    query = {"prompt": "What is the dress code for a job interview?", "policy": "book", "tier": "enterprise",
             "priority": "quality"}
    html = client.get(TOOL.format(lang="en"), query, headers=RESULT).content.decode()
    assert _attr(html, "data-model") == "claude-3-opus" and _attr(html, "data-complexity") == "specialized"
    assert "dress code" in html  # the rule names the words it fired on
    free = client.get(TOOL.format(lang="en"), {**query, "tier": "free"}, headers=RESULT).content.decode()
    assert _attr(free, "data-model") == "gpt-3.5-turbo"


def test_a_document_too_long_for_the_chapters_choice_fails_and_ours_falls_back(client):
    query = {"prompt": "总结这份合同", "document": "zh-contract"}
    theirs = client.get(TOOL.format(lang="en"), {**query, "policy": "book"}, headers=RESULT).content.decode()
    assert _attr(theirs, "data-model") == "too-long" and "400" in theirs
    ours = client.get(TOOL.format(lang="en"), query, headers=RESULT).content.decode()
    assert _attr(ours, "data-model") == "claude-3-opus"
    refused = client.get(TOOL.format(lang="en"), {"prompt": "Summarize", "document": "en-manual", "tier": "free"},
                         headers=RESULT).content.decode()
    assert _attr(refused, "data-model") == "refused" and "16,385" in refused


def test_without_javascript_the_tool_is_a_page(client):
    empty = client.get(TOOL.format(lang="en"))
    assert empty.status_code == 200 and "<html" in empty.content.decode()
    assert "data-model" not in empty.content.decode()  # nothing routed yet
    page = client.get(TOOL.format(lang="zh-hans"), {"prompt": "Analyse the trade-offs of event sourcing"})
    html = page.content.decode()
    assert page.status_code == 200 and "<html" in html and "路由一个提示词" in html
    assert _attr(html, "data-model") == "gpt-4"
    assert page["Vary"] and "HX-Request" in page["Vary"]


def test_an_htmx_request_for_the_box_gets_the_form_back_filled(client):
    html = client.get(TOOL.format(lang="en"), {"prompt": "Why is division by zero undefined?", "policy": "book"},
                      headers=BOX).content.decode()
    assert html.lstrip().startswith('<section id="lab-routing-flow-box"')
    assert ">Why is division by zero undefined?</textarea>" in html
    assert '<option value="book" selected>' in html


@pytest.mark.parametrize(("query", "message"), [
    ({"prompt": ""}, "Type a prompt to route."),
    ({"prompt": "x" * (tool.MAX_PROMPT_CHARS + 1)}, f"up to {tool.MAX_PROMPT_CHARS} characters"),
    ({"prompt": "hi", "tier": "gold"}, "tier: must be one of free, premium, enterprise"),
    ({"prompt": "hi", "threshold": "nan"}, "threshold: must be a number"),
    ({"prompt": "hi", "document": "../etc/passwd"}, "document: must be one of"),
])
def test_bad_input_is_a_400_with_the_message(client, query, message):
    response = client.get(TOOL.format(lang="en"), query, headers=RESULT)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "data-model" not in response.content.decode()


def test_chinese_messages_for_bad_input(client):
    response = client.get(TOOL.format(lang="zh-hans"), {"prompt": "x" * 1500}, headers=RESULT)
    assert response.status_code == 400 and "1500" in response.content.decode() and "字符" in response.content.decode()


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_the_lesson_renders_with_the_lab_the_box_and_the_errata(client, lang):
    response = client.get(LESSON.format(lang=lang))
    assert response.status_code == 200
    html = response.content.decode()
    for piece in ('id="lab-routing-flow"', 'id="lab-routing-flow-box"', 'data-chart="flow"', 'hx-preserve="true"',
                  'id="errata-32-5-title"', "css/labs/routing-flow.css", "js/labs/routing-flow.js"):
        assert piece in html, piece
    again = book.recompute()
    assert f"${again['avg_cost']:.4f}" in html and f"{again['reduction_vs_claimed_baseline'] * 100:.1f}%" in html
    assert f"${again['monthly']:,.0f}" in html and "8,192" in html
    assert "def build_chain" in html  # the chain the lesson shows is the one the lab runs
    assert "<script>" not in html and 'style="' not in html


def test_the_chinese_lesson_is_in_chinese(client):
    html = client.get(LESSON.format(lang="zh-hans")).content.decode()
    assert "勘误" in html and "本章的路由器" in html and "每个请求去了哪里" in html


def test_the_book_preset_shows_the_chapters_figures_recomputed(client):
    html = client.get(LESSON.format(lang="en"), {"preset": "book-32.5"}).content.decode()
    assert "The chapter&#x27;s figures, recomputed" in html
    assert "$0.0132" in html and "not $0.011" in html
    zh = client.get(LESSON.format(lang="zh-hans"), {"preset": "book-32.5"}).content.decode()
    assert "本章的数字，重新计算" in zh


def test_a_slider_rerun_swaps_the_result_and_keeps_the_box(client):
    headers = {"HX-Request": "true", "HX-Target": "lab-routing-flow-result"}
    response = client.get(LESSON.format(lang="en"), {"threshold": "0.6", "seed": "3"}, headers=headers)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'id="lab-routing-flow-box-keep" class="route-box-keep" hx-preserve="true"' in html
    bad = client.get(LESSON.format(lang="en"), {"threshold": "3"}, headers=headers)
    assert bad.status_code == 400 and "must be at most 1" in bad.content.decode()


def test_the_section_page_leads_to_the_lesson(client):
    response = client.get("/en/sections/32.5/")
    assert response.status_code == 302 and response["Location"].endswith("/lessons/model-routing/#s32-5")


def test_simulate_json_has_the_documented_metrics():
    out = StringIO()
    call_command("simulate", "routing-flow", "--preset", "book-32.5", "--seed", "1", stdout=out)
    data = json.loads(out.getvalue())
    metrics = data["metrics"]
    assert {"avg_cost_per_request_usd", "baseline_avg_cost_per_request_usd", "cost_reduction_pct"} <= metrics.keys()
    for name in ("strongest", "book", "length", "improved", "threshold", "cascade"):
        assert {"avg_cost_per_request_usd", "p95_latency_ms", "mean_quality"} <= metrics["policies"][name].keys()
    assert metrics["baseline_avg_cost_per_request_usd"] == pytest.approx(0.03)


def test_the_reasons_name_classes_tiers_and_priorities_in_the_readers_language(client):
    zh = client.get(TOOL.format(lang="zh-hans"), {"prompt": "什么是 Python？"}, headers=RESULT).content.decode()
    assert "类别为简单，优先级为平衡" in zh and "低于 0.3 为简单" in zh
    reasons = zh.split('<ol class="route-reasons">')[1].split("</ol>")[0]
    assert "balanced" not in reasons and "simple" not in reasons
    book_zh = client.get(TOOL.format(lang="zh-hans"), {"prompt": "Analyze the market", "policy": "book"},
                         headers=RESULT).content.decode()
    assert "COMPLEX，优先级为平衡，高级用户：gpt-3.5-turbo" in book_zh
    en = client.get(TOOL.format(lang="en"), {"prompt": "Write a Python function"}, headers=RESULT).content.decode()
    assert "the class is coding" in en and "Class coding with priority balanced: claude-3-opus." in en


def test_table_notes_sit_below_the_scrolling_tables(client):
    html = client.get(LESSON.format(lang="en"), {"preset": "book-32.5"}).content.decode()
    for key in ("routellm", "trace", "book"):
        assert f'aria-describedby="lab-routing-flow-{key}-note"' in html
        assert f'<p id="lab-routing-flow-{key}-note" class="table-note">' in html
    assert "<caption>" not in html.split('id="lab-routing-flow-routellm"')[1].split("</details>")[0]
    assert "73.6% · 56.0% with its own GPT-4 price" in html and "30.0% with its own GPT-4 latency" in html
    assert "mix (60/30/10)" in html and "per request ($0.002, $0.03)" in html
    zh = client.get(LESSON.format(lang="zh-hans"), {"preset": "book-32.5"}).content.decode()
    assert "（$0.002、$0.03）" in zh


@pytest.mark.parametrize(("headers", "level", "expected"), [
    ({}, None, ("h2", "h3")),  # the tool's own page: below its h1
    (BOX, "2", ("h3", "h4")),  # re-rendered on the lab's own page, whose lab heading is an h2
    (BOX, "3", ("h4", "h5")),  # re-rendered inside a lesson
    (BOX, "9", ("h4", "h5")),  # nonsense: a lesson's levels
])
def test_the_box_keeps_its_headings_one_level_below_the_one_above_it(client, headers, level, expected):
    query = {"prompt": "Why is division by zero undefined?", **({"level": level} if level else {})}
    html = client.get(TOOL.format(lang="en"), query, headers=headers).content.decode()
    box_heading, why_heading = expected
    assert f'<{box_heading} id="lab-routing-flow-box-title">' in html and f"<{why_heading}>Why</{why_heading}>" in html


def test_the_lab_page_tells_the_box_its_level(client):
    html = client.get("/en/lab/routing-flow/").content.decode()
    assert '<h3 id="lab-routing-flow-box-title">' in html and "hx-vals='{\"level\": 2}'" in html
