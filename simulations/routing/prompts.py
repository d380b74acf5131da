"""Labelled prompts in English and Chinese, and the long documents some requests attach.

Each prompt carries what a careful reader would say about it: how hard it really
is (``complexity``, 0 easy .. 1 hard, which sets every model's chance of a right
answer) and its true class.  The English prompts that are easy questions come
from the intent catalogue (:mod:`simulations.intents`); the others are written
here, with the everyday words that trip keyword rules ("dress code", "the
function of the liver", "undefined", "analyse" in British spelling).  The
"plain but hard" prompts only appear in tomorrow's traffic: hard questions with
none of the words a keyword classifier looks for.

Documents are generated from fixed sentences and a fixed seed, so their
character and token counts never change; each is sized against a context window
(gpt-4 has 8,192 tokens, gpt-3.5-turbo 16,385, claude-3-opus 200,000).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

from .. import intents
from ..tokens import count_tokens

CLASSES = ("simple", "medium", "complex", "specialized")
SIMPLE_MAX = 0.35  # catalogue intents up to this complexity are simple questions
COMPLEX_MIN = 0.65


@dataclass(frozen=True)
class Case:
    """One request's content: the prompt, the attached document (if any), and the truth about it."""

    id: int
    text: str
    lang: str  # "en" or "zh"
    complexity: float
    kind: str  # the true class, one of CLASSES
    pool: str  # "everyday", "document" or "plain-hard"
    doc: str = ""  # a key of DOCUMENTS, or ""


def _en_catalogue() -> list[tuple[str, float, str]]:
    out = []
    code_tasks = {"regex-email", "debug-slow-chain"}  # writing or debugging code
    for intent in intents.CATALOGUE:
        if intent.id in code_tasks:
            kind = "specialized"
        elif intent.complexity <= SIMPLE_MAX:
            kind = "simple"
        elif intent.complexity < COMPLEX_MIN:
            kind = "medium"
        else:
            kind = "complex"
        out += [(q, intent.complexity, kind) for q in intent.questions]
    return out


# (text, complexity) per true class, written here.
EN = {
    "simple": [
        ("What's the capital of Japan?", 0.05),
        ("What is the dress code for a job interview at a bank?", 0.2),
        ("What is the zip code for downtown Seattle?", 0.1),
        ("What is the function of the liver?", 0.2),
        ("Who wrote Pride and Prejudice?", 0.05),
        ("How many days are in a leap year?", 0.05),
        ("Convert 5 miles to kilometres", 0.05),
        ("Define photosynthesis in one sentence", 0.15),
        ("Translate 'see you tomorrow' into Spanish", 0.05),
        ("When did the Berlin Wall fall?", 0.05),
        ("What is a barcode scanner?", 0.1),
        ("Is Unicode the same as UTF-8?", 0.25),
        ("Summarize the plot of Hamlet in two sentences", 0.25),
    ],
    "medium": [
        ("Explain how HTTPS keeps a password secret on its way to the server", 0.45),
        ("Why is division by zero undefined?", 0.4),
        ("How does a hash map handle collisions?", 0.45),
        ("Explain the difference between a process and a thread", 0.45),
        ("What is the difference between TCP and UDP, and when would I pick each?", 0.5),
        ("Give me a comparison of PostgreSQL and MySQL for a small web shop", 0.55),
        ("Summarize the main arguments for and against a four-day work week", 0.5),
        ("How should I prepare for a system design interview in two weeks?", 0.5),
        ("Describe how vaccines train the immune system", 0.4),
        ("Write a polite email declining a meeting and proposing two other times", 0.35),
        ("What are the main causes of inflation?", 0.45),
        ("Explain what a p-value tells you and what it does not", 0.55),
        ("What is the time complexity of Dijkstra's algorithm with a binary heap, and why?", 0.6),
    ],
    "complex": [
        ("Analyze the trade-offs between event sourcing and a CRUD database for an order system", 0.8),
        ("Compare three strategies for migrating a 2 TB PostgreSQL database with zero downtime", 0.85),
        ("Evaluate whether a startup with 4 engineers and 18 months of runway should build or buy "
         "its billing system", 0.85),
        ("Analyse the causes of the 2008 financial crisis and rank them by impact", 0.85),
        ("What is the best way to cut our LLM bill in half without hurting answer quality? We serve "
         "2M requests a month, 40% of them in Chinese.", 0.8),
        ("Prove that there are infinitely many prime numbers", 0.7),
        ("Design a multi-region failover plan for a chat service with a 99.95% availability target", 0.9),
        ("Critique this argument: remote work always lowers productivity because people are less "
         "supervised", 0.7),
        ("Plan a three-month curriculum that takes a junior analyst to production-ready SQL and "
         "statistics", 0.75),
        ("Weigh the pros and cons of raising prices by 10% versus cutting the free tier", 0.75),
    ],
    "specialized": [
        ("Write a Python function that merges two sorted lists", 0.4),
        ("Debug this: TypeError: 'NoneType' object is not subscriptable in my Flask view", 0.6),
        ("Refactor this 200-line JavaScript file into smaller modules", 0.6),
        ("Write a SQL query that returns the top 5 customers by revenue for each month", 0.5),
        ("Implement an LRU cache in Go with O(1) get and put", 0.65),
        ("Why does my React component re-render on every keystroke?", 0.55),
        ("Add unit tests for a date-parsing helper in TypeScript", 0.5),
        ("Fix the race condition in this Python asyncio producer-consumer queue", 0.75),
        ("Write a regex that matches ISO 8601 dates", 0.5),
    ],
}

