"""The architecture lesson and its lab through the Django client."""

import json
import re

import pytest


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_lesson_renders_every_section_with_the_diagram(client, language):
    response = client.get(f"/{language}/lessons/architecture/")
    assert response.status_code == 200
    html = response.content.decode()
    for anchor in ("s32-1", "s32-2", "s32-4"):
        assert f'<section id="{anchor}"' in html
    assert 'id="lab-microservices-diagram"' in html and 'data-node="llm"' in html
    frames = re.search(r'<script type="application/json" id="lab-microservices-diagram-frames">(.*?)</script>',
                       html, re.S)
    data = json.loads(frames.group(1))
    assert data["frames"] and len(data["words"]) == len(data["frames"])
    assert html.count('class="errata"') == 3 and 'class="predict"' in html
    assert "js/labs/microservices.js" in html and "css/labs/microservices.css" in html
    assert not re.search(r"<script>(?!\s*</script>)", html)  # no inline script code
    assert ' style="' not in html


def test_each_section_page_leads_to_the_lesson(client):
    for number in ("32.1", "32.2", "32.4"):
        response = client.get(f"/en/sections/{number}/")
        assert response.status_code == 302 and "/lessons/architecture/" in response["Location"]


def test_a_bad_value_is_a_400_naming_the_field(client):
    response = client.get("/en/lessons/architecture/", {"max_replicas": 99})
    assert response.status_code == 400
    assert "Max replicas: must be at most 50" in response.content.decode()
    assert client.get("/en/lessons/architecture/", {"failed_service": "dns"}).status_code == 400


@pytest.mark.parametrize("preset, chart", [("book-32.4-burst", "Scenario 1"), ("book-32.4-queue", "Scenario 2")])
def test_the_book_presets_show_the_chapters_table(client, preset, chart):
    html = client.get("/en/lessons/architecture/", {"preset": preset}).content.decode()
    assert chart in html and 'data-chart="book"' in html


def test_a_failed_service_shows_in_the_first_frame_when_it_starts_at_zero(client):
    html = client.get("/en/lab/microservices/", {"failed_service": "rag", "fail_at_s": 0}).content.decode()
    assert re.search(r'class="arch-node down" data-node="rag"', html)
    assert not re.search(r'class="arch-node down" data-node="chat"', html)


def test_the_lessons_sliding_window_sample_runs_on_the_real_redis(redis_client, monkeypatch):
    """The code shown in 32.2, executed as printed: the limit holds and a refusal says when to retry."""
    import html as html_module
    from pathlib import Path

    import redis as redis_module

    source = Path(__file__).resolve().parents[2] / "templates/lessons/code/architecture-sliding-window.html"
    code = html_module.unescape(re.search(r"<code[^>]*>(.*)</code>", source.read_text(), re.S).group(1))
    monkeypatch.setattr(redis_module, "Redis", lambda *a, **k: redis_client)
    namespace: dict = {}
    exec(compile(code, str(source), "exec"), namespace)
    user = f"lesson-sample-{id(namespace)}"
    answers = [namespace["allow"](user, "free") for _ in range(11)]
    assert [a for a, _ in answers].count(True) == 10
    assert answers[-1][0] is False and 55 <= answers[-1][1] <= 60
    redis_client.delete(f"ratelimit:{user}", f"ratelimit:{user}:seq")


LESSON_POINTS = {
    "en": {
        "s32-1": ["monolith", "gateway", "chat", "RAG", "agent", "memory", "orchestrator", "network hop",
                  "scale"],
        "s32-2": ["priorit", "acks_late", "visibility timeout", "task_reject_on_worker_lost", "task_time_limit",
                  "back-off", "peak", "token bucket", "sliding window", "fixed window", "tier", "429",
                  "Retry-After", "Lua", "XAUTOCLAIM", "idempotent"],
        "s32-4": ["ceil(", "tolerance", "CPU", "memory", "queue length", "latency", "selectPolicy",
                  "stabilisation window", "minReplicas", "maxReplicas", "policies", "scaleUp", "scaleDown",
                  "stabilizationWindowSeconds"],
    },
    "zh-hans": {
        "s32-1": ["单体", "网关", "对话", "RAG", "Agent", "记忆", "编排", "网络跳", "扩"],
        "s32-2": ["优先级", "acks_late", "可见性超时", "task_reject_on_worker_lost", "task_time_limit", "退避",
                  "峰值", "令牌桶", "滑动窗口", "固定窗口", "等级", "429", "Retry-After", "Lua", "XAUTOCLAIM",
                  "幂等"],
        "s32-4": ["ceil(", "容差", "CPU", "内存", "队列长度", "延迟", "selectPolicy", "稳定窗口", "minReplicas",
                  "maxReplicas", "scaleUp", "scaleDown", "stabilizationWindowSeconds"],
    },
}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_each_section_teaches_its_points(client, language):
    """Every point the course promises for 32.1, 32.2 and 32.4, in the section it belongs to."""
    html = client.get(f"/{language}/lessons/architecture/").content.decode()
    for anchor, points in LESSON_POINTS[language].items():
        section = re.search(rf'<section id="{anchor}".*?</section>', html, re.S).group(0)
        missing = [point for point in points if point.lower() not in section.lower()]
        assert not missing, f"{anchor} ({language}) lacks {missing}"


def test_simulate_microservices_json_is_the_documented_interface():
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("simulate", "microservices", "--format", "json", "--seed", "3", stdout=out)
    data = json.loads(out.getvalue())
    series, metrics = data["series"], data["metrics"]
    assert all(len(row) == 2 and row[0] >= 0 and row[1] >= 1 for row in series["replicas"])
    for row in series["hpa_decisions"]:
        assert {"t_s", "metric", "current_replicas", "value", "target", "raw_desired", "desired_replicas"} <= set(row)
    for name in ("token_bucket", "sliding_window", "fixed_window"):
        limiter = metrics["limiters"][name]
        assert {"accepted", "rejected", "max_accepted_in_any_window"} <= set(limiter)
    assert metrics["limiters"]["sliding_window"]["max_accepted_in_any_window"] <= metrics["limit_per_window"]
    assert {"enqueued", "completed", "lost", "retried"} <= set(metrics["queue"])
    assert {"chat", "rag", "agent"} <= set(metrics["availability_by_route"])
    assert {"failed_service", "architecture", "acks_late"} <= set(data["params"])


def test_the_lab_draws_its_four_charts_each_with_a_data_table(client):
    html = client.get("/en/lab/microservices/", {"seed": 4, "preset": "book-32.4-burst"}).content.decode()
    for chart in ("tiers", "queue", "replicas", "latency"):
        block = html[html.index(f'data-chart="{chart}"'):]
        block = block[:block.index("</details>")]
        assert "<table" in block, chart  # the chart's numbers in a table
    replicas = html[html.index('data-chart="replicas"'):]
    assert "scaled on" in replicas[:replicas.index("</details>")]  # each change names the metric behind it
