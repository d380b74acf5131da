"""Caching (sections 30.1 and 32.3): one workload, six ways to answer it.

Every strategy replays the same seeded workload on a fresh mock model with the
cache attached the way langchain users attach one (``MockChatModel(cache=...)``):
no cache, langchain-core's ``InMemoryCache``, SQLite, Redis, a two-level cache
(in-process LRU over Redis) and a semantic cache (embeddings, vectors in Redis).
A service restart, a warm-up list and single-flight are part of the scenario;
a threshold explorer and a cache-key view explain the semantic and exact keys.

The chapter notes (``book_*``) appear when the parameters are those of the
matching ``book-*`` preset: they compare the chapter's scenario, not any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..caching import book, measures, threshold
from ..caching.keyview import key_view
from ..caching.replay import Question, Scenario, Service, StrategyRun, replay
from ..caching.strategies import STRATEGIES, CacheSettings, RunStores, embeddings_named, open_multi_level, open_semantic
from ..clock import run_virtual
from ..caches import MultiLevelCache, SemanticCache, SingleFlight
from ..component import CodeRef, Component, Note, Result, note
from ..embeddings import available_embeddings
from ..intents import CATALOGUE
from ..params import Param, ParamSpec, Value
from ..profiles import PROFILES
from ..text import gettext_noop
from ..workload import WorkloadSpec, generate, in_play

REQUESTS_MAX = 300
WARMUP_QUESTIONS = 10  # the most asked intents, in their usual wording
TRACE_ROWS = 12

SPEC = ParamSpec(
    params=(
        # 40: enough for the popular questions to come back several times, few enough
        # to replay through six real caches on every slider move.
        Param("requests", 40, min=10, max=REQUESTS_MAX, step=10, label=gettext_noop("Requests"),
              unit=gettext_noop("requests"), help=gettext_noop("How many questions the users ask.")),
        Param("rate_per_s", 2.0, min=0.1, max=50.0, step=0.1, label=gettext_noop("Arrival rate"),
              unit=gettext_noop("req/s"), help=gettext_noop("How fast the questions arrive.")),
        Param("distinct_intents", 15, min=1, max=len(CATALOGUE), step=1, label=gettext_noop("Distinct questions"),
              unit=gettext_noop("intents"), help=gettext_noop("How many different questions are in play.")),
        Param("zipf_s", 1.0, min=0.0, max=2.5, step=0.1, label=gettext_noop("Popularity skew (Zipf)"),
              help=gettext_noop("0: every question equally popular; higher: a few questions dominate.")),
        Param("paraphrase_share", 0.3, min=0.0, max=1.0, step=0.05, label=gettext_noop("Reworded requests"),
              unit=gettext_noop("share"),
              help=gettext_noop("Share of requests worded differently from the usual question.")),
        Param("ttl_s", 3600.0, min=0.0, max=3600.0, step=10.0, label=gettext_noop("TTL"), unit=gettext_noop("s"),
              help=gettext_noop("Entry lifetime in SQLite, Redis, L2 and the semantic cache; 0 = forever. "
                                "InMemoryCache has no TTL.")),
        Param("l1_size", 10, min=1, max=1000, step=1, label=gettext_noop("L1 size"), unit=gettext_noop("entries"),
              help=gettext_noop("Entries the in-process LRU keeps before evicting the least recently used.")),
        Param("l1_ttl_s", 60.0, min=0.0, max=3600.0, step=5.0, label=gettext_noop("L1 TTL"), unit=gettext_noop("s"),
              help=gettext_noop("Entry lifetime in L1; 0 = forever.")),
        Param("semantic_threshold", 0.9, min=0.5, max=1.0, step=0.01, label=gettext_noop("Semantic threshold"),
              unit=gettext_noop("cosine"),
              help=gettext_noop("How similar a stored question must be to reuse its answer.")),
        Param("embedding", "hashed-ngrams", choices=tuple(available_embeddings()), label=gettext_noop("Embedding"),
              help=gettext_noop("How questions become vectors for the semantic cache.")),
        Param("topic_filter", False, label=gettext_noop("Topic filter"),
              help=gettext_noop("The semantic cache only reuses answers from the same topic.")),
        Param("warmup", False, label=gettext_noop("Warm-up"),
              help=gettext_noop("Ask the ten most common questions before traffic starts, at every start.")),
        # A restart planned at or after the last request never happens, like any
        # event scheduled after the end; that keeps every slider combination valid.
        Param("restart_at", 0, min=0, max=REQUESTS_MAX - 1, step=1, label=gettext_noop("Restart before request"),
              help=gettext_noop("Restart the service here; 0 = no restart.")),
        Param("concurrency", 8, min=1, max=64, step=1, label=gettext_noop("Concurrency"),
              unit=gettext_noop("requests"),
              help=gettext_noop("Requests served at once; identical ones in flight share one call.")),
        Param("model", "gpt-4o-mini", choices=tuple(PROFILES), label=gettext_noop("Model")),
    ),
    presets={
        # 30.1's examples: langchain's caches as they come (no TTL), the 0.9 threshold,
        # and a restart halfway to check that SQLite keeps its entries.
        "book-30.1": {"requests": 40, "rate_per_s": 2.0, "distinct_intents": 15,
                      "zipf_s": 1.0, "paraphrase_share": 0.3, "ttl_s": 0.0, "l1_size": 10,
                      "l1_ttl_s": 60.0, "semantic_threshold": 0.9, "topic_filter": False,
                      "warmup": False, "restart_at": 20, "concurrency": 8,
                      "model": "gpt-4o-mini"},
        # 32.3's two levels: an LRU of 1000 entries with a 60 s TTL over Redis with 1 hour,
        # the 0.85 threshold of 32.3.2.  Eleven minutes of slow traffic: a question asked
        # again after more than a minute has left L1 but is still in L2, which gives
        # about the chapter's split (L1 43 %, L2 34.5 % with seed 0).
        "book-32.3": {"requests": 200, "rate_per_s": 0.3, "distinct_intents": 30,
                      "zipf_s": 1.0, "paraphrase_share": 0.1, "ttl_s": 3600.0,
                      "l1_size": 1000, "l1_ttl_s": 60.0, "semantic_threshold": 0.85,
                      "topic_filter": False, "warmup": False, "restart_at": 0,
                      "concurrency": 8, "model": "gpt-4o-mini"},
    },
)


def _lifetime(seconds: float) -> float | None:
    return seconds or None  # 0 on the slider means "never expires"


def workload_spec(params: Mapping[str, Value]) -> WorkloadSpec:
    return WorkloadSpec(
        requests=params["requests"], distinct_intents=params["distinct_intents"],
        zipf_s=params["zipf_s"], paraphrase_share=params["paraphrase_share"],
        rate_per_s=params["rate_per_s"],
    )


def warmup_questions(spec: WorkloadSpec) -> list[Question]:
    """The warm-up list: what an operator would pick from yesterday's logs."""
    return [Question(i.canonical, i.topic) for i in in_play(spec)[:WARMUP_QUESTIONS]]


