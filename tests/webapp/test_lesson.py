"""The lesson page: full page, htmx partials, and bad input."""

import pytest

URL = "/en/lessons/batching-async/"
HTMX_RESULT = {"HX-Request": "true", "HX-Target": "lab-result"}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_full_page_has_lesson_text_and_live_result(client, language):
    response = client.get(f"/{language}/lessons/batching-async/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<section id="s30-2"' in html and '<section id="s30-3"' in html
    assert 'id="lab-panel"' in html and 'id="lab-result"' in html
    assert 'role="status"' in html
    assert "plotly/plotly.min.js" in html
    assert 'class="errata"' in html


def test_summary_is_translated(client):
    html = client.get("/zh-hans/lessons/batching-async/").content.decode()
    assert "顺序" in html or "逐个" in html


def test_htmx_rerun_returns_only_the_result_partial(client):
    response = client.get(URL, {"requests": 12, "seed": 3}, headers=HTMX_RESULT)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="lab-result"')
    assert "<html" not in html
    assert "12 requests" in html


def test_parameters_change_the_numbers(client):
    small = client.get(URL, {"requests": 5}, headers=HTMX_RESULT).content.decode()
    large = client.get(URL, {"requests": 50}, headers=HTMX_RESULT).content.decode()
    assert "5 requests" in small and "50 requests" in large


def test_share_link_carries_every_parameter_and_the_seed(client):
    html = client.get(URL, {"requests": 9, "seed": 11}, headers=HTMX_RESULT).content.decode()
    for part in ("requests=9", "max_concurrency=5", "model=gpt-4o-mini", "seed=11"):
        assert part in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"requests": 1000}, "less than or equal to 100"),
        ({"requests": "many"}, "Enter a whole number"),
        ({"model": "gpt-9"}, "Select a valid choice"),
        ({"failure_rate": -1}, "greater than or equal to 0"),
        ({"seed": -5}, "greater than or equal to 0"),
    ],
)
def test_bad_input_is_a_400_with_the_field_message(client, query, message):
    response = client.get(URL, query)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_bad_input_over_htmx_swaps_the_whole_panel(client):
    response = client.get(URL, {"requests": 0}, headers=HTMX_RESULT)
    assert response.status_code == 400
    assert response["HX-Retarget"] == "#lab-panel"
    assert response["HX-Reswap"] == "outerHTML"
    assert response.content.decode().lstrip().startswith('<section id="lab-panel"')


def test_unknown_preset_is_a_400(client):
    response = client.get(URL, {"preset": "book-99"})
    assert response.status_code == 400
    assert "book-99" in response.content.decode()


def test_preset_sets_the_fields(client):
    html = client.get(URL, {"preset": "book-30.2"}).content.decode()
    assert 'aria-current="true">book-30.2' in html
    assert 'name="max_tokens" value="68"' in html


def test_a_run_past_its_time_limit_is_refused_with_a_message(client, settings):
    settings.SIMULATION_WALL_LIMIT_S = 0.001
    response = client.get(URL, {"requests": 100, "seed": 987654})
    assert response.status_code == 400
    assert "real time and was stopped" in response.content.decode()


def test_unknown_lesson_is_404(client):
    assert client.get("/en/lessons/nope/").status_code == 404
