"""Lessons 32.6 and 32.7 in both languages: the lab, the errata, numbers from the simulations."""

from __future__ import annotations

import pytest
from django.test import Client

from simulations.experiments.facts import lesson_facts


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_canary_lesson_renders_with_lab_errata_and_facts(lang: str) -> None:
    response = Client().get(f"/{lang}/lessons/canary-ab-testing/?seed=5")
    assert response.status_code == 200
    html = response.content.decode()
    facts = lesson_facts()
    assert 'id="lab-ab-dashboard"' in html and 'id="errata-32-6-title"' in html
    for key in ("book_steps", "biased_share", "book_rule_aa", "example_needed", "book_shares_10_20_70"):
        assert str(facts[key]) in html
    assert "{{" not in html and "{%" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_summary_links_back_to_every_section_of_chapter_32(lang: str) -> None:
    response = Client().get(f"/{lang}/lessons/chapter-32-summary/")
    assert response.status_code == 200
    html = response.content.decode()
    for number in ("32.1", "32.2", "32.3", "32.4", "32.5", "32.6"):
        assert f'href="/{lang}/sections/{number}/"' in html


@pytest.mark.django_db
def test_sections_redirect_to_their_lessons() -> None:
    client = Client()
    assert client.get("/en/sections/32.6/")["Location"].startswith("/en/lessons/canary-ab-testing/")
    assert client.get("/zh-hans/sections/32.7/")["Location"].startswith("/zh-hans/lessons/chapter-32-summary/")


@pytest.mark.django_db
def test_a_bad_value_is_a_400_with_the_fields_message() -> None:
    response = Client().get("/en/lab/ab-dashboard/?split=2", headers={"HX-Request": "true",
                                                                      "HX-Target": "lab-ab-dashboard-result"})
    assert response.status_code == 400
    assert "must be at most 0.95" in response.content.decode()
    too_big = Client().get("/en/lab/ab-dashboard/?traffic_per_min=500&duration_min=1440")
    assert too_big.status_code == 400
    assert "at most 200,000" in too_big.content.decode()


def test_lesson_code_samples_run() -> None:
    """The code shown in the lesson is real: run the A/B analysis and the mSPRT as printed."""
    import html
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates" / "lessons" / "code"
    for name in ("ab-analysis.py.html", "msprt.py.html", "canary-controller.py.html"):
        text = (root / name).read_text()
        code = html.unescape(re.search(r"<code[^>]*>(.*)</code>", text, re.S).group(1))
        namespace: dict = {}
        exec(compile(code, name, "exec"), namespace)  # noqa: S102 - our own template
        if name == "ab-analysis.py.html":
            assert namespace["assign"]("checkout-button", "user-0") in ("A", "B")
            from simulations.experiments import bucket
            assert namespace["bucket"]("checkout-button", "user-0") == bucket("checkout-button", "user-0")
            assert namespace["users_needed"](0.30, 0.03) == pytest.approx(7524, abs=4)
            assert namespace["analyse"](300, 1000, 360, 1000)["decision"] == "significant"
            assert namespace["analyse"](5000, 10000, 5600, 10600)["decision"].startswith("invalid")
        if name == "msprt.py.html":
            from simulations.experiments import sequential
            expected = float(sequential.msprt(300, 1000, 360, 1000, 0.03))
            assert namespace["msprt_log_lr"](300, 1000, 360, 1000, 0.03) == pytest.approx(expected)
