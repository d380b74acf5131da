"""The course map: chapters, sections and the lesson pages that teach them.

Structure lives here, in Python; the words live where translators work.  Titles
and summaries are English marked with ``gettext_lazy``, so the Chinese is in
``locale/zh_Hans/LC_MESSAGES/django.po`` beside every other string, and a page
prints them in the reader's language.

A :class:`Section` is a numbered heading of the source chapters (``"30.2"``).  A
:class:`Lesson` is one page of the course; it teaches one or more sections and
may embed a live component.  A section's lesson is derived from :data:`LESSONS`,
never kept in step by hand; a section no lesson teaches shows a "coming" page
whose summary says what the lesson will let the learner do.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

LANGUAGES: tuple[str, ...] = ("en", "zh-hans")
DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class Section:
    number: str
    title: Promise
    summary: Promise

    @property
    def chapter(self) -> int:
        return int(self.number.split(".")[0])

    @property
    def anchor(self) -> str:
        """The id of the section's ``<section>`` element in its lesson page (``s30-2``)."""
        return "s" + self.number.replace(".", "-")

    @property
    def lesson(self) -> Lesson | None:
        """The lesson that teaches this section, if one does."""
        return _LESSON_OF_SECTION.get(self.number)

    @property
    def built(self) -> bool:
        return self.lesson is not None


@dataclass(frozen=True)
class Lesson:
    slug: str
    sections: tuple[str, ...]
    title: Promise
    component: str | None = None
    preset: str | None = None  # the component's preset this lesson opens with

    def template_for(self, lang: str | None) -> str:
        """The lesson body fragment for ``lang`` (``lessons/content/<slug>.<lang>.html``)."""
        code = "zh-hans" if lang and lang.lower().startswith("zh") else DEFAULT_LANGUAGE
        return f"lessons/content/{self.slug}.{code}.html"


@dataclass(frozen=True)
class Chapter:
    number: int
    title: Promise
    sections: tuple[Section, ...]