ZH = {
    "simple": [
        ("法国的首都是哪里？", 0.05),
        ("什么是 Python？", 0.2),
        ("把“谢谢你的帮助”翻译成英文", 0.05),
        ("一年有多少天？", 0.02),
        ("5 英里等于多少公里？", 0.05),
        ("《红楼梦》的作者是谁？", 0.05),
        ("我怎么重置密码？", 0.15),
        ("什么是 API 密钥？", 0.15),
        ("“星期三”用英语怎么说？", 0.05),
        ("用一句话解释光合作用", 0.15),
        ("怎么查看我的订单状态？", 0.1),
        ("去银行面试有什么着装要求？", 0.2),
        ("柏林墙是哪一年倒塌的？", 0.05),
    ],
    "medium": [
        ("解释一下 HTTPS 是怎样保护密码传输的", 0.45),
        ("为什么不能除以零？", 0.4),
        ("进程和线程有什么区别？", 0.45),
        ("简单介绍 TCP 和 UDP 的区别，以及各自适合的场景", 0.5),
        ("总结一下四天工作制的主要利弊", 0.5),
        ("疫苗是如何训练免疫系统的？", 0.4),
        ("通货膨胀的主要原因有哪些？", 0.45),
        ("帮我写一封邮件，礼貌地拒绝会议邀请，并提出另外两个时间", 0.35),
        ("哈希表是怎么处理冲突的？", 0.45),
        ("p 值能说明什么，又不能说明什么？", 0.55),
        ("两周内怎么准备系统设计面试？", 0.5),
    ],
    "complex": [
        ("分析事件溯源和传统 CRUD 数据库用在订单系统里的利弊", 0.8),
        ("比较三种在零停机前提下迁移 2TB PostgreSQL 数据库的方案", 0.85),
        ("评估一家只有 4 名工程师、资金还能撑 18 个月的创业公司，计费系统应该自建还是采购", 0.85),
        ("证明素数有无穷多个", 0.7),
        ("为可用性目标 99.95% 的聊天服务设计多地域容灾方案", 0.9),
        ("分析 2008 年金融危机的成因，并按影响大小排序", 0.85),
        ("我们每月 200 万次请求，四成是中文，怎样在不降低回答质量的前提下把大模型费用减半？", 0.8),
        ("权衡一下涨价 10% 和取消免费套餐这两种做法", 0.75),
        ("制定一个三个月的学习计划，让初级分析师掌握生产级的 SQL 和统计", 0.75),
    ],
    "specialized": [
        ("用 Python 写一个合并两个有序列表的函数", 0.4),
        ("调试一下：我的 Flask 视图报错 TypeError: 'NoneType' object is not subscriptable", 0.6),
        ("用 Go 实现一个 get 和 put 都是 O(1) 的 LRU 缓存", 0.65),
        ("写一条 SQL 查询，按月找出收入最高的 5 个客户", 0.5),
        ("为什么我的 React 组件每次按键都会重新渲染？", 0.55),
        ("修复这个 Python asyncio 生产者-消费者队列里的竞态条件", 0.75),
        ("写一个匹配 ISO 8601 日期的正则表达式", 0.5),
        ("帮我 debug 这段代码，循环总是少执行一次", 0.5),
        ("把这个 200 行的 JavaScript 文件重构成几个小模块", 0.6),
    ],
}