def scenario_for(params: Mapping[str, Value], seed: int) -> Scenario:
    spec = workload_spec(params)
    return Scenario(
        requests=generate(spec, seed),
        warmup=warmup_questions(spec) if params["warmup"] else (),
        restart_at=params["restart_at"], concurrency=params["concurrency"],
        model=params["model"], seed=seed, topic_in_prompt=params["topic_filter"],
    )


def replay_all(scenario: Scenario, stores: RunStores) -> dict[str, StrategyRun]:
    """Every strategy in turn, on one virtual clock (one wall-time limit for the whole run)."""

    async def main() -> dict[str, StrategyRun]:
        return {s.name: await replay(s, scenario, stores) for s in STRATEGIES}

    return run_virtual(main)


def run(params: Mapping[str, Value], seed: int) -> Result:
    scenario = scenario_for(params, seed)
    embeddings = embeddings_named(params["embedding"])
    settings = CacheSettings(
        ttl_s=_lifetime(params["ttl_s"]), l1_size=params["l1_size"],
        l1_ttl_s=_lifetime(params["l1_ttl_s"]),
        threshold=params["semantic_threshold"], embeddings=embeddings,
    )
    with RunStores(settings, seed) as stores:
        runs = replay_all(scenario, stores)
    levels = {s.name: s.levels for s in STRATEGIES}
    per_strategy = {name: measures.strategy_metrics(r, levels[name], scenario.restart_at)
                    for name, r in runs.items()}
    pairs = threshold.example_pairs(embeddings, settings.threshold)
    embedding = {"name": params["embedding"], "label": embeddings.label,
                 "is_semantic": embeddings.is_semantic}
    return Result(
        component="caching-comparison", params=dict(params), seed=seed,
        metrics={"strategies": per_strategy, "embedding": embedding,
                 "requests": len(scenario.requests)},
        series={
            "hit_rate_over_time": measures.hit_rate_over_time(list(runs.values()), levels),
            "threshold_explorer": threshold.explore(runs["semantic"], settings.threshold),
            "example_pairs": pairs,
            "cache_key": key_view(scenario.requests[0].intent, scenario.model),
            "warmup_questions": [q.text for q in scenario.warmup],
        },
        trace=measures.trace(runs["multi_level"], TRACE_ROWS),
        notes=_notes(params, runs, per_strategy, pairs, embedding),
    )


