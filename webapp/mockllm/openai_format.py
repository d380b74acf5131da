"""OpenAI's chat-completions wire format: read a request, write replies, chunks and errors.

Plain functions and small value objects, no HTTP: the views stay a few lines
and every rule here can be tested on its own.  The shapes follow OpenAI's API
reference closely enough that the official client and ``ChatOpenAI`` read them
unchanged.  Fields a client may send that change nothing here (``stop``,
``top_p``, ``user`` ...) are accepted and ignored, as long as they are not in
the way of a field we do read.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from simulations.mock_llm import MockLLMError
from simulations.profiles import PROFILES, ModelProfile

MAX_BODY_BYTES = 256 * 1024
MAX_MESSAGES = 100
MAX_SEED = 2**63  # OpenAI's seed is a signed 64-bit integer
SYSTEM_FINGERPRINT = "fp_mockllm"

# Developer messages are OpenAI's newer name for system messages.
_MESSAGE_CLASSES: dict[str, type[BaseMessage]] = {
    "system": SystemMessage,
    "developer": SystemMessage,
    "user": HumanMessage,
    "assistant": AIMessage,
}
_JSON_TYPE_NAMES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
                    int: "an integer", float: "a number", type(None): "null"}


class ApiError(Exception):
    """A failed request as OpenAI reports it: an HTTP status and an ``{"error": ...}`` body."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type,
                          "param": self.param, "code": self.code}}


def rate_limited(retry_after_s: float, message: str) -> ApiError:
    """A 429 whose headers say when to come back.

    ``retry-after`` must be whole seconds (RFC 9110), so the exact wait also goes
    in ``retry-after-ms``, which OpenAI's clients read first.
    """
    return ApiError(429, message, type="requests", code="rate_limit_exceeded", headers={
        "retry-after": str(max(1, math.ceil(retry_after_s))),
        "retry-after-ms": str(max(1, round(retry_after_s * 1000))),
    })


def server_error(status: int) -> ApiError:
    if status == 503:
        return ApiError(503, "The server is overloaded or not ready yet.", type="server_error")
    return ApiError(status, "The server had an error while processing your request.",
                    type="server_error")


def error_for(exc: MockLLMError) -> ApiError:
    """The API error a real provider answers with for one of the mock model's failures."""
    if exc.status_code == 429:
        return rate_limited(exc.retry_after_s, str(exc))
    if exc.status_code == 400:
        return ApiError(400, str(exc), param="messages", code="context_length_exceeded")
    if exc.status_code == 504:
        return ApiError(504, str(exc), type="server_error", code="timeout")
    return server_error(exc.status_code)


def too_large() -> ApiError:
    return ApiError(413, f"The request body is larger than {MAX_BODY_BYTES} bytes.",
                    code="request_too_large")


# -- requests ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatRequest:
    model: ModelProfile
    messages: tuple[BaseMessage, ...]
    max_tokens: int | None
    stream: bool
    include_usage: bool
    seed: int | None


def parse_chat_request(body: bytes) -> ChatRequest:
    """The request in ``body``, or ApiError naming the first field that is wrong."""
    if len(body) > MAX_BODY_BYTES:
        raise too_large()
    data = _json_object(body)
    model = _model(data)
    stream = _optional_bool(data, "stream")
    _optional_number(data, "temperature", 0.0, 2.0)  # checked like OpenAI does, then unused
    _optional_int(data, "n", 1, 1)
    return ChatRequest(
        model=model,
        messages=_messages(data),
        max_tokens=_max_tokens(data, model),
        stream=stream,
        include_usage=_include_usage(data, stream),
        seed=_optional_int(data, "seed", -MAX_SEED, MAX_SEED - 1),
    )


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: absurdly nested arrays
        raise ApiError(400, "We could not parse the JSON body of your request.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return data


def _model(data: Mapping[str, Any]) -> ModelProfile:
    name = data.get("model")
    if name is None:
        raise _missing("model")
    if not isinstance(name, str):
        raise _wrong_type("model", "a string", name)
    if name not in PROFILES:
        # OpenAI's own answer: 404, so clients treat it as final rather than retrying.
        raise ApiError(404, f"The model `{name[:100]}` does not exist. Available models: "
                       f"{', '.join(PROFILES)}.", param="model", code="model_not_found")
    return PROFILES[name]


def _messages(data: Mapping[str, Any]) -> tuple[BaseMessage, ...]:
    items = data.get("messages")
    if items is None:
        raise _missing("messages")
    if not isinstance(items, list):
        raise _wrong_type("messages", "an array", items)
    if not 1 <= len(items) <= MAX_MESSAGES:
        raise ApiError(400, f"Invalid 'messages': expected between 1 and {MAX_MESSAGES} messages, "
                       f"got {len(items)}.", param="messages", code="invalid_value")
    return tuple(_message(f"messages[{i}]", item) for i, item in enumerate(items))


def _message(where: str, item: Any) -> BaseMessage:
    if not isinstance(item, dict):
        raise _wrong_type(where, "an object", item)
    role = item.get("role")
    if not isinstance(role, str) or role not in _MESSAGE_CLASSES:  # a list or object is not hashable
        raise ApiError(400, f"Invalid '{where}.role': expected one of {', '.join(_MESSAGE_CLASSES)}.",
                       param=f"{where}.role", code="invalid_value")
    return _MESSAGE_CLASSES[role](content=_text(f"{where}.content", item.get("content"), role))


def _text(where: str, content: Any, role: str) -> str:
    """A message's text: a string, or a list of text parts joined."""
    if isinstance(content, str):
        return content
    if content is None and role == "assistant":  # an assistant turn that only called tools
        return ""
    if isinstance(content, list) and all(_is_text_part(part) for part in content):
        return "".join(part["text"] for part in content)
    raise ApiError(400, f"Invalid '{where}': expected a string or an array of text parts.",
                   param=where, code="invalid_type")


def _is_text_part(part: Any) -> bool:
    return isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)


