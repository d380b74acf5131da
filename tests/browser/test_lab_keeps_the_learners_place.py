"""Keyboard and language: the learner's place survives a preset, a Stop and a change of language."""

import re

from playwright.sync_api import expect

BATCHING = "/en/lessons/batching-async/"
CACHING = "/en/lessons/caching-basics/"


def test_a_preset_chosen_by_keyboard_keeps_the_focus_on_its_pill(page, live_url):
    page.goto(live_url + BATCHING + "?seed=201")
    pill = page.locator("#lab-batching-preset-book-302")
    pill.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#batching-max_tokens")).to_have_value("68")  # the panel was swapped
    expect(page.locator("#lab-batching-preset-book-302")).to_have_attribute("aria-current", "true")
    expect(page.locator("#lab-batching-preset-book-302")).to_be_focused()


def test_defaults_are_the_components_and_the_lessons_preset_is_its_own_pill(page, live_url):
    page.goto(live_url + CACHING)
    # The lesson opens with the chapter's preset: a restart halfway, no TTL.
    expect(page.locator("#lab-caching-comparison-preset-book-301")).to_have_attribute("aria-current", "true")
    expect(page.locator("#caching-comparison-restart_at")).to_have_value("20")
    page.locator("#lab-caching-comparison-preset-defaults").click()
    expect(page.locator("#lab-caching-comparison-preset-defaults")).to_have_attribute("aria-current", "true")
    expect(page.locator("#caching-comparison-restart_at")).to_have_value("0")
    expect(page.locator("#caching-comparison-ttl_s")).to_have_value("3600.0")
    expect(page.locator("#lab-caching-comparison-preset-book-301")).not_to_have_attribute("aria-current", "true")
    # A slider moved from the defaults stays on the defaults, not on the lesson's preset.
    page.locator("#caching-comparison-requests").fill("50")
    expect(page.locator("#lab-caching-comparison-status")).to_contain_text("50")
    assert "preset=&" in page.url or page.url.endswith("preset=")
    expect(page.locator("#caching-comparison-restart_at")).to_have_value("0")


def test_switching_language_keeps_the_current_settings(page, live_url):
    page.goto(live_url + BATCHING + "?seed=202")
    slider = page.locator("input[type=range][data-mirror=batching-requests]")
    slider.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#lab-batching-status")).to_contain_text("13 requests")
    chinese = page.locator("a[hreflang=zh-hans]")
    expect(chinese).to_have_attribute("href", re.compile(r"^/zh-hans/lessons/batching-async/\?.*requests=13"))
    chinese.click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("#batching-requests")).to_have_value("13")
    expect(page.locator("#batching-seed")).to_have_value("202")


def test_stop_hands_the_focus_to_start(page, live_url):
    page.goto(live_url + BATCHING + "#s30-3-stream")
    page.locator("#stream-model").select_option(index=0)
    start, stop = page.locator("[data-stream-start]"), page.locator("[data-stream-stop]")
    expect(start).to_be_enabled()
    start.click()
    expect(stop).to_be_enabled()
    stop.focus()
    page.keyboard.press("Enter")
    expect(page.locator("[data-stream-status]")).to_have_text("Stopped.")
    expect(stop).to_be_disabled()
    expect(start).to_be_focused()


def test_the_chinese_page_suggests_chinese_questions_and_gets_a_chinese_answer(page, live_url):
    page.goto(live_url + "/zh-hans/lessons/batching-async/")
    question = page.locator("#stream-question")
    expect(question).to_have_value(re.compile(r"[\u4e00-\u9fff]"))
    question.fill("法国的首都是哪里？")
    page.locator("[data-stream-start]").click()
    expect(page.locator("[data-stream-output]")).to_contain_text("巴黎", timeout=15_000)
