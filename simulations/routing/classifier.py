"""Our classifier: English and Chinese cues, whole words only, sizes in tokens.

It fixes what the chapter's keyword rules get wrong, one by one:

* English cues match whole words (``code`` is not found in "decode", ``define``
  not in "undefined"), with their inflections ("analyse", "analysis",
  "comparison");
* Chinese cues are matched as Chinese is written, without spaces, and
  ``什么是`` ("what is") is not taken from ``为什么是`` ("why is");
* code is a task (a verb such as "write" or "fix" with a noun such as
  "function", a language name, an error message, code itself), not a word:
  "the function of the liver" and "a dress code" are not code;
* the size of a request is counted in tokens, the unit of prices and context
  windows, with the model's own tokenizer.

The result is a score from 0 (easy) to 1 (hard) and a class; ``reasons`` list the
cues that set them, as notes a learner can read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..component import Note, note
from ..text import gettext_noop
from ..tokens import count_tokens
from .prompts import language_of

ENCODING = "cl100k_base"  # the tokenizer of the chapter's OpenAI models

BASE = 0.25  # a prompt with no cue at all is a simple one
REASONING_STEP = 0.3  # per reasoning cue, at most two
EXPLAIN_STEP = 0.12
LOOKUP_STEP = -0.15  # only when there is no reasoning or explanation cue
BRIEF_STEP = -0.15
CODE_STEP = 0.1
LONG_PROMPT_TOKENS = (40, 100)  # +LONG_PROMPT_STEP past each
LONG_PROMPT_STEP = 0.08
MANY_PARTS_STEP = 0.08
SIMPLE_BELOW = 0.3
COMPLEX_FROM = 0.55


def _words(*patterns: str) -> re.Pattern[str]:
    """English cues as whole words: no ASCII letter or digit right before or after."""
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(patterns) + r")(?![a-z0-9])")


def _chinese(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(patterns))


REASONING_EN = _words(
    r"analy[sz](?:e|es|ed|ing)", r"analys[ie]s", r"compar(?:e|es|ed|ing|ison|isons)", r"contrast",
    r"evaluat(?:e|es|ed|ing|ion)", r"critique", r"assess(?:es|ed|ing|ment)?", r"trade-?offs?",
    r"pros and cons", r"design", r"architect(?:ure)?", r"prove", r"proof", r"deriv(?:e|ation)",
    r"strateg(?:y|ies)", r"plan (?:a|an|for|how)", r"implications?", r"step by step", r"justify", r"weigh",
    r"rank(?:ed|ing)?", r"recommend(?:ation)?", r"migrat(?:e|ing|ion)", r"curriculum",
    r"how should", r"(?:best|good) way", r"essays?", r"risks?", r"show that",
    r"consequences",
)
REASONING_ZH = _chinese(
    "分析", "比较", "对比", "评估", "评价", "权衡", "利弊", "优缺点", "设计", "架构", "证明", "推导",
    "论证", "策略", "方案", "规划", "计划", "取舍", "排序", "迁移", "前提下", "论文", "风险",
    "不利",
)
EXPLAIN_EN = _words(r"explain(?:s|ed|ing)?", r"describe", r"how does", r"how do (?!i\b)(?!you say)",
                    r"why", r"difference", r"summari[sz]e", r"causes?", r"instead of", r"versus",
                    r"vs\.?", r"which is better", r"poems?")
# "是怎么/是如何…的" asks how something works; a bare "怎么" asks how to do something.
EXPLAIN_ZH = _chinese("解释", "介绍", "说明", "原理", "区别", "是(?:怎么|如何|怎样)", "总结",
                      "(?<!什)为什么", "原因", "还是", "诗")
BRIEF_EN = _words(r"in (?:one|a|two) (?:sentence|sentences|word)", r"briefly")
BRIEF_ZH = _chinese("一句话", "简短")
SIMPLE_EN = _words(r"what is", r"what's", r"who (?:is|wrote|was)", r"when (?:did|was|is)", r"where is",
                   r"define", r"definition", r"translate", r"convert", r"how many", r"capital of",
                   r"spell")
SIMPLE_ZH = _chinese("(?<!为)什么是", "是什么", "翻译", "定义", "是谁", "哪里", "多少", "怎么说",
                     "首都", "哪一年", "换算")

CODE_STRONG_EN = _words(r"debug(?:ging)?", r"refactor(?:ing)?", r"traceback", r"stack trace",
                        r"regexp?", r"regular expressions?", r"unit tests?", r"race condition", r"segfault",
                        r"[a-z]*error:", r"re-?renders?")
CODE_VERB_EN = _words(r"write", r"implement", r"fix", r"optimi[sz]e", r"review", r"add", r"port")
CODE_NOUN_EN = _words(r"code", r"function", r"script", r"class", r"method", r"query", r"snippet",
                      r"program", r"module", r"endpoint", r"cache", r"tests?", r"queue",
                      r"python", r"javascript", r"typescript", r"java", r"golang", r"go", r"rust",
                      r"sql", r"bash", r"react", r"c\+\+")
CODE_STRONG_ZH = _chinese("代码", "调试", "报错", "脚本", "正则", "编程", "单元测试", "重构", "竞态",
                          "重新渲染")
CODE_VERB_ZH = _chinese("写", "实现", "修复", "优化")
CODE_NOUN_ZH = _chinese("函数", "查询", "程序", "接口", "模块", "缓存", "队列", "Python", "Go", "SQL",
                        "JavaScript", "React")
CODE_SYNTAX = re.compile(r"```|\bdef \w+\(|\w+\(\)|=>|;\s*$|\{\s*\}|</?\w+>", re.MULTILINE)
PARTS = re.compile(r"[?？]|(?:^|\s)\d+[.)]\s")


@dataclass(frozen=True)
class Classification:
    """What our classifier says about one prompt."""

    kind: str  # simple, medium, complex or specialized
    score: float  # 0 easy .. 1 hard
    lang: str  # en or zh
    prompt_tokens: int
    reasons: tuple[Note, ...]


REASON_TEXTS = {
    "language_en": gettext_noop("English; the prompt is %(tokens)s tokens."),
    "language_zh": gettext_noop("Chinese; the prompt is %(tokens)s tokens."),
    "reasoning": gettext_noop("Reasoning cue(s): %(cues)s (+%(step)s each, at most two)."),
    "explain": gettext_noop("Explanation cue: %(cue)s (+%(step)s)."),
    "simple": gettext_noop("Look-up cue: %(cue)s (%(step)s)."),
    "brief": gettext_noop("Asks for a short answer: %(cue)s (%(step)s)."),
    "code": gettext_noop("A coding task: %(cue)s (+%(step)s; the class is coding, whatever the score)."),
    "long_prompt": gettext_noop("A long prompt: %(tokens)s tokens (+%(step)s)."),
    "parts": gettext_noop("Several questions or parts: %(parts)s (+%(step)s)."),
    "score": gettext_noop("Score %(score)s: %(kind)s (simple below %(low)s, complex from %(high)s)."),
}


def _found(pattern: re.Pattern[str], text: str) -> list[str]:
    seen: list[str] = []
    for match in pattern.finditer(text):
        if match.group(0) not in seen:
            seen.append(match.group(0))
    return seen


def _quoted(cues: list[str]) -> str:
    return ", ".join(f"“{c.strip()}”" for c in cues)


def code_cue(prompt: str) -> str:
    """Why ``prompt`` is a coding task, or '' if it is not."""
    lower = prompt.lower()
    strong = _found(CODE_STRONG_EN, lower) + _found(CODE_STRONG_ZH, prompt)
    if strong:
        return _quoted(strong[:2])
    syntax = _found(CODE_SYNTAX, prompt)
    if syntax:
        return _quoted(syntax[:1])
    verbs = _found(CODE_VERB_EN, lower) + _found(CODE_VERB_ZH, prompt)
    nouns = _found(CODE_NOUN_EN, lower) + _found(CODE_NOUN_ZH, prompt)
    if verbs and nouns:
        return _quoted([verbs[0], nouns[0]])
    return ""


@lru_cache(maxsize=4096)
def classify(prompt: str) -> Classification:
    """Score and class of ``prompt`` (the question itself; an attached document is sized separately)."""
    lower = prompt.lower()
    lang = language_of(prompt)
    tokens = count_tokens(prompt, ENCODING)
    reasons = [note(REASON_TEXTS, f"language_{lang}", tokens=tokens)]
    score = BASE

    reasoning = _found(REASONING_EN, lower) + _found(REASONING_ZH, prompt)
    explain = _found(EXPLAIN_EN, lower) + _found(EXPLAIN_ZH, prompt)
    simple = _found(SIMPLE_EN, lower) + _found(SIMPLE_ZH, prompt)
    brief = _found(BRIEF_EN, lower) + _found(BRIEF_ZH, prompt)
    if reasoning:
        score += REASONING_STEP * min(len(reasoning), 2)
        reasons.append(note(REASON_TEXTS, "reasoning", cues=_quoted(reasoning), step=REASONING_STEP))
    if explain:
        score += EXPLAIN_STEP
        reasons.append(note(REASON_TEXTS, "explain", cue=_quoted(explain[:1]), step=EXPLAIN_STEP))
    if simple and not (reasoning or explain):
        score += LOOKUP_STEP
        reasons.append(note(REASON_TEXTS, "simple", cue=_quoted(simple[:1]), step=LOOKUP_STEP))
    if brief:
        score += BRIEF_STEP
        reasons.append(note(REASON_TEXTS, "brief", cue=_quoted(brief[:1]), step=BRIEF_STEP))

    code = code_cue(prompt)
    if code:
        score += CODE_STEP
        reasons.append(note(REASON_TEXTS, "code", cue=code, step=CODE_STEP))

    longer = sum(tokens > limit for limit in LONG_PROMPT_TOKENS)
    if longer:
        score += LONG_PROMPT_STEP * longer
        reasons.append(note(REASON_TEXTS, "long_prompt", tokens=tokens, step=LONG_PROMPT_STEP * longer))

    parts = len(PARTS.findall(prompt))
    if parts >= 2:
        score += MANY_PARTS_STEP
        reasons.append(note(REASON_TEXTS, "parts", parts=parts, step=MANY_PARTS_STEP))

    score = round(min(1.0, max(0.0, score)), 2)
    if code:
        kind = "specialized"
    elif score < SIMPLE_BELOW:
        kind = "simple"
    elif score < COMPLEX_FROM:
        kind = "medium"
    else:
        kind = "complex"
    reasons.append(note(REASON_TEXTS, "score", score=f"{score:.2f}", kind=kind, low=SIMPLE_BELOW,
                        high=COMPLEX_FROM))
    return Classification(kind, score, lang, tokens, tuple(reasons))