CHAPTER_30 = Chapter(
    number=30,
    title=_("Performance optimisation and reliability engineering"),
    sections=(
        Section(
            "30.1",
            _("Caching: speeding up repeated calls"),
            _("Put langchain-core's in-memory cache, or a SQLite or Redis cache, in front of the model, "
              "learn which fields belong in a cache key and why Python's hash() must never build one, and "
              "see a semantic cache trade extra hits for wrong answers on near-miss pairs such as \"enable "
              "2FA\" and \"disable 2FA\"; the simulator replays a workload of repeated and reworded questions "
              "and compares hit rate, latency and cost per strategy, across a restart."),
        ),
        Section(
            "30.2",
            _("Batching: more throughput from the same calls"),
            _("Learn what batch() really does (many concurrent calls, not one merged request), how "
              "max_concurrency and the provider's rate limit bound the speed-up, and how to keep one "
              "failure from sinking the whole batch; a simulator draws wall time, a request timeline and "
              "throughput as you move the sliders."),
        ),
        Section(
            "30.3",
            _("Async execution: serving many requests at once"),
            _("Fan out calls with ainvoke and asyncio.gather, cap them with a semaphore or abatch, and "
              "stream tokens with astream; a live demo shows tokens arriving at the model's speed so you "
              "can feel the gap between time to first token and total time, and a guide tells batch, async "
              "and the provider's Batch API apart."),
        ),
        Section(
            "30.4",
            _("Cost control: counting tokens and routing by model"),
            _("Count the tokens of real prompts, price a day of traffic on different models, and route "
              "short, simple questions to a small model: move the traffic mix, the routing rule and "
              "max_tokens, and see cost and answer quality change, and whether the chapter's savings "
              "estimate holds up."),
        ),
        Section(
            "30.5",
            _("Retries: riding out transient failures"),
            _("Tune retry attempts and exponential back-off (with jitter) against a flaky model that "
              "returns 429s, 5xx errors and timeouts, and watch success rate, tail latency and the extra "
              "load that retries put on the provider; see why 400 and 401 errors must not be retried."),
        ),
        Section(
            "30.6",
            _("Fallbacks: keeping the service available"),
            _("Chain a primary model to cheaper backups, a cached answer and a fixed reply with "
              "with_fallbacks, switch on an outage window, and follow availability, cost and answer quality"
              " as traffic fails over and comes back; see why the primary needs a timeout for the fallback "
              "to help."),
        ),
        Section(
            "30.7",
            _("Monitoring and observability"),
            _("Attach a callback that records latency, tokens and cost for every call, read the resulting "
              "P50/P95/P99 latency and error-rate charts under changing traffic, and see the same counters "
              "exposed in Prometheus text format, ready for a Grafana dashboard."),
        ),
        Section(
            "30.8",
            _("Advanced patterns: deduplication, warm-up and prompt compression"),
            _("Stop a cache stampede with single-flight, so that identical requests in flight share one "
              "model call, and warm the cache before traffic arrives with the exact prompts real requests "
              "send; the simulator shows the cold start after a deploy or restart, with and without "
              "warm-up, and how many calls merging saves under bursts. Prompt compression (30.8.3) is not "
              "covered yet."),
        ),
        Section(
            "30.9",
            _("Case study: before and after optimisation"),
            _("Rebuild the chapter's before/after system one step at a time (cache, model routing, "
              "concurrency, retries, fallbacks) and see which step moves throughput, P95 latency, daily "
              "cost and availability, checking each row of the chapter's results table against the "
              "simulation."),
        ),
        Section(
            "30.10",
            _("Cost optimisation dashboard"),
            _("Set daily traffic, model mix, cache hit rate and average prompt and answer length, and read "
              "daily and monthly cost with a breakdown per model and per optimisation, so you can see which"
              " lever is worth pulling first."),
        ),
        Section(
            "30.11",
            _("Reliability decision tree"),
            _("Answer a few questions about the failure you face (rate limit, timeout, outage, wrong "
              "output, cost spike) and the tree leads to retries, fallbacks, caching, queueing or routing, "
              "each linked to the simulator that shows it working."),
        ),
        Section(
            "30.12",
            _("Summary"),
            _("A one-page recap of chapter 30: which technique cuts latency, which cuts cost and which cuts"
              " failures, with a short self-check that links back to each simulator."),
        ),
    ),
)

CHAPTER_32 = Chapter(
    number=32,
    title=_("Architecture for large-scale production systems"),
    sections=(
        Section(
            "32.1",
            _("From monolith to microservices"),
            _("Split a monolith into a gateway, chat, RAG, agent and memory services and an LLM orchestrator "
              "fed by a queue: fail one service and see only the routes that need it degrade, then switch to "
              "a monolith and watch one crash take every route down, and count what the extra network hops "
              "cost."),
        ),
        Section(
            "32.2",
            _("Asynchronous message queues"),
            _("Run a priority queue on Redis with workers that prefetch, acknowledge early or late, retry with "
              "back-off and stop at a time limit; crash a worker and see what late acknowledgement saves and what "
              "a visibility timeout delivers twice; then compare a token bucket, a sliding window and a fixed "
              "window per user tier on the same traffic, with a 429 that says when to retry."),
        ),
        Section(
            "32.3",
            _("Distributed caching"),
            _("Stack a small in-process LRU cache (L1) over a shared Redis cache (L2) with back-fill, work "
              "out what a hit rate can and cannot do for mean latency, P99 and throughput, bound how long a"
              " stale answer survives, and design a shared semantic cache whose entries expire by topic and"
              " are filtered by model and context; the simulator shows hit rate per level, latency and cost"
              " as you change sizes, TTLs and the threshold."),
        ),
        Section(
            "32.4",
            _("Load balancing and autoscaling"),
            _("Drive an autoscaler that follows the Kubernetes HPA algorithm (one formula per metric, the "
              "largest wins, a 10% tolerance, scale-up and scale-down policies, selectPolicy and stabilisation "
              "windows) with CPU, memory, queue length and latency, including the start-up delay of new pods, "
              "and check every row of the chapter's two scaling tables against it."),
        ),
        Section(
            "32.5",
            _("Multi-model routing and scheduling"),
            _("Classify requests by complexity, user tier and priority, in English and Chinese, and send "
              "them to different models, or try the cheap model first and escalate: compare cost, latency and "
              "answer quality with sending everything to the strongest model, score a router the way RouteLLM "
              "does against a random one, watch a tuned threshold go stale, and recompute the chapter's "
              "claimed saving from its own prices."),
        ),
        Section(
            "32.6",
            _("Canary releases and A/B testing"),
            _("Shift a growing share of traffic to a new version with automatic rollback when its error "
              "rate climbs, then run an A/B test and see how many samples it takes before a difference in "
              "answer quality is real rather than noise."),
        ),
        Section(
            "32.7",
            _("Summary"),
            _("A recap of chapter 32's principles (decoupling, elasticity, high availability, "
              "observability, cost control), each mapped to the lessons and simulators that demonstrate it."),
        ),
    ),
)

