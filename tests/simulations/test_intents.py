"""The intent catalogue: every wording finds its own intent, near misses stay apart."""

from __future__ import annotations

import pytest

from simulations import intents


def test_every_catalogue_question_maps_to_its_own_intent():
    for intent in intents.CATALOGUE:
        for question in intent.questions:
            assert intents.intent_of(question) == intent.id, question


def test_catalogue_is_large_and_mixed_enough_for_the_lessons():
    assert 40 <= len(intents.CATALOGUE) <= 60
    for intent in intents.CATALOGUE:
        assert 3 <= len(intent.paraphrases) <= 6, intent.id
        assert 0.0 <= intent.complexity <= 1.0
        assert intent.answer
        assert intent.topic in intents.TOPICS
    complexities = [intent.complexity for intent in intents.CATALOGUE]
    assert sum(c <= 0.2 for c in complexities) >= 10
    assert sum(c >= 0.6 for c in complexities) >= 5
    assert {"account", "billing", "shipping", "product", "translation", "code", "knowledge"} <= set(
        intents.TOPICS
    )


def test_canonical_and_paraphrases_split_the_questions():
    dog = intents.get("translate-dog-fr")
    assert dog.canonical == "Translate 'dog' to French"
    assert dog.canonical not in dog.paraphrases
    assert (dog.canonical, *dog.paraphrases) == dog.questions


def test_trivial_variants_match_but_symbols_that_change_meaning_do_not():
    assert intents.intent_of("  what's THE capital of france ") == "capital-france"
    assert intents.intent_of("What\u2019s the capital of France?") == "capital-france"
    assert intents.intent_of("Translate dog to French") == "translate-dog-fr"
    assert intents.intent_of("Please refund order 1234!") == "refund-order-1234"
    assert intents.intent_of("What is 2 + 2") == "math-two-plus-two"
    assert intents.intent_of("What is 2*2?") != "math-two-plus-two"
    assert intents.normalize("What is 2+2?") != intents.normalize("What is 2-2?")


def test_unknown_text_gets_a_stable_intent_of_its_own():
    first = intents.intent_of("Describe a blue giraffe on skates")
    assert first.startswith("text-")
    assert intents.intent_of("describe a blue giraffe on skates!") == first
    assert intents.intent_of("Describe a red giraffe on skates") != first
    with pytest.raises(KeyError):
        intents.get(first)


def test_near_miss_pairs_are_distinct_intents_with_different_answers():
    assert len(intents.NEAR_MISS_PAIRS) >= 6
    for first_id, second_id in intents.NEAR_MISS_PAIRS:
        first, second = intents.get(first_id), intents.get(second_id)
        assert first.id != second.id
        assert first.answer != second.answer
        assert intents.intent_of(first.canonical) != intents.intent_of(second.canonical)


def test_near_miss_pairs_read_alike():
    # Most of the words are shared: that is what makes them dangerous for a cache.
    for first_id, second_id in intents.NEAR_MISS_PAIRS:
        first = set(intents.normalize(intents.get(first_id).canonical).split())
        second = set(intents.normalize(intents.get(second_id).canonical).split())
        assert len(first & second) / len(first | second) >= 0.4, (first_id, second_id)


@pytest.mark.parametrize(
    ("question", "paraphrase"),
    [
        ("What is the capital of France?", "What is France's capital city?"),
        ("What is Python?", "Tell me about the Python programming language"),
        ("Translate 'cat' to Spanish", "How do you say cat in Spanish?"),
        ("Translate 'bird' to German", "What is the German word for bird?"),
        ("Translate 'Hello' to French", "How do you say hello in French?"),
        ("How to install LangChain?", "How do I install LangChain?"),
        ("What is RAG?", "What is retrieval-augmented generation?"),
        ("What is AI?", "What is artificial intelligence?"),
    ],
)
def test_the_chapters_examples_are_in_the_catalogue(question, paraphrase):
    assert not intents.intent_of(question).startswith("text-")
    assert intents.intent_of(paraphrase) == intents.intent_of(question)


def test_inconsistent_catalogue_data_is_refused():
    dog = intents.get("translate-dog-fr")
    clash = intents.Intent("dog-again", "translation", 0.1, ("dog in french?",), "chien")
    with pytest.raises(ValueError, match="belongs to both"):
        intents._index((dog, clash), ())
    with pytest.raises(ValueError, match="complexity"):
        intents._index((intents.Intent("odd", "x", 1.5, ("odd?",), "odd"),), ())
    with pytest.raises(ValueError, match="near-miss"):
        intents._index((dog,), (("translate-dog-fr", "translate-dog-xx"),))


def test_chinese_wording_maps_to_the_same_intent_and_leaves_the_english_alone():
    for intent_id, wording in intents.ZH_HANS.items():
        assert intents.questions_in(intent_id, "zh-hans") == wording.questions
        assert intents.questions_in(intent_id, "en") == intents.get(intent_id).questions
        assert intents.answer_in(intent_id, "zh-Hans") == wording.answer
        for question in wording.questions:
            assert intents.intent_of(question) == intent_id
    # An intent without a Chinese wording falls back to English.
    assert intents.questions_in("enable-2fa", "zh-hans") == intents.get("enable-2fa").questions
