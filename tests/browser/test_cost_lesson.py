"""A learner toggles a cost lever and sees the waterfall and the numbers change; types text into the token box."""

import re

from playwright.sync_api import expect

PATH = "/en/lessons/cost-dashboard/"
RESULT = "#lab-cost-dashboard-result"
STATUS = "#lab-cost-dashboard-status"
CACHE_BOX = "#cost-dashboard-cache"
CSP_WATCH = """window.__csp = [];
document.addEventListener("securitypolicyviolation", e => window.__csp.push(`${e.violatedDirective} ${e.sample}`));"""


def _waterfall_rows(page) -> dict[str, str]:
    chart = page.locator("figure.chart", has=page.locator("[data-chart=waterfall]"))
    rows = chart.locator("table tbody tr")  # inside a closed <details>: not rendered, still there
    out = {}
    for i in range(rows.count()):
        cells = rows.nth(i).locator("th, td").all_text_contents()
        out[cells[0]] = cells[1]
    return out


def test_switching_the_cache_off_changes_the_waterfall_and_the_bill(page, live_url):
    page.add_init_script(CSP_WATCH)
    page.goto(live_url + PATH + "?seed=11")
    expect(page.locator(f"{RESULT} [data-chart=waterfall] .main-svg").first).to_be_attached()
    before_status = page.locator(STATUS).inner_text()
    before_rows = _waterfall_rows(page)
    assert float(before_rows["exact cache"]) > 0

    page.locator(CACHE_BOX).uncheck()

    expect(page.locator(STATUS)).not_to_have_text(before_status)
    expect(page.locator(STATUS)).to_contain_text("The cache answered 0% of requests")
    assert re.search(r"[?&]cache=off(&|$)", page.url)
    after_rows = _waterfall_rows(page)
    assert float(after_rows["exact cache"]) == 0
    assert after_rows["routing"] != before_rows["routing"]  # routing now acts on every request
    metrics = page.locator(f"{RESULT} .metrics table").inner_text()
    assert "0.0%" in metrics  # the cache hit rate row
    expect(page.locator(f"{RESULT} [data-chart=waterfall] .main-svg").first).to_be_attached()
    page.evaluate("document.querySelectorAll('#lab-cost-dashboard details').forEach(d => d.open = true)")
    expect(page.locator(f"{RESULT} [data-chart=panel-cost] .main-svg").first).to_be_attached()
    page.wait_for_timeout(300)
    assert page.evaluate("window.__csp") == []  # the swapped result and its charts keep to the policy


def test_the_price_link_switches_to_the_chapter_prices(page, live_url):
    page.goto(live_url + PATH + "?seed=12")
    page.locator("#lab-cost-dashboard-prices-book").click()
    expect(page.locator("#cost-dashboard-price_out_large")).to_have_value("2.5")
    expect(page.locator("#lab-cost-dashboard-prices table")).to_contain_text("$2.50")


def test_typing_in_the_token_box_recounts(page, live_url):
    page.goto(live_url + "/zh-hans/lessons/cost-control/")
    result = page.locator("#tokens-tool-result")
    expect(result).to_have_attribute("data-tokens", re.compile(r"\d+"))
    page.locator("#tokens-tool-text").fill("为什么这个月扣了我两次费用？")
    expect(result).to_have_attribute("data-tokens", "10")
    page.locator("#tokens-tool-model").select_option("gpt-4")
    expect(result).to_have_attribute("data-tokens", "16")
    page.locator("#tokens-tool-text").fill("x" * 4001)
    expect(page.locator("#tokens-tool-text_errors")).to_contain_text("4,000")


def test_the_token_page_fits_a_phone_and_passes_axe(browser, live_url):
    from . import axe

    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(live_url + "/zh-hans/tools/tokens/?text=" + "为什么这个月扣了我两次费用？")
        expect(page.locator("#tokens-tool-result")).to_have_attribute("data-tokens", "10")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        found = axe.violations(page)
        assert not found, "axe-core found:\n" + axe.report(found)
    finally:
        context.close()