CHAPTERS: tuple[Chapter, ...] = (CHAPTER_30, CHAPTER_32)

LESSONS: tuple[Lesson, ...] = (
    Lesson(
        slug="batching-async",
        sections=('30.2', '30.3'),
        title=_("Batching and async: more requests in the same time"),
        component="batching",
        preset=None,
    ),
    Lesson(
        slug="caching-basics",
        sections=('30.1',),
        title=_("Caching: answer repeated questions without calling the model"),
        component="caching-comparison",
        preset="book-30.1",
    ),
    Lesson(
        slug="cache-warmup",
        sections=('30.8',),
        title=_("Cold caches and stampedes: warm-up and request de-duplication"),
        component="caching-comparison",
        preset=None,
    ),
    Lesson(
        slug="multilevel-cache",
        sections=('32.3',),
        title=_("Distributed caching: L1/L2 levels and semantic caches that expire"),
        component="caching-comparison",
        preset="book-32.3",
    ),
    Lesson(
        slug="architecture",
        sections=('32.1', '32.2', '32.4'),
        title=_("Services, queues, rate limits and autoscaling"),
        component="microservices",
        preset=None,
    ),
    Lesson(
        slug="model-routing",
        sections=('32.5',),
        title=_("Model routing: the right model for each request"),
        component="routing-flow",
        preset=None,
    ),
    Lesson(
        slug="canary-ab-testing",
        sections=('32.6',),
        title=_("Canary releases and A/B tests: ship gradually, decide with statistics"),
        component="ab-dashboard",
        preset=None,
    ),
    Lesson(
        slug="chapter-32-summary",
        sections=('32.7',),
        title=_("Chapter 32 in review: architecture for large-scale systems"),
    ),
)

_SECTIONS: dict[str, Section] = {s.number: s for c in CHAPTERS for s in c.sections}
_LESSONS: dict[str, Lesson] = {lesson.slug: lesson for lesson in LESSONS}
_LESSON_OF_SECTION: dict[str, Lesson] = {number: lesson for lesson in LESSONS for number in lesson.sections}


def get_section(number: str) -> Section:
    """The section numbered ``number`` (e.g. ``"30.2"``); ``KeyError`` if unknown."""
    return _SECTIONS[number]


def get_lesson(slug: str) -> Lesson:
    """The lesson page ``slug``; ``KeyError`` if unknown."""
    return _LESSONS[slug]


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
    taught = [number for lesson in LESSONS for number in lesson.sections]
    if len(taught) != len(set(taught)):
        raise ValueError("a section is taught by two lessons")
    for number in taught:
        if number not in _SECTIONS:
            raise ValueError(f"a lesson teaches unknown section {number}")


_check()
