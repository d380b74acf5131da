"""The course map: chapters, sections and the lesson pages that teach them.

Pure data plus a few lookups, so it can be imported anywhere (views, tests, the
``simulate`` command) without touching Django.  Every title and summary exists in
each language of :data:`LANGUAGES`; :func:`localized` picks one with a fallback.

A :class:`Section` is a numbered heading of the source chapters (``"30.2"``).  A
:class:`Lesson` is one page of the course; it may teach several sections, and a
section whose ``lesson`` is ``None`` has not been built yet (its summary says what
the lesson will let the learner do).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

LANGUAGES: tuple[str, ...] = ("en", "zh-hans")
DEFAULT_LANGUAGE = "en"


def localized(texts: Mapping[str, str], lang: str | None) -> str:
    """``texts[lang]``, falling back to English for an unknown or missing language."""
    if lang and lang in texts:
        return texts[lang]
    if lang and lang.lower() in texts:
        return texts[lang.lower()]
    if lang and lang.lower().startswith("zh") and "zh-hans" in texts:
        return texts["zh-hans"]
    return texts[DEFAULT_LANGUAGE]


@dataclass(frozen=True)
class Section:
    number: str
    chapter: int
    title: dict[str, str]
    summary: dict[str, str]
    lesson: str | None = None

    def __hash__(self) -> int:
        return hash(("section", self.number))

    @property
    def anchor(self) -> str:
        """The id of the section's ``<section>`` element in its lesson page (``s30-2``)."""
        return "s" + self.number.replace(".", "-")

    @property
    def built(self) -> bool:
        return self.lesson is not None

    def title_in(self, lang: str | None) -> str:
        return localized(self.title, lang)

    def summary_in(self, lang: str | None) -> str:
        return localized(self.summary, lang)


@dataclass(frozen=True)
class Lesson:
    slug: str
    sections: tuple[str, ...]
    title: dict[str, str]
    component: str | None = None
    preset: str | None = None

    def __hash__(self) -> int:
        return hash(("lesson", self.slug))

    def title_in(self, lang: str | None) -> str:
        return localized(self.title, lang)

    def template_for(self, lang: str | None) -> str:
        """The lesson body fragment for ``lang`` (``lessons/content/<slug>.<lang>.html``)."""
        code = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        if lang and lang.lower().startswith("zh"):
            code = "zh-hans"
        return f"lessons/content/{self.slug}.{code}.html"


@dataclass(frozen=True)
class Chapter:
    number: int
    title: dict[str, str]
    sections: tuple[Section, ...]

    def __hash__(self) -> int:
        return hash(("chapter", self.number))

    def title_in(self, lang: str | None) -> str:
        return localized(self.title, lang)


def _s(number: str, en_title: str, zh_title: str, en_summary: str, zh_summary: str,
       lesson: str | None = None) -> Section:
    return Section(
        number=number,
        chapter=int(number.split(".")[0]),
        title={"en": en_title, "zh-hans": zh_title},
        summary={"en": en_summary, "zh-hans": zh_summary},
        lesson=lesson,
    )


