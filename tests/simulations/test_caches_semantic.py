"""The semantic cache: threshold, filters, TTL, restarts, and several processes on one Redis."""

from __future__ import annotations

import asyncio
import hashlib
import math
import re

import pytest
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import FakeListChatModel
from langchain_core.load import dumps
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.outputs import Generation

from simulations.caches import PromptParts, SemanticCache, split_prompt
from simulations.clock import run_virtual

ASKED = "What is the capital of France?"
PARAPHRASE = "what is the capital city of France"  # 6 shared words of 7: cosine 6/sqrt(42) = 0.926
UNRELATED = "How do I bake sourdough bread?"
LLM = "[('_type', 'mock-chat'), ('model_name', 'gpt-4o-mini')]"
OTHER_LLM = "[('_type', 'mock-chat'), ('model_name', 'gpt-4o')]"


class BagOfWords(Embeddings):
    """Word counts hashed into 512 dimensions: similarity is the share of common words."""

    def embed_query(self, text: str) -> list[float]:
        vector = [0.0] * 512
        for word in re.findall(r"\w+", text.lower()):
            vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % 512] += 1.0
        return vector

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(text) for text in texts]


@pytest.fixture
def open_cache(redis_namespace: str):
    def factory(**options) -> SemanticCache:
        return SemanticCache(BagOfWords(), namespace=redis_namespace, **options)

    return factory


def answer(text: str) -> list[Generation]:
    return [Generation(text=text)]


def test_a_paraphrase_above_the_threshold_hits(open_cache):
    cache = open_cache(threshold=0.9)
    cache.update(ASKED, LLM, answer("Paris"))
    found = cache.lookup_with_score(PARAPHRASE, LLM)
    assert found.value == answer("Paris")
    assert found.score == pytest.approx(6 / math.sqrt(42), abs=1e-6)
    assert found.matched_prompt == ASKED
    assert cache.lookup(UNRELATED, LLM) is None


def test_below_the_threshold_it_misses_but_reports_the_closest(open_cache):
    cache = open_cache(threshold=0.95)
    cache.update(ASKED, LLM, answer("Paris"))
    found = cache.lookup_with_score(PARAPHRASE, LLM)
    assert found.value is None
    assert found.score == pytest.approx(0.926, abs=1e-3)
    assert found.matched_prompt == ASKED


def test_a_threshold_of_one_means_the_identical_question(open_cache):
    cache = open_cache(threshold=1.0)
    cache.update(ASKED, LLM, answer("Paris"))
    assert cache.lookup_with_score(ASKED, LLM) == (answer("Paris"), 1.0, ASKED)
    assert cache.lookup(PARAPHRASE, LLM) is None


def test_the_best_of_several_entries_is_chosen(open_cache):
    cache = open_cache(threshold=0.5)
    cache.update("What is the capital of Spain?", LLM, answer("Madrid"))
    cache.update(ASKED, LLM, answer("Paris"))
    cache.update(UNRELATED, LLM, answer("Knead it"))
    assert cache.lookup(PARAPHRASE, LLM) == answer("Paris")


def test_an_empty_cache_has_no_score(open_cache):
    assert tuple(open_cache().lookup_with_score(ASKED, LLM)) == (None, None, None)


def test_another_model_does_not_reuse_the_answer(open_cache):
    cache = open_cache(threshold=0.9)
    cache.update(ASKED, LLM, answer("Paris"))
    assert cache.lookup_with_score(ASKED, OTHER_LLM).score is None


def test_without_the_filter_another_model_would_reuse_it(open_cache):
    cache = open_cache(threshold=0.9, metadata_of=lambda parts, llm_string: {})
    cache.update(ASKED, LLM, answer("Paris, says the small model"))
    assert cache.lookup(ASKED, OTHER_LLM) == answer("Paris, says the small model")


def test_a_topic_filter_keeps_topics_apart(open_cache):
    def by_topic(parts, llm_string):
        return {"topic": "news" if "today" in parts.question else "facts"}

    cache = open_cache(threshold=0.5, metadata_of=by_topic)
    cache.update("Who won the match today?", LLM, answer("Team A"))
    assert cache.lookup("Who won the match today?", LLM) == answer("Team A")
    assert cache.lookup("Who won the match?", LLM) is None


def test_chat_prompts_compare_the_question_and_require_the_same_system_prompt(open_cache):
    cache = open_cache(threshold=0.9)
    polite = dumps([SystemMessage("Be polite."), HumanMessage(ASKED)])
    cache.update(polite, LLM, answer("Paris"))
    paraphrased = dumps([SystemMessage("Be polite."), HumanMessage(PARAPHRASE)])
    assert cache.lookup(paraphrased, LLM) == answer("Paris")
    assert cache.lookup(dumps([SystemMessage("Be terse."), HumanMessage(ASKED)]), LLM) is None


def test_split_prompt_takes_the_last_human_text_and_keeps_the_rest():
    prompt = dumps([SystemMessage("Be polite."),
                    HumanMessage([{"type": "text", "text": ASKED},
                                  {"type": "image_url", "image_url": {"url": "data:x"}}])])
    parts = split_prompt(prompt)
    assert parts.question == ASKED
    assert "Be polite." in parts.context and "data:x" in parts.context
    assert split_prompt("plain text") == PromptParts(question="plain text", context="")


def test_entries_expire_in_virtual_time(open_cache):
    cache = open_cache(threshold=0.9, ttl_s=3600.0)

    async def main() -> list[bool]:
        cache.update(ASKED, LLM, answer("Paris"))
        await asyncio.sleep(3599.0)
        fresh = cache.lookup(PARAPHRASE, LLM) is not None
        await asyncio.sleep(1.0)
        return [fresh, cache.lookup(PARAPHRASE, LLM) is not None]

    assert run_virtual(main) == [True, False]


def test_entries_survive_a_restart(open_cache):
    before = open_cache()
    before.update(ASKED, LLM, answer("Paris"))
    before.close()
    assert open_cache().lookup(ASKED, LLM) == answer("Paris")


def test_an_instance_sees_entries_written_by_another(open_cache):
    mine, theirs = open_cache(threshold=0.9), open_cache(threshold=0.9)
    assert mine.lookup(ASKED, LLM) is None
    theirs.update(ASKED, LLM, answer("Paris"))
    assert mine.lookup(PARAPHRASE, LLM) == answer("Paris")


def test_a_drop_elsewhere_is_noticed(open_cache):
    mine, theirs = open_cache(threshold=0.9), open_cache(threshold=0.9)
    mine.update(ASKED, LLM, answer("Paris"))
    assert mine.lookup(ASKED, LLM) is not None
    theirs.drop()
    theirs.update(UNRELATED, LLM, answer("Knead it"))
    assert mine.lookup(ASKED, LLM) is None
    assert mine.lookup(UNRELATED, LLM) == answer("Knead it")


def test_a_chat_model_reuses_the_answer_to_a_paraphrase(open_cache):
    llm = FakeListChatModel(responses=["Paris", "second call"], cache=open_cache(threshold=0.9))

    async def main() -> list[str]:
        return [(await llm.ainvoke(q)).content for q in (ASKED, PARAPHRASE, UNRELATED)]

    assert run_virtual(main) == ["Paris", "Paris", "second call"]


def test_the_threshold_is_a_cosine_similarity(open_cache):
    with pytest.raises(ValueError, match="threshold"):
        open_cache(threshold=1.5)