# Hard questions in plain words: no keyword of either classifier (tomorrow's traffic only).
PLAIN_HARD = {
    "en": [
        ("My landlord kept my deposit because I gave 25 days' notice instead of 30. Can he?", 0.8),
        ("Should I refinance a 4.1% mortgage at 3.6% if it costs $3,000 and I may move in four years?", 0.8),
        ("Is it safe to take ibuprofen with my blood pressure medication?", 0.85),
        ("Our churn went from 3% to 5% after the redesign. Was it the redesign?", 0.85),
        ("Which offer pays more after tax: $95k in Texas or $110k in California?", 0.8),
        ("Can I deduct my home office if I also work two days a week at the company office?", 0.8),
    ],
    "zh": [
        ("我提前 25 天而不是 30 天通知退租，房东因此扣了押金，他有权这样做吗？", 0.8),
        ("房贷利率 4.1%，转成 3.6% 要付 3000 元手续费，四年内可能卖房，值得转吗？", 0.8),
        ("我在吃降压药，可以同时吃布洛芬吗？", 0.85),
        ("改版后流失率从 3% 涨到 5%，是改版造成的吗？", 0.85),
        ("上海月薪 2.5 万和成都月薪 1.8 万，税后哪个更划算？", 0.8),
        ("我每周两天在公司、三天在家办公，家里的办公费用能抵税吗？", 0.8),
    ],
}

# Tasks on an attached document: (text, complexity, true class).
DOCUMENT_TASKS = {
    "en": [
        ("Summarize the attached document in five bullet points", 0.4, "medium"),
        ("List every delivery deadline in the attached document", 0.3, "simple"),
        ("Find the clauses in the attached document that put us at risk and explain why", 0.75, "complex"),
    ],
    "zh": [
        ("用五条要点总结附件里的合同", 0.4, "medium"),
        ("列出附件里所有的交货截止日期", 0.3, "simple"),
        ("找出附件合同中对我们不利的条款，并说明原因", 0.75, "complex"),
    ],
}


# -- documents ------------------------------------------------------------------------

_CITIES_EN = ("Lyon", "Austin", "Osaka", "Leeds", "Porto", "Tianjin", "Quebec", "Perth")
_CITIES_ZH = ("上海", "深圳", "成都", "杭州", "武汉", "西安", "天津", "苏州")


def _english(sections: int, seed: int) -> str:
    rng = random.Random(seed)
    parts = []
    for i in range(1, sections + 1):
        parts.append(
            f"Section {i}. The supplier shall deliver {rng.randint(10, 900)} units of item "
            f"{rng.choice('ABCDEFGH')}-{rng.randint(100, 999)} to the warehouse in {rng.choice(_CITIES_EN)} "
            f"no later than day {rng.randint(1, 28)} of month {rng.randint(1, 12)}. Late delivery costs "
            f"{rng.randint(1, 5)} per mille of the order value per day, capped at {rng.randint(5, 15)} "
            f"percent. Either party may end this section with {rng.randint(15, 90)} days' written notice.")
    return "\n\n".join(parts)


