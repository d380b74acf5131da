"""What the mock model says: a fixed reply per (intent, model).

A catalogue question's reply opens with its intent's reference answer; any other
question's reply restates it, so two intents never share a reply and a cached
answer served to the wrong question is visible.  Replies are padded with neutral
sentences to a length that grows with the question's complexity.

A question written in Chinese is answered in Chinese (the intent's Chinese
wording, Chinese padding), as a real model answers in the language it is asked
in; English questions, which are all a simulation's workload sends, are answered
exactly as before.

These are pure functions, memoised: the same questions come back thousands of
times per run.
"""

from __future__ import annotations

import random
import zlib
from functools import lru_cache

from . import intents
from .tokens import count_tokens, token_pieces

UNKNOWN_INTENT_COMPLEXITY = 0.5
SUBJECT_CHARS = 60  # how much of an unknown question its reply restates


@lru_cache(maxsize=65_536)
def intent(question: str) -> tuple[str, str, float]:
    """(intent id, lead, complexity) of a question.

    The lead opens the reply: a catalogue intent's answer, else a restatement of
    the normalized question, so two intents never share a reply.
    """
    intent_id = intents.intent_of(question)
    chinese = is_chinese(question)
    try:
        known = intents.get(intent_id)
    except KeyError:
        subject = intents.normalize(question)
        if len(subject) > SUBJECT_CHARS:
            subject = subject[:SUBJECT_CHARS - 3] + "..."
        lead = f"关于“{subject}”：" if chinese else f'About "{subject}":'
        return intent_id, lead, UNKNOWN_INTENT_COMPLEXITY
    if chinese:
        lead = intents.answer_in(intent_id, "zh-hans")
        if is_chinese(lead):
            return intent_id, lead if lead.endswith(_ZH_STOPS) else lead + "。", known.complexity
    lead = known.answer if known.answer.endswith((".", "!", "?")) else known.answer + "."
    return intent_id, lead, known.complexity


_ZH_STOPS = ("。", "！", "？")


def is_chinese(text: str) -> bool:
    """Whether ``text`` contains Chinese characters (CJK unified ideographs)."""
    return any("\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf" for char in text)


# Neutral follow-up sentences that pad a reply to its intended length.
_FOLLOW_UPS = (
    "That is the short answer; the details depend on your setup.",
    "If anything is unclear, ask and I will go into more detail.",
    "Here is a bit more context in case it helps.",
    "This covers the common cases.",
    "There are a few edge cases, but they rarely matter in practice.",
    "It is worth checking the official documentation for the latest details.",
    "A quick test with your own data will confirm it.",
    "The same idea applies in most similar situations.",
    "Keep in mind that behaviour can change between versions.",
    "First, make sure the basics are in place.",
    "Then change one thing at a time and check the result.",
    "Finally, write down what worked so it is easy to repeat.",
    "Some of this depends on your account settings.",
    "An example usually makes the idea much clearer.",
    "Measure before and after, so you know the change helped.",
    "If it fails, wait a moment and try again.",
    "I hope this helps.",
)
# The same padding for a reply in Chinese.
_FOLLOW_UPS_ZH = (
    "这是简短的回答，具体细节取决于你的环境。",
    "如果还有不清楚的地方，可以继续问我。",
    "下面再补充一点背景，供你参考。",
    "以上涵盖了常见的情况。",
    "也有一些边界情况，但实际中很少遇到。",
    "最新细节请以官方文档为准。",
    "用你自己的数据快速试一下就能确认。",
    "类似的情况大多可以照此处理。",
    "注意不同版本之间的行为可能有所变化。",
    "首先，确认基础配置已经就绪。",
    "然后每次只改一处，并检查结果。",
    "最后，把有效的做法记下来，方便以后重复。",
    "其中一部分取决于你的账号设置。",
    "举个例子通常更容易理解。",
    "改动前后都测量一下，才能确定改动有效。",
    "如果失败了，稍等片刻再试。",
    "希望这些对你有帮助。",
)


def _answer_length(intent_id: str, complexity: float) -> int:
    """Target reply length in tokens: longer for harder questions, with a fixed jitter per intent."""
    jitter = zlib.crc32(intent_id.encode()) % 41 - 20
    return max(8, round(24 + 150 * complexity) + jitter)


@lru_cache(maxsize=65_536)
def reply_tokens(intent_id: str, lead: str, complexity: float, model: str,
                 encoding: str) -> tuple[str, ...]:
    """The reply's tokens, fixed per (intent, model): the lead, then whole sentences to the length."""
    chinese = is_chinese(lead)
    follow_ups, space = (_FOLLOW_UPS_ZH, "") if chinese else (_FOLLOW_UPS, " ")
    order = random.Random(f"{intent_id}|{model}").sample(follow_ups, len(follow_ups))
    target = _answer_length(intent_id, complexity)
    parts = [lead]
    tokens = count_tokens(lead, encoding)
    while tokens < target:
        sentence = order[(len(parts) - 1) % len(order)]
        parts.append(sentence)
        tokens += count_tokens(space + sentence, encoding)
    return token_pieces(space.join(parts), encoding)