CHAPTER_30 = Chapter(
    number=30,
    title={
        "en": "Performance optimisation and reliability engineering",
        "zh-hans": "性能优化与可靠性工程",
    },
    sections=(
        _s(
            "30.1",
            "Caching: speeding up repeated calls",
            "缓存策略：加速重复调用",
            "Put langchain-core's in-memory cache, or a SQLite or Redis cache, in front of the model, "
            "learn which fields belong in a cache key and why Python's hash() must never build one, "
            "and see a semantic cache trade extra hits for wrong answers on near-miss pairs such as "
            "\"enable 2FA\" and \"disable 2FA\"; the simulator replays a workload of repeated and "
            "reworded questions and compares hit rate, latency and cost per strategy, across a restart.",
            "在模型前面放上 langchain-core 的内存缓存，或者 SQLite、Redis 缓存；弄清缓存键该包含哪些字段，"
            "以及为什么绝不能用 Python 的 hash() 生成缓存键；再看语义缓存如何在“开启 2FA”与“关闭 2FA”"
            "这类形近义反的问题上，用错误回答换来更多命中。模拟器回放一段问题反复出现、时常换个说法的流量，"
            "按策略比较命中率、延迟和成本，也能看到重启前后的变化。",
            lesson="caching-basics",
        ),
        _s(
            "30.2",
            "Batching: more throughput from the same calls",
            "批处理：提升吞吐量",
            "Learn what batch() really does (many concurrent calls, not one merged request), how "
            "max_concurrency and the provider's rate limit bound the speed-up, and how to keep one "
            "failure from sinking the whole batch; a simulator draws wall time, a request timeline "
            "and throughput as you move the sliders.",
            "弄清 batch() 的真实行为（多个并发调用，而不是合并成一次请求）、max_concurrency 与服务商"
            "速率限制如何封顶加速效果，以及如何不让一个失败拖垮整批；拖动滑块，模拟器会画出总耗时、"
            "请求时间线和吞吐量曲线。",
            lesson="batching-async",
        ),
        _s(
            "30.3",
            "Async execution: serving many requests at once",
            "异步执行：提升并发能力",
            "Fan out calls with ainvoke and asyncio.gather, cap them with a semaphore or abatch, and "
            "stream tokens with astream; a live demo shows tokens arriving at the model's speed so "
            "you can feel the gap between time to first token and total time, and a guide tells "
            "batch, async and the provider's Batch API apart.",
            "用 ainvoke 和 asyncio.gather 并发发出调用，用信号量或 abatch 控制并发上限，再用 astream "
            "逐 token 流式输出；现场演示让 token 按模型的真实速度到达，让你直观感受首 token 时间与"
            "总耗时的差距，并说明批处理、异步和服务商 Batch API 各自适用的场合。",
            lesson="batching-async",
        ),
        _s(
            "30.4",
            "Cost control: counting tokens and routing by model",
            "成本控制：Token 计数与模型路由",
            "Count the tokens of real prompts, price a day of traffic on different models, and route "
            "short, simple questions to a small model: move the traffic mix, the routing rule and "
            "max_tokens, and see cost and answer quality change, and whether the chapter's savings "
            "estimate holds up.",
            "统计真实提示词的 token 数，按不同模型为一天的流量估价，并把简短的简单问题路由到小模型："
            "调整流量构成、路由规则和 max_tokens，观察成本与回答质量的变化，并检验本章给出的节省比例"
            "是否站得住。",
        ),
        _s(
            "30.5",
            "Retries: riding out transient failures",
            "重试机制：应对瞬时故障",
            "Tune retry attempts and exponential back-off (with jitter) against a flaky model that "
            "returns 429s, 5xx errors and timeouts, and watch success rate, tail latency and the "
            "extra load that retries put on the provider; see why 400 and 401 errors must not be "
            "retried.",
            "面对一个会返回 429、5xx 和超时的不稳定模型，调整重试次数和指数退避（含随机抖动），"
            "观察成功率、尾部延迟以及重试给服务商带来的额外负载，并理解为什么 400、401 错误不该重试。",
        ),
        _s(
            "30.6",
            "Fallbacks: keeping the service available",
            "降级策略：保证服务可用性",
            "Chain a primary model to cheaper backups, a cached answer and a fixed reply with "
            "with_fallbacks, switch on an outage window, and follow availability, cost and answer "
            "quality as traffic fails over and comes back; see why the primary needs a timeout for "
            "the fallback to help.",
            "用 with_fallbacks 把主模型依次接到更便宜的备用模型、缓存答案和固定回复上，打开一段故障"
            "窗口，跟踪流量切换与恢复过程中的可用性、成本和回答质量，并看清为什么主模型必须设置超时，"
            "降级才能真正起作用。",
        ),
        _s(
            "30.7",
            "Monitoring and observability",
            "监控与可观测性",
            "Attach a callback that records latency, tokens and cost for every call, read the "
            "resulting P50/P95/P99 latency and error-rate charts under changing traffic, and see the "
            "same counters exposed in Prometheus text format, ready for a Grafana dashboard.",
            "挂上一个回调，记录每次调用的延迟、token 数和成本；在流量变化时读懂 P50/P95/P99 延迟和"
            "错误率图表，并看到同一组指标以 Prometheus 文本格式导出，可直接接入 Grafana 仪表盘。",
        ),
        _s(
            "30.8",
            "Advanced patterns: deduplication, warm-up and prompt compression",
            "高级优化模式：请求去重、缓存预热与提示压缩",
            "Stop a cache stampede with single-flight, so that identical requests in flight share "
            "one model call, and warm the cache before traffic arrives with the exact prompts real "
            "requests send; the simulator shows the cold start after a deploy or restart, with and "
            "without warm-up, and how many calls merging saves under bursts. Prompt compression "
            "(30.8.3) is not covered yet.",
            "用 single-flight 挡住缓存击穿，让同时进行的相同请求共用一次模型调用；在流量到来之前，"
            "用与真实请求逐字节相同的提示预热缓存。模拟器展示部署或重启之后的冷启动过程（有无预热对比），"
            "以及突发流量下请求合并能省下多少次调用。提示压缩（30.8.3）暂未涉及。",
            lesson="cache-warmup",
        ),
        _s(
            "30.9",
            "Case study: before and after optimisation",
            "案例研究：优化前后对比",
            "Rebuild the chapter's before/after system one step at a time (cache, model routing, "
            "concurrency, retries, fallbacks) and see which step moves throughput, P95 latency, "
            "daily cost and availability, checking each row of the chapter's results table against "
            "the simulation.",
            "一步步重建本章的优化前后系统（缓存、模型路由、并发、重试、降级），看清每一步分别改变了"
            "吞吐量、P95 延迟、每日成本和可用性中的哪一项，并用模拟结果逐行核对本章的效果对比表。",
        ),
        _s(
            "30.10",
            "Cost optimisation dashboard",
            "成本优化仪表盘",
            "Set daily traffic, model mix, cache hit rate and average prompt and answer length, and "
            "read daily and monthly cost with a breakdown per model and per optimisation, so you can "
            "see which lever is worth pulling first.",
            "设定每日流量、模型构成、缓存命中率以及提示词和回答的平均长度，查看每日和每月成本，"
            "并按模型和优化手段拆分，找出最值得先动的那一项。",
        ),
        _s(
            "30.11",
            "Reliability decision tree",
            "可靠性决策树",
            "Answer a few questions about the failure you face (rate limit, timeout, outage, wrong "
            "output, cost spike) and the tree leads to retries, fallbacks, caching, queueing or "
            "routing, each linked to the simulator that shows it working.",
            "回答几个关于所遇故障的问题（限流、超时、服务中断、输出错误、成本飙升），决策树会把你引向"
            "重试、降级、缓存、排队或路由，每个结论都链接到演示其效果的模拟器。",
        ),
        _s(
            "30.12",
            "Summary",
            "总结",
            "A one-page recap of chapter 30: which technique cuts latency, which cuts cost and which "
            "cuts failures, with a short self-check that links back to each simulator.",
            "第 30 章的一页式回顾：哪些手段降低延迟、哪些降低成本、哪些减少故障，并附一组自测题，"
            "每题都链接回对应的模拟器。",
        ),
    ),
)

