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


def test_moving_a_slider_mid_way_cancels_the_old_batches(page, live_url):
    """The progress line advances; a new value stops the old batches and the new run goes to its end."""
    heavy = "duration_min=1440&peek_every_min=15&repetitions=5000"  # 2 x 5,000 runs of 96 looks: many batches
    requests, failed = [], []
    page.on("request", lambda request: requests.append(request.url) if "/lab/" in request.url
            or "/lessons/" in request.url else None)
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(live_url + "/en/lab/ab-dashboard/?seed=304&traffic_per_min=40")
    page.locator("#ab-dashboard-repetitions").fill("5000")  # before the looks grow: the cap is on their product
    page.locator("#ab-dashboard-peek_every_min").fill("15")
    page.locator("#ab-dashboard-duration_min").fill("1440")
    pending = page.locator("#lab-ab-dashboard-pending")
    expect(pending).to_contain_text(" of 10,000 done")
    expect(pending).not_to_contain_text("Computing the repetitions: 0 of")  # it has moved on
    assert pending.locator("progress").get_attribute("max") == "10000"

    page.locator("#ab-dashboard-traffic_per_min").fill("41")
    expect(page.locator(STATUS)).to_contain_text("5,000 A/A repetitions", timeout=60_000)
    expect(pending).to_have_count(0)

    old = [url for url in requests if "traffic_per_min=40" in url and heavy.split("&")[0] in url]
    new = [url for url in requests if "traffic_per_min=41" in url]
    first_new = requests.index(new[0])
    old_batches = [url for url in old if "batch=" in url]
    assert old_batches and not any(requests.index(url) > first_new for url in old)  # nothing old asked after
    assert "batch=19" not in " ".join(old_batches)  # the old run never reached its last batch
    assert any("batch=19" in url for url in new) and all(url not in failed for url in new)
    assert "traffic_per_min=41" in page.url
