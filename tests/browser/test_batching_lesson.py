"""A learner opens the batching lesson, moves a slider and sees the result change."""

import re

from playwright.sync_api import expect

PATH = "/en/lessons/batching-async/"


def _status(page) -> str:
    return page.locator("#lab-result .status").inner_text()


def test_moving_a_slider_reruns_and_updates_numbers_chart_and_url(page, live_url):
    page.goto(live_url + PATH)
    expect(page.locator("#chart-wall + .plot, #lab-result .plot").first).to_be_visible()
    expect(page.locator("#lab-result .plot .main-svg").first).to_be_attached()  # plotly drew it
    before = _status(page)
    assert before.startswith("10 requests")

    slider = page.locator("input[type=range][data-mirror=id_requests]")
    slider.focus()
    for _ in range(15):
        page.keyboard.press("ArrowRight")

    expect(page.locator("#lab-result .status")).to_contain_text("25 requests")
    expect(page.locator("#id_requests")).to_have_value("25")
    assert re.search(r"[?&]requests=25(&|$)", page.url)
    assert _status(page) != before
    bars = page.locator("#lab-result [data-figure=chart-timeline] .bars .point")
    expect(bars.first).to_be_attached()


def test_typing_an_out_of_range_value_shows_the_field_message(page, live_url):
    page.goto(live_url + PATH)
    page.fill("#id_requests", "1000")
    expect(page.locator(".field.has-error .error")).to_contain_text("less than or equal to 100")
    expect(page.locator("#lab-result .status")).to_contain_text("out of range")
    expect(page.locator("#id_requests")).to_be_focused()


def test_a_shared_link_reproduces_the_result(page, live_url):
    page.goto(live_url + PATH + "?requests=7&max_concurrency=2&seed=4")
    first = _status(page)
    page.goto(live_url + PATH + "?requests=7&max_concurrency=2&seed=4")
    assert _status(page) == first
    assert first.startswith("7 requests")


def test_the_page_reads_in_chinese(page, live_url):
    page.goto(live_url + "/zh-hans" + PATH.removeprefix("/en"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("#lab-result .status")).to_contain_text("个请求")
