"""The code the reliability lessons print runs, and does what the lessons say it does.

Each sample is read from its template (the one both languages include), unescaped
and executed with the providers' clients replaced by fakes that fail on cue with
the real ``openai`` exceptions; waits are recorded (``time.sleep``) or taken on
the virtual clock, never slept.
"""

from __future__ import annotations

import html
import re
import sys
import time
import types
from pathlib import Path

import httpx
import langchain_openai
import openai
import pytest
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableLambda

from simulations.clock import now, run_virtual

CODE = Path(__file__).resolve().parents[2] / "templates" / "lessons" / "code"
REQUEST = httpx.Request("POST", "https://api.example.test/v1/chat/completions")


def sample(name: str) -> tuple[str, str]:
    path = CODE / f"reliability-{name}.html"
    code = re.search(r"<code[^>]*>(.*)</code>", path.read_text(), re.S).group(1)
    return html.unescape(code), str(path)


def run_sample(name: str, namespace: dict | None = None) -> dict:
    code, path = sample(name)
    namespace = {} if namespace is None else namespace
    exec(compile(code, path, "exec"), namespace)
    return namespace


def failure(status: int, retry_after: str | None = None) -> Exception:
    """The exception the OpenAI client raises for an HTTP status (or a timeout, status 0)."""
    if status == 0:
        return openai.APITimeoutError(request=REQUEST)
    headers = {"retry-after": retry_after} if retry_after else {}
    response = httpx.Response(status, request=REQUEST, headers=headers)
    kind = {400: openai.BadRequestError, 401: openai.AuthenticationError, 429: openai.RateLimitError,
            500: openai.InternalServerError, 503: openai.InternalServerError}[status]
    return kind(f"error {status}", response=response, body=None)


class FakeModel:
    """A chat model that raises the queued failures, in order, then answers as ``model``."""

    def __init__(self, model: str, failures: list[Exception] | None = None) -> None:
        self.model, self.failures, self.inputs = model, list(failures or ()), []

    def answer(self, input_):
        self.inputs.append(input_)
        if self.failures:
            raise self.failures.pop(0)
        return AIMessage(f"answer from {self.model}", response_metadata={"model_name": self.model})

    def runnable(self) -> RunnableLambda:
        return RunnableLambda(self.answer, afunc=self._aanswer, name=self.model)

    async def _aanswer(self, input_):
        return self.answer(input_)


@pytest.fixture
def sleeps(monkeypatch):
    """Every time.sleep tenacity asks for, recorded instead of slept."""
    asked: list[float] = []
    monkeypatch.setattr(time, "sleep", asked.append)
    return asked


def _openai_client(monkeypatch, fake: FakeModel) -> list[dict]:
    made: list[dict] = []

    def chat_openai(**kwargs):
        made.append(kwargs)
        return fake.runnable()

    monkeypatch.setattr(langchain_openai, "ChatOpenAI", chat_openai)
    return made


# -- 30.5: with_retry, as the lesson writes it -------------------------------------------------


def test_the_with_retry_sample_retries_timeouts_and_5xx_with_the_waits_it_names(monkeypatch, sleeps):
    fake = FakeModel("gpt-4o-mini", [failure(0), failure(500)])
    made = _openai_client(monkeypatch, fake)
    namespace = run_sample("with-retry")
    assert made == [{"model": "gpt-4o-mini", "timeout": 10, "max_retries": 0}]  # one retry layer only
    assert namespace["reply"].content == "answer from gpt-4o-mini"
    assert len(fake.inputs) == 3  # stop_after_attempt=3: three attempts, two retries
    assert len(sleeps) == 2 and 1 <= sleeps[0] <= 2 and 2 <= sleeps[1] <= 3  # "waits 1-2 s, then 2-3 s"


@pytest.mark.parametrize("status", [400, 401])
def test_the_with_retry_sample_never_retries_a_400_or_a_401(monkeypatch, sleeps, status):
    fake = FakeModel("gpt-4o-mini", [failure(status), failure(status)])
    _openai_client(monkeypatch, fake)
    with pytest.raises((openai.BadRequestError, openai.AuthenticationError)):
        run_sample("with-retry")
    assert len(fake.inputs) == 1 and sleeps == []


def test_the_with_retry_sample_gives_up_after_three_attempts(monkeypatch, sleeps):
    fake = FakeModel("gpt-4o-mini", [failure(503)] * 5)
    _openai_client(monkeypatch, fake)
    with pytest.raises(openai.InternalServerError):
        run_sample("with-retry")
    assert len(fake.inputs) == 3 and len(sleeps) == 2


