"""A learner types prompts in the box, sees their route lit up on the flow, and moves the router threshold."""

import re

from playwright.sync_api import expect

PATH = "/{lang}/lessons/model-routing/"


def _route(page):
    return page.locator("#lab-routing-flow-route")


def _flow(page):
    return page.locator('#lab-routing-flow [data-chart="flow"]')


def test_a_chinese_prompt_is_routed_and_highlighted_on_the_flow(page, live_url):
    page.goto(live_url + PATH.format(lang="zh-hans") + "?seed=1")
    expect(_flow(page).locator(".main-svg").first).to_be_attached()
    box = page.locator("#lab-routing-flow-box-prompt")
    box.fill("分析事件溯源和传统 CRUD 数据库用在订单系统里的利弊")
    page.locator("#lab-routing-flow-box-form button[type=submit]").click()
    expect(_route(page)).to_have_attribute("data-complexity", "complex")
    expect(_route(page)).to_have_attribute("data-model", "gpt-4")
    expect(_route(page)).to_contain_text("推理类线索")
    # The flow draws our router too, so the route lights up on it.
    expect(_flow(page)).to_have_attribute("data-highlighted", "class:complex tier:premium model:gpt-4")


def test_the_chapters_router_on_an_english_prompt_and_the_hint_when_the_flow_differs(page, live_url):
    page.goto(live_url + PATH.format(lang="en") + "?seed=1")
    expect(_flow(page).locator(".main-svg").first).to_be_attached()
    page.locator("#lab-routing-flow-box-prompt").fill("What is the dress code for a job interview?")
    page.locator("#lab-routing-flow-box-form select[name=policy]").select_option("book")  # submits on change
    expect(_route(page)).to_have_attribute("data-model", "claude-3-opus")
    expect(_route(page)).to_contain_text("dress code")
    # The flow still draws our router: nothing to highlight, and the box says why.
    expect(_route(page).locator(".route-hint")).to_be_visible()
    expect(_flow(page)).to_have_attribute("data-highlighted", "")


def test_an_example_link_fills_the_box_and_a_too_long_prompt_is_refused(page, live_url):
    page.goto(live_url + PATH.format(lang="en") + "?seed=1")
    page.locator("#lab-routing-flow-box .route-examples a", has_text="总结这份合同").click()
    expect(_route(page)).to_have_attribute("data-model", "claude-3-opus")  # too long for gpt-4: fallback
    expect(page.locator("#lab-routing-flow-box-prompt")).to_have_value("总结这份合同的要点")
    page.locator("#lab-routing-flow-box-prompt").evaluate("el => { el.removeAttribute('maxlength'); }")
    page.locator("#lab-routing-flow-box-prompt").fill("x" * 1200)
    page.locator("#lab-routing-flow-box-form button[type=submit]").click()
    expect(_route(page)).to_contain_text("up to 1000 characters")


def test_moving_the_threshold_reruns_the_lab_and_keeps_the_box(page, live_url):
    page.goto(live_url + PATH.format(lang="en") + "?seed=2")
    expect(_flow(page).locator(".main-svg").first).to_be_attached()
    page.locator("#lab-routing-flow-box-prompt").fill("Prove that there are infinitely many prime numbers")
    page.locator("#lab-routing-flow-box-form button[type=submit]").click()
    expect(_route(page)).to_have_attribute("data-model", "gpt-4")
    row = page.locator("#lab-routing-flow-result .metrics tbody tr", has_text="threshold router")
    before = row.inner_text()

    slider = page.locator("input[type=range][data-mirror=routing-flow-threshold]")
    slider.focus()
    for _ in range(10):  # 0.36 -> 0.56
        page.keyboard.press("ArrowRight")
    expect(page.locator("#routing-flow-threshold")).to_have_value("0.56")
    expect(row).not_to_have_text(before)
    expect(page).to_have_url(re.compile(r"threshold=0\.56"))
    # The box kept the learner's prompt and route through the re-run, and the flow is lit again.
    expect(page.locator("#lab-routing-flow-box-prompt")).to_have_value("Prove that there are infinitely many prime numbers")
    expect(_route(page)).to_have_attribute("data-model", "gpt-4")
    expect(_flow(page)).to_have_attribute("data-highlighted", "class:complex tier:premium model:gpt-4")