def _chinese(articles: int, seed: int) -> str:
    rng = random.Random(seed)
    parts = []
    for i in range(1, articles + 1):
        parts.append(
            f"第{i}条：供应商应于{rng.randint(1, 12)}月{rng.randint(1, 28)}日前向{rng.choice(_CITIES_ZH)}仓库"
            f"交付{rng.randint(10, 900)}件{rng.choice('甲乙丙丁戊己')}类货物，逾期每日按合同金额的千分之"
            f"{rng.randint(1, 5)}支付违约金，累计不超过合同金额的百分之{rng.randint(5, 15)}。")
    return "\n".join(parts)


# key -> (language, sections or articles, seed)
_DOCUMENTS = {
    "en-report": ("en", 52, 11),  # ~3,500 tokens but over 10,000 characters
    "en-manual": ("en", 450, 12),  # ~30,000 tokens: only the 200K window takes it
    "zh-contract": ("zh", 130, 13),  # under 10,000 characters, yet more tokens than gpt-4's window
    "zh-records": ("zh", 330, 14),  # ~22,000 tokens: past gpt-3.5-turbo's window too
}
DOCUMENT_KEYS: tuple[str, ...] = tuple(_DOCUMENTS)


@cache
def document(key: str) -> str:
    """The text of document ``key`` (built once per process)."""
    lang, size, seed = _DOCUMENTS[key]
    return _english(size, seed) if lang == "en" else _chinese(size, seed)


@cache
def document_size(key: str) -> tuple[int, int]:
    """(characters, tokens with the chapter's OpenAI tokenizer) of document ``key``."""
    text = document(key)
    return len(text), count_tokens(text, "cl100k_base")


def documents_in(lang: str) -> tuple[str, ...]:
    return tuple(k for k, (doc_lang, _, _) in _DOCUMENTS.items() if doc_lang == lang)


# -- the case table -------------------------------------------------------------------


def language_of(text: str) -> str:
    """'zh' when CJK characters make up at least a fifth of the letters, else 'en'."""
    cjk = sum("\u4e00" <= ch <= "\u9fff" for ch in text)
    letters = sum(ch.isalpha() for ch in text)
    return "zh" if letters and cjk / letters >= 0.2 else "en"


@cache
def cases() -> tuple[Case, ...]:
    """Every case, numbered: the everyday pools, the document tasks, the plain-but-hard questions."""
    rows: list[tuple[str, str, float, str, str, str]] = []
    for text, complexity, kind in _en_catalogue():
        rows.append((text, "en", complexity, kind, "everyday", ""))
    for lang, pools in (("en", EN), ("zh", ZH)):
        for kind, items in pools.items():
            rows += [(text, lang, complexity, kind, "everyday", "") for text, complexity in items]
    for lang, tasks in DOCUMENT_TASKS.items():
        for doc in documents_in(lang):
            rows += [(text, lang, complexity, kind, "document", doc) for text, complexity, kind in tasks]
    for lang, items in PLAIN_HARD.items():
        rows += [(text, lang, complexity, "complex", "plain-hard", "") for text, complexity in items]
    return tuple(Case(i, *row) for i, row in enumerate(rows))


@cache
def pool(kind: str, lang: str, pool_name: str = "everyday") -> tuple[int, ...]:
    """Ids of the cases of one true class, language and pool."""
    return tuple(c.id for c in cases() if c.kind == kind and c.lang == lang and c.pool == pool_name)


@cache
def document_pool(lang: str) -> tuple[int, ...]:
    return tuple(c.id for c in cases() if c.pool == "document" and c.lang == lang)


@cache
def plain_hard_pool(lang: str) -> tuple[int, ...]:
    return tuple(c.id for c in cases() if c.pool == "plain-hard" and c.lang == lang)