# -- 30.5: honouring retry-after with tenacity -------------------------------------------------


def test_the_retry_after_sample_waits_what_the_429_asks():
    fake = FakeModel("gpt-4o-mini", [failure(429, retry_after="7")])
    namespace = run_sample("retry-after", {"TRANSIENT": (openai.RateLimitError, openai.InternalServerError)})

    async def main():
        reply = await namespace["ask"](fake.runnable(), "Hello")
        return reply, now()

    reply, finished = run_virtual(main)
    assert reply.content == "answer from gpt-4o-mini"
    assert finished == pytest.approx(7.0, abs=1e-6)  # the second attempt starts when the 429 said


def test_the_retry_after_sample_backs_off_without_the_header_and_stops_at_three_attempts():
    fake = FakeModel("gpt-4o-mini", [failure(500)] * 5)
    namespace = run_sample("retry-after", {"TRANSIENT": (openai.RateLimitError, openai.InternalServerError)})

    async def main():
        try:
            await namespace["ask"](fake.runnable(), "Hello")
        except openai.InternalServerError:
            return now()
        raise AssertionError("the third failure should reach the caller")

    finished = run_virtual(main)
    assert len(fake.inputs) == 3
    assert 1 + 2 <= finished <= 2 + 3  # waits of 1-2 s and 2-3 s: exponential back-off with jitter


# -- 30.6: the fallback chain and exception_key --------------------------------------------------


@pytest.fixture
def providers(monkeypatch):
    """The fallback sample's two clients, made from fakes; the test sets their failures."""
    models = {"gpt-4o": FakeModel("gpt-4o"), "claude-3-haiku-20240307": FakeModel("claude-3-haiku-20240307")}
    kwargs: dict[str, dict] = {}

    def maker(**given):
        kwargs[given["model"]] = given
        return models[given["model"]].runnable()

    monkeypatch.setattr(langchain_openai, "ChatOpenAI", maker)
    monkeypatch.setitem(sys.modules, "langchain_anthropic", types.SimpleNamespace(ChatAnthropic=maker))
    return models, kwargs


def test_the_fallback_sample_goes_primary_backup_cache_default_in_that_order(providers):
    models, kwargs = providers
    namespace = run_sample("fallbacks")
    ask = namespace["ask"]
    assert kwargs["gpt-4o"]["timeout"] == 5 and kwargs["gpt-4o"]["max_retries"] == 0
    assert kwargs["claude-3-haiku-20240307"]["max_retries"] == 0

    assert ask("What is LangChain?").content == "answer from gpt-4o"
    models["gpt-4o"].failures = [failure(503)] * 3
    assert ask("What is LangChain?").content == "answer from claude-3-haiku-20240307"  # another provider
    models["claude-3-haiku-20240307"].failures = [failure(0)] * 2
    # Both models down: the last good answer to this question, then the default for a new one.
    assert ask("What is LangChain?").content == "answer from claude-3-haiku-20240307"
    assert ask("What is a vector store?").content.startswith("We cannot answer right now")
    assert len(models["gpt-4o"].inputs) == 4  # the primary is always asked first


@pytest.mark.parametrize(("status", "says"), [(429, "Too many requests"), (500, "We cannot answer right now")])
def test_the_exception_key_sample_tells_the_user_why(status, says):
    primary = FakeModel("gpt-4o", [failure(status)])
    backup = FakeModel("claude-3-haiku", [failure(status)])
    namespace = run_sample("exception-key", {"primary": primary.runnable(), "backup": backup.runnable(),
                                             "AIMessage": AIMessage, "RunnableLambda": RunnableLambda})
    assert namespace["reply"].content.startswith(says)
    # The backup got the question through the prompt, although its input carried the error too.
    assert "What is LangChain?" in backup.inputs[0].to_string()


def test_exception_key_refuses_a_plain_string_as_the_lesson_says():
    primary, backup = FakeModel("gpt-4o", [failure(500)]), FakeModel("claude-3-haiku", [failure(500)])
    namespace = run_sample("exception-key", {"primary": primary.runnable(), "backup": backup.runnable(),
                                             "AIMessage": AIMessage, "RunnableLambda": RunnableLambda})
    with pytest.raises(ValueError, match="exception_key"):
        namespace["chain"].invoke("What is LangChain?")
