"""A learner opens the batching lesson, moves a slider and sees the result change."""

import re

from playwright.sync_api import expect

PATH = "/en/lessons/batching-async/"
STATUS = "#lab-batching-status"
RESULT = "#lab-batching-result"
REQUESTS = "#batching-requests"


def test_moving_a_slider_reruns_and_updates_numbers_chart_and_url(page, live_url):
    page.goto(live_url + PATH + "?seed=101")
    expect(page.locator(f"{RESULT} .plot .main-svg").first).to_be_attached()  # plotly drew it
    before = page.locator(STATUS).inner_text()
    assert before.startswith("10 requests")

    slider = page.locator("input[type=range][data-mirror=batching-requests]")
    slider.focus()
    for _ in range(15):
        page.keyboard.press("ArrowRight")

    expect(page.locator(STATUS)).to_contain_text("25 requests")
    expect(page.locator(REQUESTS)).to_have_value("25")
    assert re.search(r"[?&]requests=25(&|$)", page.url)
    bars = page.locator(f"{RESULT} [data-chart=timeline] .bars .point")
    expect(bars.first).to_be_attached()
    expect(page.locator(f"{RESULT} [data-chart=timeline] .ytick", has_text="#24").first).to_be_attached()


def test_a_wrong_value_keeps_what_was_typed_and_the_last_chart(page, live_url):
    page.goto(live_url + PATH + "?seed=102")
    box = page.locator(REQUESTS)
    box.fill("150")
    expect(page.locator("#batching-requests_errors")).to_contain_text("must be at most 100")
    expect(page.locator(STATUS)).to_contain_text("Requests: must be at most 100")
    expect(box).to_have_value("150")
    expect(box).to_be_focused()
    expect(page.locator(f"{RESULT} .plot .main-svg").first).to_be_visible()  # the last result stays

    # Correcting it by keyboard gives what was typed, not "50150", and clears the message.
    box.press("End")
    for _ in range(3):
        box.press("Backspace")
    box.type("50")
    expect(page.locator(STATUS)).to_contain_text("50 requests")
    expect(box).to_have_value("50")
    expect(page.locator("#batching-requests_errors")).to_be_empty()


def test_a_shared_link_reproduces_the_result_computed_afresh(page, live_url, redis_client):
    # Both loads run the simulation: the result cache is emptied in between, so the
    # second one proves the run is deterministic, not that the cache remembers.
    url = live_url + PATH + "?requests=7&max_concurrency=2&seed=104"
    shown = []
    for _ in range(2):
        for key in redis_client.scan_iter("llmopslab:result:*"):
            redis_client.delete(key)
        page.goto(url)
        expect(page.locator(f"{RESULT} .share")).to_be_visible()
        expect(page.locator(".share .muted")).to_have_count(0)  # computed, not cached
        shown.append((page.locator(STATUS).inner_text(),
                      page.locator(f"{RESULT} .metrics table").inner_text(),
                      page.locator(f"{RESULT} [data-chart=timeline] + script").text_content()))
    assert shown[0] == shown[1]
    assert shown[0][0].startswith("7 requests")


def test_the_page_reads_in_chinese(page, live_url):
    page.goto(live_url + "/zh-hans" + PATH.removeprefix("/en"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator(STATUS)).to_contain_text("个请求")
