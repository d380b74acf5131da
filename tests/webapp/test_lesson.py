"""The lesson page: full page, htmx partials, and bad input."""

import pytest
from django.utils.html import escape

from tests.webapp.html import text

URL = "/en/lessons/batching-async/"
HTMX_RESULT = {"HX-Request": "true", "HX-Target": "lab-batching-result"}
HTMX_PANEL = {"HX-Request": "true", "HX-Target": "lab-batching"}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_full_page_has_lesson_text_and_live_result(client, language):
    response = client.get(f"/{language}/lessons/batching-async/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<section id="s30-2"' in html and '<section id="s30-3"' in html
    assert 'id="lab-batching"' in html and 'id="lab-batching-result"' in html
    assert 'role="status"' in html
    assert "plotly/plotly.min.js" in html
    assert 'class="errata"' in html


def test_summary_is_translated(client):
    html = client.get("/zh-hans/lessons/batching-async/").content.decode()
    summary = text(html, id="lab-batching-status")
    assert summary.startswith("向 gpt-4o-mini 发送 10 个请求")
    assert "requests" not in summary and "took" not in summary


def test_htmx_rerun_returns_the_result_and_out_of_band_status(client):
    response = client.get(URL, {"requests": 12, "seed": 3}, headers=HTMX_RESULT)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="lab-batching-result"')
    assert "<html" not in html and "<form" not in html  # the learner's fields are never replaced
    assert 'id="lab-batching-status" class="status" role="status" aria-live="polite" data-state="result" hx-swap-oob="true">12 requests' in html
    assert 'id="batching-requests_errors" class="errors" hx-swap-oob="true"></div>' in html  # cleared
    assert response["Vary"] == "HX-Request, HX-Target"


def test_parameters_change_the_numbers(client):
    small = client.get(URL, {"requests": 5}, headers=HTMX_RESULT).content.decode()
    large = client.get(URL, {"requests": 50}, headers=HTMX_RESULT).content.decode()
    assert "5 requests" in small and "50 requests" in large


def test_share_link_carries_every_parameter_and_the_seed(client):
    html = client.get(URL, {"requests": 9, "seed": 11}, headers=HTMX_RESULT).content.decode()
    for part in ("requests=9", "max_concurrency=5", "model=gpt-4o-mini", "seed=11"):
        assert part in html


@pytest.mark.parametrize(
    ("query", "field", "label", "message"),
    [
        ({"requests": 1000}, "requests", "Requests", "must be at most 100"),
        ({"requests": ""}, "requests", "Requests", "a value is required"),
        ({"requests": "many"}, "requests", "Requests", "must be a number, got “many”"),
        ({"requests": "2.5"}, "requests", "Requests", "must be a whole number, got “2.5”"),
        ({"model": "gpt-9"}, "model", "Model", "must be one of gpt-4o"),
        ({"failure_rate": -1}, "failure_rate", "Failure rate", "must be at least 0"),
        ({"seed": -5}, "seed", "Seed", "must be at least 0"),
    ],
)
def test_bad_input_is_a_400_with_the_message_beside_its_field(client, query, field, label, message):
    response = client.get(URL, query)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'<div id="batching-{field}_errors" class="errors"><p class="error">{escape(message)}' in html
    # The status line names the field as its label reads, and the problem.
    assert text(html, id="lab-batching-status").startswith(f"{label}: {message}")


def test_the_status_names_the_field_in_the_readers_language(client):
    html = client.get("/zh-hans/lessons/batching-async/", {"failure_rate": -1}).content.decode()
    assert text(html, id="lab-batching-status").startswith("失败率：")


def test_bad_input_over_htmx_keeps_the_fields_and_the_last_result(client):
    response = client.get(URL, {"requests": 0}, headers=HTMX_RESULT)
    assert response.status_code == 400
    assert response["HX-Reswap"] == "none"  # the last good result stays on screen
    html = response.content.decode()
    assert "<form" not in html and "lab-batching-result" not in html
    assert '<div id="batching-requests_errors" class="errors" hx-swap-oob="true"><p class="error">must be at least 1' in html


def test_two_bad_values_are_both_reported(client):
    html = client.get(URL, {"requests": 0, "max_retries": 9}).content.decode()
    assert "2 values need fixing" in html
    assert "must be at least 1" in html and "must be at most 5" in html


def test_a_preset_over_htmx_swaps_the_whole_panel(client):
    response = client.get(URL, {"preset": "book-30.2"}, headers=HTMX_PANEL)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="lab-batching"')
    assert 'name="max_tokens" value="68"' in html


def test_unknown_preset_is_a_400(client):
    response = client.get(URL, {"preset": "book-99"})
    assert response.status_code == 400
    assert "unknown preset “book-99”" in response.content.decode()


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


def test_a_value_the_run_itself_refuses_is_a_400_not_a_500(client, monkeypatch):
    from simulations import registry
    from simulations.params import ParamError

    component = registry.get("batching")

    def refuses(params, seed):
        raise ParamError("max_concurrency", "invalid", reason="cannot exceed requests here")

    monkeypatch.setattr(type(component), "run_parsed", lambda self, params, seed, limit: refuses(params, seed))
    response = client.get(URL, {"seed": 987})
    assert response.status_code == 400
    assert "max_concurrency: cannot exceed requests here" in response.content.decode()
