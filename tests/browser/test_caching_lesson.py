"""A learner moves the semantic threshold and sees hits and wrong answers change."""

from playwright.sync_api import expect

PATH = "/en/lessons/caching-basics/"


def _metrics_row(page, strategy: str) -> list[str]:
    row = page.locator("#lab-caching-comparison-result .metrics table tbody tr", has_text=strategy).first
    return row.locator("th, td").all_inner_texts()


def _pairs_table(page) -> str:
    chart = page.locator("figure.chart", has=page.locator("[data-chart=pairs]"))
    return chart.locator("table").text_content()  # inside a closed <details>: not rendered, still there


def test_moving_the_threshold_changes_the_semantic_results(page, live_url):
    page.goto(live_url + PATH + "?semantic_threshold=0.9&seed=1")
    expect(page.locator("#lab-caching-comparison-result .plot .main-svg").first).to_be_attached()
    before_row = _metrics_row(page, "semantic")
    before_pairs = _pairs_table(page)

    slider = page.locator("input[type=range][data-mirror=caching-comparison-semantic_threshold]")
    slider.focus()
    for _ in range(30):  # 0.90 -> 0.60
        page.keyboard.press("ArrowLeft")

    expect(page.locator("#caching-comparison-semantic_threshold")).to_have_value("0.6")
    expect(page.locator("#lab-caching-comparison-status")).to_contain_text("threshold 0.6")
    after_row = _metrics_row(page, "semantic")
    assert after_row != before_row  # hit rate and wrong answers moved
    assert _pairs_table(page) != before_pairs  # the "at the threshold" column changed
    assert "semantic_threshold=0.6" in page.url


def test_the_page_names_the_active_embedding(page, live_url):
    page.goto(live_url + PATH)
    expect(page.locator("#lab-caching-comparison-result")).to_contain_text("hashed n-gram")
