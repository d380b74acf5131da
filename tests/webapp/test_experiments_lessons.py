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
    for key in ("book_steps", "biased_share", "book_rule_aa", "example_needed", "book_shares_10_20_70",
                "example_book_survives", "example_detectable_rate", "aa_peeking", "null_low", "srm_example_p"):
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


def _sample(name: str) -> dict:
    """Run the code sample ``name`` as the lesson prints it; its namespace."""
    import html
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "templates" / "lessons" / "code" / name).read_text()
    code = html.unescape(re.search(r"<code[^>]*>(.*)</code>", text, re.S).group(1))
    namespace: dict = {}
    exec(compile(code, name, "exec"), namespace)  # noqa: S102 - our own template
    return namespace


def test_the_ab_analysis_sample_agrees_with_the_lab() -> None:
    from simulations.experiments import bucket, power

    sample = _sample("ab-analysis.py.html")
    assert sample["assign"]("checkout-button", "user-0") in ("A", "B")
    assert sample["bucket"]("checkout-button", "user-0") == bucket("checkout-button", "user-0")
    assert sample["users_needed"](0.30, 0.03) == power.required_sample_size(0.30, 0.03)["total"]
    assert sample["analyse"](300, 1000, 360, 1000)["decision"] == "significant"
    assert sample["analyse"](5000, 10000, 5600, 10600)["decision"].startswith("invalid")


def test_the_msprt_sample_agrees_with_the_lab() -> None:
    from simulations.experiments import sequential

    expected = float(sequential.msprt(300, 1000, 360, 1000, 0.03))
    assert _sample("msprt.py.html")["msprt_log_lr"](300, 1000, 360, 1000, 0.03) == pytest.approx(expected)


def test_the_canary_sample_promotes_rolls_back_and_tests_like_the_lab(monkeypatch) -> None:
    import asyncio

    from simulations.experiments.stats import excess_errors_p_value

    sample = _sample("canary-controller.py.html")
    policy, window = sample["CanaryPolicy"](), sample["Window"]
    assert sample["excess_errors_p"](window(60, 4, 1140, 5, None, None)) == pytest.approx(
        float(excess_errors_p_value(4, 60, 5, 1140)))

    def release(reading) -> tuple[str, list[float]]:
        weights: list[float] = []

        async def set_weight(weight: float) -> None:
            weights.append(weight)

        async def read_window():
            return reading

        return asyncio.run(sample["release"](policy, set_weight, read_window)), weights

    async def no_wait(_seconds: float) -> None:
        return None

    monkeypatch.setattr(asyncio, "sleep", no_wait)  # the sample's minutes pass at once

    assert release(window(60, 0, 1140, 5, None, None)) == ("promoted", [0.05, 0.15, 0.30, 0.50, 1.0])
    assert release(window(60, 9, 1140, 5, None, None)) == ("rolled_back", [0.05, 0.0])
    assert release(window(10, 0, 1140, 5, None, None)) == ("rolled_back", [0.05, 0.0])  # too little traffic


LESSON_POINTS = {  # (from this heading id, to this one): what the part must teach
    "en": {
        ("s32-6-1", "s32-6-2"): ["traffic", "observation window", "roll", "error rate", "p99", "baseline",
                                 "low traffic"],
        ("s32-6-2", "s32-6-predict"): ["hash", "same variant every time", "sample-ratio mismatch", "chi-square", "p &lt; 0.001",
                                       "confidence interval", "p-value", "sample size", "power", "peek",
                                       "sequential", "mSPRT", "A/A"],
    },
    "zh-hans": {
        ("s32-6-1", "s32-6-2"): ["流量", "观察窗口", "回滚", "错误率", "p99", "基线"],
        ("s32-6-2", "s32-6-predict"): ["哈希", "样本比例失衡", "卡方", "p &lt; 0.001", "置信区间", "p 值", "样本量",
                                       "功效", "偷看", "序贯", "mSPRT", "A/A"],
    },
}


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_each_part_of_32_6_teaches_its_points_and_32_7_asks_one_question_per_lesson(lang: str) -> None:
    html = Client().get(f"/{lang}/lessons/canary-ab-testing/?seed=6").content.decode()
    for (start, end), points in LESSON_POINTS[lang].items():
        part = html[html.index(f'id="{start}"'):html.index(f'id="{end}"')]
        missing = [point for point in points if point.lower() not in part.lower()]
        assert not missing, f"{start} ({lang}) lacks {missing}"
    summary = Client().get(f"/{lang}/lessons/chapter-32-summary/").content.decode()
    review = summary[summary.index('id="s32-7-review"'):]
    questions = review.split('<details class="predict">')[1:]
    linked = [q.split(f'href="/{lang}/sections/')[1][:4] for q in questions if f'href="/{lang}/sections/' in q]
    assert set(linked) >= {"32.1", "32.2", "32.3", "32.4", "32.5", "32.6"} and len(linked) == len(questions)


def test_simulate_ab_dashboard_json_is_the_documented_interface() -> None:
    import json
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("simulate", "ab-dashboard", "--format", "json", "--seed", "7", "--set", "repetitions=40",
                 stdout=out)
    metrics = json.loads(out.getvalue())["metrics"]
    assert {"p_value", "ci_low", "ci_high", "required_sample_size", "decision", "canary_outcome",
            "canary_final_weight"} <= set(metrics)
    assert metrics["canary_outcome"] in ("promoted", "rolled_back") and 0 <= metrics["canary_final_weight"] <= 1
    reps = metrics["repetitions"]
    assert reps["runs"] == 40
    for name in ("false_positive_rate_fixed", "false_positive_rate_peeking", "false_positive_rate_sequential",
                 "power_fixed", "power_peeking", "power_sequential"):  # the default true effect is not zero
        assert 0 <= reps[name] <= 1


@pytest.mark.django_db
def test_the_lab_draws_bands_alpha_the_boundary_the_canary_and_the_repetitions() -> None:
    html = Client().get("/en/lab/ab-dashboard/", {"seed": 8, "regression_errors": "0.05"}).content.decode()
    for chart, pieces in {
        "running": ["A (current): 95% interval", "B (new): 95% interval"],
        "p-values": ["alpha = 0.05", "sequential boundary", "always-valid p-value (mSPRT)"],
        "canary": ["canary's share of traffic", "rolled back"],
        "repetitions": ["one test at the end", "a test at every look", "sequential test (mSPRT)"],
    }.items():
        block = html[html.index(f'data-chart="{chart}"'):]
        block = block[:block.index("</details>")]
        assert "<table" in block, chart
        missing = [piece for piece in pieces if piece not in block.replace("\\u0027", "'")]
        assert not missing, f"{chart} lacks {missing}"