CHAPTER_32 = Chapter(
    number=32,
    title={
        "en": "Architecture for large-scale production systems",
        "zh-hans": "大规模生产系统架构",
    },
    sections=(
        _s(
            "32.1",
            "From monolith to microservices",
            "从单体到微服务",
            "Compare one process that does chat, retrieval and model calls with the same work split "
            "into services: load one function heavily and see where the monolith saturates, while "
            "the split design scales only the hot service and contains its failures.",
            "把对话、检索和模型调用全部放在一个进程里，与拆分成多个服务的方案对比：对某一功能施加重负载，"
            "看单体在哪里饱和，而拆分后的架构只扩容热点服务并把故障限制在局部。",
        ),
        _s(
            "32.2",
            "Asynchronous message queues",
            "异步消息队列",
            "Put a priority queue and a token-bucket rate limiter in front of slow model calls, hit "
            "them with a burst of traffic, and watch queue length, waiting time per user tier and "
            "rejected requests as you change worker count, bucket rate and capacity.",
            "在缓慢的模型调用前加上优先级队列和令牌桶限流器，用一波突发流量冲击它们，调整工作进程数、"
            "令牌生成速率和桶容量，观察队列长度、各用户等级的等待时间以及被拒绝的请求。",
        ),
        _s(
            "32.3",
            "Distributed caching",
            "分布式缓存策略",
            "Stack a small in-process LRU cache (L1) over a shared Redis cache (L2) with back-fill, "
            "work out what a hit rate can and cannot do for mean latency, P99 and throughput, bound "
            "how long a stale answer survives, and design a shared semantic cache whose entries "
            "expire by topic and are filtered by model and context; the simulator shows hit rate "
            "per level, latency and cost as you change sizes, TTLs and the threshold.",
            "在共享的 Redis 缓存（L2）之上叠加一个带回填的进程内小型 LRU 缓存（L1）；算清命中率对平均延迟、"
            "P99 和吞吐量能起多大作用、起不了什么作用；弄清过期回答最长能存活多久；并设计一个按主题设定过期时间、"
            "按模型和上下文过滤的共享语义缓存。调整容量、过期时间和阈值，模拟器会显示各级命中率、延迟和成本。",
            lesson="multilevel-cache",
        ),
        _s(
            "32.4",
            "Load balancing and autoscaling",
            "负载均衡与自动扩缩容",
            "Drive an autoscaler with a traffic wave: set the scaling metric and target, the "
            "cool-down and the replica limits, and follow replicas, queue length, latency and cost "
            "through the day, including the lag before new replicas start to help.",
            "用一段起伏的流量驱动自动扩缩容：设置扩缩容指标与目标值、冷却时间和副本数上下限，跟踪一整天里"
            "的副本数、队列长度、延迟和成本，包括新副本开始发挥作用之前的那段滞后。",
        ),
        _s(
            "32.5",
            "Multi-model routing and scheduling",
            "多模型路由与智能调度",
            "Classify requests by complexity and user tier and send them to different models: "
            "compare cost, latency and task success with sending everything to the largest model, "
            "and recompute the chapter's claimed saving from its own per-request prices.",
            "按任务复杂度和用户等级对请求分类并路由到不同模型：与全部交给最大模型相比，比较成本、延迟和"
            "任务成功率，并用本章自己给出的单次请求价格重新核算它声称的节省比例。",
        ),
        _s(
            "32.6",
            "Canary releases and A/B testing",
            "灰度发布与 A/B 测试",
            "Shift a growing share of traffic to a new version with automatic rollback when its "
            "error rate climbs, then run an A/B test and see how many samples it takes before a "
            "difference in answer quality is real rather than noise.",
            "把逐步增加的流量切到新版本，并在错误率升高时自动回滚；然后运行一次 A/B 测试，看需要多少样本，"
            "回答质量上的差异才是真实的而不是噪声。",
        ),
        _s(
            "32.7",
            "Summary",
            "总结",
            "A recap of chapter 32's principles (decoupling, elasticity, high availability, "
            "observability, cost control), each mapped to the lessons and simulators that "
            "demonstrate it.",
            "回顾第 32 章的核心原则（解耦、弹性、高可用、可观测、成本优化），并把每条原则对应到演示它的"
            "课程与模拟器。",
        ),
    ),
)

