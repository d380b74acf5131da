"""The OpenAI-compatible mock endpoint: ChatOpenAI against a real daphne, and Django's test clients."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import openai
import pytest
import redis
from django.test import AsyncClient, Client
from langchain_openai import ChatOpenAI

from simulations.profiles import PROFILES
from tests.browser.harness import daphne_server
from webapp.mockllm import faults, views
from webapp.mockllm.faults import FAULT_HEADER, SEEN_HEADER
from webapp.mockllm.openai_format import MAX_BODY_BYTES, MAX_MESSAGES

URL = "/mock/v1/chat/completions"
QUESTION = "What is the capital of France?"
HTTP_TIMEOUT_S = 60.0  # generous: a busy machine must not fail the test


@pytest.fixture(scope="module")
def daphne_url() -> Iterator[str]:
    """A real daphne serving the app, sharing this process's Redis.

    pytest-django's live_server is WSGI, where the view's event loop ends with
    the view: the reply would arrive in one piece, which tests no streaming.
    """
    with daphne_server() as base:
        yield base


def chat_model(base_url: str, **kwargs) -> ChatOpenAI:
    return ChatOpenAI(base_url=f"{base_url}/mock/v1", api_key="any", model="gpt-4o-mini",
                      seed=7, **kwargs)


def body(**fields) -> str:
    return json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": QUESTION}],
                       **fields})


def post(client: Client, payload: str | bytes, **headers: str):
    return client.post(URL, data=payload, content_type="application/json", headers=headers)


def unique_fault(spec: str) -> str:
    return f"{spec}; id={uuid.uuid4().hex}"


# -- ChatOpenAI against daphne ------------------------------------------------------------


def test_invoke_returns_content_and_usage(daphne_url: str) -> None:
    reply = chat_model(daphne_url).invoke(QUESTION)
    assert reply.text.startswith("Paris")
    usage = reply.usage_metadata
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert reply.response_metadata["finish_reason"] == "stop"


def test_stream_gives_the_same_answer_in_pieces(daphne_url: str) -> None:
    llm = chat_model(daphne_url, stream_usage=True)
    chunks = list(llm.stream(QUESTION))
    texts = [chunk.text for chunk in chunks if chunk.text]
    assert len(texts) > 5
    assert "".join(texts) == llm.invoke(QUESTION).text
    usage = [chunk.usage_metadata for chunk in chunks if chunk.usage_metadata]
    assert usage and usage[-1]["output_tokens"] == len(texts)


def test_client_retries_a_429_and_succeeds(daphne_url: str) -> None:
    fault = unique_fault("429; times=1; retry-after=0.1")
    llm = chat_model(daphne_url, max_retries=2, include_response_headers=True,
                     default_headers={FAULT_HEADER: fault})
    reply = llm.invoke(QUESTION)
    assert reply.text.startswith("Paris")
    assert reply.response_metadata["headers"][SEEN_HEADER.lower()] == "2"  # one 429, one success


def test_client_gives_up_after_its_retries(daphne_url: str) -> None:
    llm = chat_model(daphne_url, max_retries=1, default_headers={FAULT_HEADER: unique_fault("500")})
    with pytest.raises(openai.InternalServerError) as failure:
        llm.invoke(QUESTION)
    assert failure.value.response.headers[SEEN_HEADER] == "2"


def test_sse_events_arrive_over_http(daphne_url: str) -> None:
    payload = body(stream=True, stream_options={"include_usage": True}, max_tokens=3)
    with httpx.stream("POST", f"{daphne_url}{URL}", content=payload, timeout=HTTP_TIMEOUT_S,
                      headers={"content-type": "application/json"}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    events = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    assert events[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert [e["choices"][0]["finish_reason"] for e in events if e["choices"]][-1] == "length"
    assert events[-1]["choices"] == [] and events[-1]["usage"]["completion_tokens"] == 3


# -- Django's clients ----------------------------------------------------------------------


def test_models_lists_every_profile(client: Client) -> None:
    response = client.get("/mock/v1/models")
    assert response.status_code == 200
    listed = response.json()
    assert listed["object"] == "list"
    assert [m["id"] for m in listed["data"]] == list(PROFILES)


def test_reply_has_openai_shape(client: Client) -> None:
    response = post(client, body(max_tokens=2))
    assert response.status_code == 200
    data = response.json()
    assert data["object"] == "chat.completion" and data["id"].startswith("chatcmpl-")
    assert data["choices"][0]["message"]["role"] == "assistant"
    assert data["choices"][0]["finish_reason"] == "length"
    assert data["usage"]["completion_tokens"] == 2


@pytest.mark.parametrize(("payload", "status", "param"), [
    (b"{not json", 400, None),
    (b"[]", 400, None),
    (body(model="gpt-99"), 404, "model"),
    (body(max_tokens=0), 400, "max_tokens"),
    (body(max_completion_tokens=PROFILES["gpt-4o-mini"].max_output_tokens + 1), 400, "max_completion_tokens"),
    (body(max_tokens="10"), 400, "max_tokens"),
    (body(n=2), 400, "n"),
    (body(temperature=3), 400, "temperature"),
    (body(seed=2**70), 400, "seed"),
    (body(stream_options={"include_usage": True}), 400, "stream_options"),
    (body(messages=[]), 400, "messages"),
    (body(messages=[{"role": "user", "content": "hi"}] * (MAX_MESSAGES + 1)), 400, "messages"),
    (body(messages=[{"role": "robot", "content": "hi"}]), 400, "messages[0].role"),
    (body(messages=[{"role": ["user"], "content": "hi"}]), 400, "messages[0].role"),
    (body(messages=[{"role": {"user": 1}, "content": "hi"}]), 400, "messages[0].role"),
    (body(messages=[{"role": "user", "content": 5}]), 400, "messages[0].content"),
    (json.dumps({"messages": []}), 400, "model"),
])
def test_bad_requests_name_the_field(client: Client, payload: str | bytes, status: int,
                                     param: str | None) -> None:
    response = post(client, payload)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["param"] == param
    assert error["message"] and error["type"] == "invalid_request_error"


def test_unknown_model_is_openai_404(client: Client) -> None:
    error = post(client, body(model="gpt-99")).json()["error"]
    assert error["code"] == "model_not_found"


def test_body_over_the_cap_is_413(client: Client) -> None:
    huge = body(messages=[{"role": "user", "content": "x" * MAX_BODY_BYTES}])
    assert post(client, huge).status_code == 413


def test_prompt_over_the_context_window_is_400(client: Client) -> None:
    long_prompt = "word " * (PROFILES["gpt-4"].context_window + 100)
    response = post(client, body(model="gpt-4", messages=[{"role": "user", "content": long_prompt}]))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "context_length_exceeded"


def test_wrong_method_is_405(client: Client) -> None:
    assert client.get(URL).status_code == 405
    assert client.post("/mock/v1/models").status_code == 405


def test_head_on_the_model_list_is_allowed(client: Client) -> None:
    assert client.head("/mock/v1/models").status_code == 200


@pytest.mark.parametrize("status", [429, 500, 503])
def test_forced_fault_answers_its_status(client: Client, status: int) -> None:
    response = post(client, body(), **{FAULT_HEADER: unique_fault(str(status))})
    assert response.status_code == status
    assert response.json()["error"]["message"]
    assert response[SEEN_HEADER] == "1"


def test_forced_429_says_when_to_retry(client: Client) -> None:
    response = post(client, body(), **{FAULT_HEADER: unique_fault("429; retry-after=0.25")})
    assert response["retry-after"] == "1"  # whole seconds, rounded up
    assert response["retry-after-ms"] == "250"
    assert response.json()["error"]["code"] == "rate_limit_exceeded"


@pytest.mark.parametrize("spec", ["418", "429; times=0", "429; retry-after=600", "500; colour=red",
                                  "x" * 300])
def test_bad_fault_header_is_400(client: Client, spec: str) -> None:
    response = post(client, body(), **{FAULT_HEADER: spec})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_mock_fail_header"


def test_rate_limit_binds(client: Client, settings) -> None:
    settings.MOCK_LLM_REQUESTS_PER_MINUTE = 1
    # Three requests: even if a clock minute turns between two of them, one is refused.
    responses = [post(client, body(max_tokens=1)) for _ in range(3)]
    refused = [r for r in responses if r.status_code == 429]
    assert refused
    assert 1 <= int(refused[0]["retry-after"]) <= 60


@pytest.fixture
def redis_down(monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse(key: str, ttl_s: int) -> int:
        raise redis.ConnectionError("connection refused")

    monkeypatch.setattr(faults, "_count", refuse)


def test_without_redis_a_forced_fault_is_503(client: Client, redis_down: None) -> None:
    response = post(client, body(), **{FAULT_HEADER: unique_fault("429")})
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "server_error"


def test_without_redis_the_rate_limit_lets_requests_through(client: Client, settings,
                                                            redis_down: None) -> None:
    settings.MOCK_LLM_REQUESTS_PER_MINUTE = 1
    assert all(post(client, body(max_tokens=1)).status_code == 200 for _ in range(2))


# -- streaming in-process ---------------------------------------------------------------------


def sse_data(raw: bytes) -> list[str]:
    return [event.removeprefix("data: ") for event in raw.decode().split("\n\n") if event]


async def read_stream(response) -> list[str]:
    return sse_data(b"".join([part async for part in response.streaming_content]))


def test_stream_under_wsgi_arrives_in_one_piece(client: Client) -> None:
    response = post(client, body(stream=True, max_tokens=3))
    assert response["content-type"] == "text/event-stream"
    events = sse_data(response.content)
    assert events[-1] == "[DONE]"
    assert json.loads(events[-2])["choices"][0]["finish_reason"] == "length"


async def test_stream_without_usage_has_no_usage_chunk() -> None:
    client = AsyncClient()
    whole = await client.post(URL, data=body(max_tokens=5), content_type="application/json")
    response = await client.post(URL, data=body(stream=True, max_tokens=5), content_type="application/json")
    events = await read_stream(response)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all("usage" not in chunk for chunk in chunks)
    streamed = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert streamed == whole.json()["choices"][0]["message"]["content"]


@pytest.mark.parametrize("stream", [False, True])
async def test_a_reply_past_the_time_limit_is_504(monkeypatch: pytest.MonkeyPatch, stream: bool) -> None:
    monkeypatch.setattr(views, "REQUEST_TIME_LIMIT_S", 0.01)  # far below any time to first token
    response = await AsyncClient().post(URL, data=body(stream=stream), content_type="application/json")
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "timeout"
