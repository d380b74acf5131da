"""What a semantic cache should compare in a chat prompt: the question, apart from its setting.

langchain gives a cache the whole conversation serialized as JSON.  Embedding
that JSON would make every prompt look alike (the same keys and class names in
each), and a long system prompt would drown the question.  So the semantic
cache embeds only the last user message, and requires the rest (system prompt,
earlier turns) to be identical, through its metadata filter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PromptParts:
    question: str  # the text of the last human message: what is compared by meaning
    context: str  # every other message, serialized: must match exactly


def split_prompt(prompt: str) -> PromptParts:
    """Split langchain's serialized messages; any other text is all question."""
    messages = _messages(prompt)
    human = [i for i, message in enumerate(messages) if _kind(message) == "human"]
    if not human:
        return PromptParts(question=prompt, context="")
    last = human[-1]
    question, attachments = _split_content(messages[last]["kwargs"].get("content", ""))
    # Images and other non-text blocks cannot be compared by the text embedding,
    # so they belong to the part that must match exactly.
    others = messages[:last] + messages[last + 1:] + attachments
    return PromptParts(
        question=question,
        context=json.dumps(others, sort_keys=True, ensure_ascii=False) if others else "",
    )


def _messages(prompt: str) -> list[dict[str, Any]]:
    try:
        decoded = json.loads(prompt)
    except ValueError:
        return []
    if isinstance(decoded, list) and all(
        isinstance(m, dict) and isinstance(m.get("kwargs"), dict) for m in decoded
    ):
        return decoded
    return []


def _kind(message: dict[str, Any]) -> str | None:
    return message["kwargs"].get("type")


def _split_content(content: Any) -> tuple[str, list[Any]]:
    """A message's text, and its non-text blocks (images, files...)."""
    if isinstance(content, str):
        return content, []
    if not isinstance(content, list):
        return str(content), []
    texts: list[str] = []
    attachments: list[Any] = []
    for block in content:
        if isinstance(block, str):
            texts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            texts.append(str(block.get("text", "")))
        else:
            attachments.append(block)
    return "\n".join(texts), attachments