CHAPTERS: tuple[Chapter, ...] = (CHAPTER_30, CHAPTER_32)

LESSONS: tuple[Lesson, ...] = (
    Lesson(
        slug="batching-async",
        sections=("30.2", "30.3"),
        title={
            "en": "Batching and async: more requests in the same time",
            "zh-hans": "批处理与异步：同样的时间，更多的请求",
        },
        component="batching",
        preset=None,
    ),
    Lesson(
        slug="caching-basics",
        sections=("30.1",),
        title={
            "en": "Caching: answer repeated questions without calling the model",
            "zh-hans": "缓存：重复的问题不必再问模型",
        },
        component="caching-comparison",
        preset="book-30.1",
    ),
    Lesson(
        slug="cache-warmup",
        sections=("30.8",),
        title={
            "en": "Cold caches and stampedes: warm-up and request de-duplication",
            "zh-hans": "冷缓存与缓存击穿：预热与请求去重",
        },
        component="caching-comparison",
        preset=None,
    ),
    Lesson(
        slug="multilevel-cache",
        sections=("32.3",),
        title={
            "en": "Distributed caching: L1/L2 levels and semantic caches that expire",
            "zh-hans": "分布式缓存：L1/L2 多级缓存与会过期的语义缓存",
        },
        component="caching-comparison",
        preset="book-32.3",
    ),
)

