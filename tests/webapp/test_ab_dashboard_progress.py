"""The experiments lab's repetitions arrive after the rest of the result, batch by batch, with progress."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.test import Client

from simulations import registry
from webapp.lab.service import cached_whole

PAGE = "/en/lab/ab-dashboard/"
RESULT = "lab-ab-dashboard-result"
PENDING = "lab-ab-dashboard-pending"
HEAVY = {"preset": "aa-test"}  # 500 repetitions looked at every minute: several batches


def _htmx(client: Client, url: str, target: str, query: dict | None = None):
    return client.get(url, query or {}, headers={"HX-Request": "true", "HX-Target": target})


def _pending(text: str) -> tuple[str, int, int] | None:
    """(next batch's URL, done, total) of the progress element in ``text``, or None."""
    found = re.search(rf'<div id="{PENDING}"[^>]*hx-get="([^"]+)"', text)
    if not found:
        return None
    bar = re.search(r'<progress max="(\d+)" value="(\d+)"', text)
    return html.unescape(found.group(1)), int(bar.group(2)), int(bar.group(1))


@pytest.mark.django_db
def test_a_heavy_run_shows_its_result_first_then_fetches_the_repetitions_with_progress() -> None:
    client = Client()
    first = _htmx(client, PAGE, RESULT, {**HEAVY, "seed": 41})
    assert first.status_code == 200
    text = first.content.decode()
    assert 'data-chart="canary"' in text and 'data-chart="repetitions"' not in text
    assert 'hx-trigger="load"' in text and 'hx-sync="#lab-ab-dashboard-form:drop"' in text
    assert "Computing the repetitions: 0 of 500 done" in text
    url, done, total = _pending(text)
    assert (done, total) == (0, 500) and url.endswith("&batch=0") and "seed=41" in url

    seen = [done]
    for _ in range(20):
        response = _htmx(client, url, PENDING)
        assert response.status_code == 200
        step = _pending(response.content.decode())
        if step is None:
            break
        url, done, _total = step
        seen.append(done)
    else:
        pytest.fail("the batches never ended")
    assert len(seen) >= 3 and seen == sorted(seen) and seen[-1] < 500
    final = response.content.decode()
    assert response["HX-Retarget"] == "closest .lab-result" and response["HX-Reswap"] == "outerHTML"
    assert f'id="{RESULT}"' in final and 'data-chart="repetitions"' in final
    assert "Over 500 A/A repetitions" in final and 'hx-swap-oob="true"' in final  # the status line, too
    assert _pending(final) is None

    # the whole result is now cached, and equal to what one call computes
    component = registry.get("ab-dashboard")
    params = component.spec.parse({}, "aa-test")
    assert json.dumps(cached_whole(component, params, 41).to_dict(), sort_keys=True) == json.dumps(
        component.run_parsed(params, 41).to_dict(), sort_keys=True)
    again = _htmx(client, PAGE, RESULT, {**HEAVY, "seed": 41}).content.decode()
    assert _pending(again) is None and 'data-chart="repetitions"' in again


@pytest.mark.django_db
def test_the_lesson_page_defers_too_and_keeps_its_own_path() -> None:
    text = _htmx(Client(), "/zh-hans/lessons/canary-ab-testing/", RESULT, {**HEAVY, "seed": 42}).content.decode()
    url, done, total = _pending(text)
    assert url.startswith("/zh-hans/lessons/canary-ab-testing/?") and (done, total) == (0, 500)


@pytest.mark.django_db
def test_without_htmx_and_at_the_defaults_the_whole_result_comes_at_once() -> None:
    client = Client()
    page = client.get(PAGE, {**HEAVY, "seed": 43}).content.decode()  # no JavaScript: nothing would fetch the rest
    assert _pending(page) is None and 'data-chart="repetitions"' in page
    quick = _htmx(client, PAGE, RESULT, {"seed": 44}).content.decode()  # one small batch: not worth a request
    assert _pending(quick) is None and 'data-chart="repetitions"' in quick


@pytest.mark.django_db
def test_presets_cancel_a_running_batch() -> None:
    text = Client().get(PAGE).content.decode()
    assert text.count('hx-sync="#lab-ab-dashboard-form:replace"') == len(registry.get("ab-dashboard").spec.presets) + 1


@pytest.mark.django_db
@pytest.mark.parametrize("batch", ["99", "-1", "x"])
def test_a_batch_that_does_not_exist_is_a_400(batch: str) -> None:
    response = _htmx(Client(), PAGE, PENDING, {**HEAVY, "seed": 45, "batch": batch})
    assert response.status_code == 400
    assert "batch: no such batch" in response.content.decode()


@pytest.mark.django_db
def test_bad_values_in_a_batch_request_are_a_400_with_the_fields_message() -> None:
    response = _htmx(Client(), PAGE, PENDING, {**HEAVY, "seed": 46, "batch": "0", "repetitions": "99999"})
    assert response.status_code == 400
    assert "must be at most 5000" in response.content.decode()