# What the active embedding's scores mean, one note per embedding.
EMBEDDING_NOTE_TEXTS = {
    "embedding_hashed-ngrams": gettext_noop(
        "The semantic cache compares hashed n-gram vectors: they measure shared words, not meaning, so a "
        "reworded question can score low while “enable” and “disable” score high."),
    "embedding_minilm": gettext_noop(
        "The semantic cache compares all-MiniLM-L6-v2 sentence embeddings: closer to meaning, yet near misses "
        "such as “enable” and “disable” still score high."),
}
NOTE_TEXTS = {**EMBEDDING_NOTE_TEXTS, **book.NOTE_TEXTS}


def _notes(params: Mapping[str, Value], runs: Mapping[str, StrategyRun],
           metrics: Mapping[str, Mapping[str, Any]], pairs: list[dict[str, Any]],
           embedding: Mapping[str, Any]) -> list[Note]:
    notes = [note(NOTE_TEXTS, f"embedding_{embedding['name']}", **embedding)]
    if SPEC.matches(params, "book-30.1"):
        notes += book.notes_30_1(runs, threshold.neighbours(runs["semantic"]), pairs, params["restart_at"])
    if SPEC.matches(params, "book-32.3"):
        notes += book.notes_32_3(metrics)
    return notes


COMPONENT = Component(
    name="caching-comparison", title=gettext_noop("Caching strategies compared"), section="30.1",
    spec=SPEC, run=run,
    code=(
        CodeRef(gettext_noop("One service process: the cache attached to the model"), Service.__init__),
        CodeRef(gettext_noop("Serving a request, single-flight in front"), Service.ask),
        CodeRef(gettext_noop("Warm-up and restart"), replay),
        CodeRef(gettext_noop("Opening the two-level cache (again after a restart)"), open_multi_level),
        CodeRef(gettext_noop("Two levels: L1 in the process, L2 in Redis"), MultiLevelCache.lookup),
        CodeRef(gettext_noop("Opening the semantic cache"), open_semantic),
        CodeRef(gettext_noop("Semantic lookup: nearest question and its score"), SemanticCache.lookup_with_score),
        CodeRef(gettext_noop("Single-flight"), SingleFlight.do),
    ),
)