_SECTIONS: dict[str, Section] = {s.number: s for c in CHAPTERS for s in c.sections}
_LESSONS: dict[str, Lesson] = {lesson.slug: lesson for lesson in LESSONS}
_CHAPTERS: dict[int, Chapter] = {c.number: c for c in CHAPTERS}


def get_section(number: str) -> Section:
    """The section numbered ``number`` (e.g. ``"30.2"``); ``KeyError`` if unknown."""
    return _SECTIONS[number]


def get_lesson(slug: str) -> Lesson:
    """The lesson page ``slug``; ``KeyError`` if unknown."""
    return _LESSONS[slug]


def get_chapter(number: int) -> Chapter:
    """The chapter ``number``; ``KeyError`` if unknown."""
    return _CHAPTERS[number]


def all_sections() -> tuple[Section, ...]:
    """Every section of every chapter, in course order."""
    return tuple(s for c in CHAPTERS for s in c.sections)


def all_lessons() -> tuple[Lesson, ...]:
    return LESSONS


def lesson_for_component(name: str) -> Lesson | None:
    """The first lesson that embeds component ``name``: its page is the component's home."""
    return next((lesson for lesson in LESSONS if lesson.component == name), None)


def lesson_sections(slug: str) -> tuple[Section, ...]:
    """The sections a lesson teaches, in the lesson's order."""
    return tuple(_SECTIONS[n] for n in get_lesson(slug).sections)


def _check() -> None:
    """The map must be consistent: fail at import rather than on some page later."""
    numbers = [s.number for s in all_sections()]
    if len(numbers) != len(set(numbers)):
        raise ValueError("duplicate section number in CHAPTERS")
    for chapter in CHAPTERS:
        for section in chapter.sections:
            if section.chapter != chapter.number:
                raise ValueError(f"section {section.number} listed under chapter {chapter.number}")
    for item in (*all_sections(), *CHAPTERS, *LESSONS):
        for field_name in ("title", "summary"):
            texts = getattr(item, field_name, None)
            if texts is None:
                continue
            missing = [lang for lang in LANGUAGES if not texts.get(lang)]
            if missing:
                raise ValueError(f"{item!r:.40} lacks {field_name} in {missing}")
    for lesson in LESSONS:
        for number in lesson.sections:
            if number not in _SECTIONS:
                raise ValueError(f"lesson {lesson.slug} teaches unknown section {number}")
            if _SECTIONS[number].lesson != lesson.slug:
                raise ValueError(f"section {number} does not point back to lesson {lesson.slug}")
    for section in all_sections():
        if section.lesson is not None and section.lesson not in _LESSONS:
            raise ValueError(f"section {section.number} points to unknown lesson {section.lesson}")


_check()
