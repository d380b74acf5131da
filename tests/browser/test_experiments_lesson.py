"""A learner injects a regression into the canary and watches the controller roll it back."""

from playwright.sync_api import expect

PATH = "/en/lessons/canary-ab-testing/"
STATUS = "#lab-ab-dashboard-status"
RESULT = "#lab-ab-dashboard-result"


def test_injecting_a_regression_rolls_the_canary_back(page, live_url):
    page.goto(live_url + PATH + "?seed=301")
    expect(page.locator(f"{RESULT} [data-chart=canary] .main-svg").first).to_be_attached()
    expect(page.locator(STATUS)).to_contain_text("Canary: promoted")

    box = page.locator("#ab-dashboard-regression_errors")
    box.fill("0.05")
    expect(page.locator(STATUS)).to_contain_text("Canary: rolled back")
    expect(page.locator(f"{RESULT} .metrics")).to_contain_text("rolled back (error rate)")
    expect(page.locator(f"{RESULT} [data-chart=canary]")).to_contain_text("rolled back")
    assert "regression_errors=0.05" in page.url

    box.fill("0")
    expect(page.locator(STATUS)).to_contain_text("Canary: promoted")


def test_the_aa_preset_shows_progress_then_peeking_inflation(page, live_url):
    """500 repetitions looked at every minute come in batches after the rest of the result."""
    page.goto(live_url + PATH + "?seed=302")
    batches, errors = [], []
    page.on("response", lambda response: batches.append(response) if "batch=" in response.url else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.locator("#lab-ab-dashboard-preset-aa-test").click()
    expect(page.locator(STATUS)).to_contain_text("500 A/A repetitions")
    expect(page.locator(f"{RESULT} [data-chart=repetitions] .main-svg").first).to_be_attached()
    expect(page.locator(f"{RESULT} [data-chart=canary] .main-svg").first).to_be_attached()
    assert len(batches) >= 3 and all(response.status == 200 for response in batches)
    assert "of 500 done" in batches[0].text()  # the progress line that replaced itself
    expect(page.locator("#lab-ab-dashboard-pending")).to_have_count(0)
    assert "preset=aa-test" in page.url and "batch=" not in page.url
    assert not errors


def test_the_page_reads_in_chinese_with_its_errata(page, live_url):
    page.goto(live_url + "/zh-hans/lessons/canary-ab-testing/?seed=303")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator(STATUS)).to_contain_text("金丝雀")
    expect(page.locator("#errata-32-6-title")).to_contain_text("勘误")