def _max_tokens(data: Mapping[str, Any], model: ModelProfile) -> int | None:
    # max_completion_tokens replaced max_tokens; the newer name wins when both are sent.
    name = "max_completion_tokens" if data.get("max_completion_tokens") is not None else "max_tokens"
    return _optional_int(data, name, 1, model.max_output_tokens)


def _include_usage(data: Mapping[str, Any], stream: bool) -> bool:
    options = data.get("stream_options")
    if options is None:
        return False
    if not stream:
        raise ApiError(400, "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                       param="stream_options", code="invalid_value")
    if not isinstance(options, dict):
        raise _wrong_type("stream_options", "an object", options)
    return _optional_bool(options, "include_usage", where="stream_options.include_usage")


def _optional_bool(data: Mapping[str, Any], name: str, *, where: str | None = None) -> bool:
    value = data.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _wrong_type(where or name, "a boolean", value)
    return value


def _optional_int(data: Mapping[str, Any], name: str, low: int, high: int) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong_type(name, "an integer", value)
    _check_range(name, value, low, high)
    return value


def _optional_number(data: Mapping[str, Any], name: str, low: float, high: float) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _wrong_type(name, "a number", value)
    _check_range(name, value, low, high)
    return float(value)


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:  # also false for NaN, which json.loads accepts
        expected = f"{low}" if low == high else f"a value between {low} and {high}"
        raise ApiError(400, f"Invalid '{name}': expected {expected}, but got {value} instead.",
                       param=name, code="invalid_value")


def _missing(name: str) -> ApiError:
    return ApiError(400, f"Missing required parameter: '{name}'.", param=name,
                    code="missing_required_parameter")


def _wrong_type(name: str, expected: str, value: Any) -> ApiError:
    got = _JSON_TYPE_NAMES.get(type(value), "something else")
    return ApiError(400, f"Invalid type for '{name}': expected {expected}, but got {got} instead.",
                    param=name, code="invalid_type")


# -- replies ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Completion:
    """The fields shared by the reply, or by every chunk, of one completion."""

    model: str
    include_usage: bool = False
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex}")
    created: int = field(default_factory=lambda: int(time.time()))

    def _head(self, kind: str) -> dict[str, Any]:
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model,
                "system_fingerprint": SYSTEM_FINGERPRINT}

    def reply(self, message: AIMessage) -> dict[str, Any]:
        """The whole ``chat.completion`` object for a finished answer."""
        choice = {"index": 0, "message": {"role": "assistant", "content": message.text, "refusal": None},
                  "logprobs": None, "finish_reason": message.response_metadata.get("finish_reason", "stop")}
        return {**self._head("chat.completion"), "choices": [choice],
                "usage": usage(message.usage_metadata)}

    def chunk(self, delta: Mapping[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": dict(delta), "logprobs": None, "finish_reason": finish_reason}
        extra = {"usage": None} if self.include_usage else {}
        return {**self._head("chat.completion.chunk"), "choices": [choice], **extra}

    def usage_chunk(self, usage_metadata: Mapping[str, int] | None) -> dict[str, Any]:
        """The extra last chunk of a stream sent with ``include_usage``: no choices, only usage."""
        return {**self._head("chat.completion.chunk"), "choices": [], "usage": usage(usage_metadata)}


def usage(usage_metadata: Mapping[str, int] | None) -> dict[str, int]:
    """langchain's usage_metadata in OpenAI's field names."""
    meta = usage_metadata or {}
    prompt, completion = meta.get("input_tokens", 0), meta.get("output_tokens", 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": meta.get("total_tokens", prompt + completion)}


def sse(payload: Mapping[str, Any] | str) -> bytes:
    """One server-sent event: a JSON object, or a bare marker such as ``[DONE]``."""
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return f"data: {data}\n\n".encode()


def model_list(profiles: Iterable[ModelProfile]) -> dict[str, Any]:
    return {"object": "list",
            "data": [{"id": p.name, "object": "model", "created": 0, "owned_by": p.provider}
                     for p in profiles]}
