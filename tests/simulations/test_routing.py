"""Model routing (32.5): the chapter's router exactly, ours, the guard, the chain, the metrics, the component."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from simulations.components import routing_flow
from simulations.routing import accounting, book, classifier, prompts, routellm, tool
from simulations.routing.chain import build_cascade, build_chain, mock_models, run_requests
from simulations.routing.models import ANSWER_BUDGET, SPECIALIST, STRONG, WEAK, fits
from simulations.routing.policies import (Request, book_router, improved, input_tokens, length_only,
                                          threshold_router)
from simulations.routing.prompts import document, document_size
from simulations.tokens import count_tokens

S, M, C, X = "simple", "medium", "complex", "specialized"


# -- the chapter's classifier, exactly -------------------------------------------------------

@pytest.mark.parametrize(("prompt", "expected"), [
    ("What is the capital of France?", S),
    ("Translate 'dog' to French", S),
    ("Define photosynthesis", S),
    ("What's the capital of France?", M),  # "what's" is not "what is"
    ("What is the dress code for a job interview?", X),  # "code" inside "dress code"
    ("How do I decode base64?", X),  # ... inside "decode"
    ("Is Unicode the same as UTF-8?", X),  # ... inside "Unicode"
    ("What is the function of the liver?", X),  # "function", but not a coding task
    ("Why is division by zero undefined?", S),  # "define" inside "undefined"
    ("Compare two sorting algorithms", X),  # the code check comes first: "algorithm"
    ("Analyze the trade-offs between event sourcing and CRUD", C),
    ("Analyse the causes of the 2008 crisis", M),  # British spelling: no match
    ("Give me a comparison of PostgreSQL and MySQL", M),  # "comparison" does not contain "compare"
    ("Explain how HTTPS works", M),  # "explain" is in no list
    ("What is " + "a very long question " * 5, M),  # 100 characters or more: never SIMPLE
    ("什么是 Python？", M),
    ("把“谢谢”翻译成英文", M),
    ("分析事件溯源的利弊", M),
    ("帮我调试这段代码", M),
    ("帮我 debug 这段代码", X),  # the only way into SPECIALIZED in Chinese: an English keyword
])
def test_book_classifier_as_written(prompt, expected):
    assert book.classify_task(prompt).value == expected


def test_book_length_rule_counts_characters_not_tokens():
    contract, report = document("zh-contract"), document("en-report")
    contract_chars, contract_tokens = document_size("zh-contract")
    report_chars, report_tokens = document_size("en-report")
    assert contract_chars < book.LONG_CHARS < contract_tokens + report_chars  # sizes as the lesson says
    assert contract_tokens > 8192 > report_tokens
    assert book.classify_task("总结这份合同", contract).value == M  # more tokens than gpt-4 reads, not "long"
    assert book.classify_task("Summarize this report", report).value == C  # 3,500 tokens, "long"


def test_book_keyword_inside_a_longer_word():
    assert book.keyword_inside_a_word("Why is division by zero undefined?")
    assert book.keyword_inside_a_word("How do I decode base64?")
    assert not book.keyword_inside_a_word("What is the dress code for a job interview?")  # a whole word, wrong sense
    assert not book.keyword_inside_a_word("What is Python?")
    assert not book.keyword_inside_a_word("什么是 Python？")


def test_book_explains_which_check_fired_and_on_what():
    assert book.explain_class("What is the dress code for a job interview?").code == "book_code_keyword"
    fired = book.explain_class("Why is division by zero undefined?")
    assert fired.code == "book_simple_keyword" and "undefined" in fired.data["word"]
    assert book.explain_class("什么是 Python？").code == "book_medium"
    assert book.explain_class("Summarize", document("en-report")).code == "book_long"


CLASS_OF_RULE = {"book_code_keyword": X, "book_long": C, "book_complex_keyword": C, "book_simple_keyword": S,
                 "book_medium": M}


def test_the_explanation_follows_the_classifier_on_every_prompt():
    for case in prompts.cases():
        context = document(case.doc) if case.doc else ""
        fired = book.explain_class(case.text, context)
        assert CLASS_OF_RULE[fired.code] == book.classify_task(case.text, context).value, case.text
    assert book.explain_class("what is " + "x" * 100).code == "book_medium"  # a keyword, but not short


@pytest.mark.parametrize("tier", ["free", "premium", "enterprise"])
@pytest.mark.parametrize("priority", ["balanced", "cost", "speed", "quality"])
def test_the_selection_note_names_the_model_select_model_returns(tier, priority):
    examples = {S: "What is Python?", M: "How does TLS work?", C: "Analyze the market", X: "Write code"}
    for kind, prompt in examples.items():
        complexity = book.classify_task(prompt)
        assert complexity.value == kind
        said = book.explain_selection(complexity, tier, priority)
        assert said.data["model"] == book.select_model(prompt, "", tier, priority)
        assert said.data["model"] in said.text
        assert (said.code == "book_free") == (tier == "free")


@pytest.mark.parametrize(("prompt", "tier", "priority", "model"), [
    ("Analyze the market", "free", "quality", "gpt-3.5-turbo"),  # free: always the cheap model
    ("What is Python?", "enterprise", "quality", "gpt-3.5-turbo"),  # SIMPLE
    ("Write code for a queue", "premium", "cost", "claude-3-opus"),  # SPECIALIZED, whatever the priority
    ("Analyze the market", "premium", "cost", "gpt-3.5-turbo"),
    ("Analyze the market", "premium", "quality", "gpt-4"),
    ("Analyze the market", "premium", "balanced", "gpt-3.5-turbo"),  # weaker than MEDIUM gets
    ("Analyze the market", "enterprise", "balanced", "gpt-4"),
    ("Analyze the market", "premium", "speed", "gpt-3.5-turbo"),  # speed falls into the "balanced" branch
    ("Analyze the market", "enterprise", "speed", "gpt-4"),
    ("How does TLS work?", "premium", "balanced", "gpt-4"),  # MEDIUM
    ("How does TLS work?", "premium", "speed", "gpt-3.5-turbo"),
])
def test_book_selection_as_written(prompt, tier, priority, model):
    assert book.select_model(prompt, "", tier, priority) == model


def test_per_tier_prices_follow_select_model_itself():
    examples = {S: "What is Python?", M: "How does TLS work?", C: "Analyze the market"}
    for tier in ("free", "premium", "enterprise"):
        expected = sum(share * book.PRICE_PER_REQUEST[book.select_model(examples[c], "", tier, "balanced")]
                       for c, share in book.MIX.items())
        assert book.code_cost_by_tier()[tier] == pytest.approx(expected)
    assert book.code_cost_by_tier() == pytest.approx({"free": 0.002, "premium": 0.0104, "enterprise": 0.0132})


def test_book_cost_estimate_counts_words_of_the_answer_only():
    assert book.estimate_cost("one two three", "gpt-4") == (3, pytest.approx(3 / 1000 * 0.03))
    assert book.estimate_cost("这是一个很长的中文回答，没有任何空格，但有很多个词。", "gpt-4")[0] == 1


def test_the_chapters_arithmetic_from_its_own_inputs():
    again = book.recompute()
    assert again["avg_cost"] == pytest.approx(0.0132)  # not 0.011
    assert again["reduction_vs_claimed_baseline"] == pytest.approx(0.736)  # not 0.78
    assert again["reduction_vs_table_baseline"] == pytest.approx(0.56)  # its own GPT-4 price, $0.03
    assert again["monthly"] == pytest.approx(13_200)  # not 11,000
    assert again["saving_vs_claimed_baseline"] == pytest.approx(36_800)  # not 39,000
    assert again["saving_vs_table_baseline"] == pytest.approx(16_800)
    assert again["avg_latency_s"] == pytest.approx(2.1)  # this one holds
    assert again["speedup_vs_claimed_baseline"] == pytest.approx(0.34375)
    assert again["speedup_vs_table_baseline"] == pytest.approx(0.30)  # against its own 3.0 s
    assert round(again["baseline_tokens_implied"]) == 1667
    assert book.CLAIMED.avg_cost != pytest.approx(again["avg_cost"])


# -- our classifier ------------------------------------------------------------------------------

@pytest.mark.parametrize(("prompt", "expected"), [
    ("What is the dress code for a job interview?", S),
    ("What is the function of the liver?", S),
    ("Is Unicode the same as UTF-8?", S),
    ("Why is division by zero undefined?", M),
    ("Analyse the causes of the 2008 crisis and rank them by impact", C),
    ("Prove that there are infinitely many prime numbers", C),
    ("Write a Python function that merges two sorted lists", X),
    ("Debug this: TypeError: 'NoneType' object is not subscriptable", X),
    ("什么是 Python？", S),
    ("法国的首都是哪里？", S),
    ("进程和线程有什么区别？", M),
    ("分析事件溯源和传统 CRUD 数据库用在订单系统里的利弊", C),
    ("帮我调试这段代码", X),
    ("用 Python 写一个合并两个有序列表的函数", X),
])
def test_our_classifier(prompt, expected):
    assert classifier.classify(prompt).kind == expected


def test_a_word_is_not_a_task():
    for prompt in ("求函数 f(x) = x² 的导数", "What is the zip code for downtown Seattle?", "How do I decode this old letter?"):
        assert classifier.classify(prompt).kind != X, prompt  # mathematics, addresses, handwriting


def test_why_is_not_what_is_in_chinese():
    why = classifier.classify("为什么是我被扣了两次费？")
    assert why.kind == M and not any(r.code == "simple" for r in why.reasons)
    assert any(r.code == "simple" for r in classifier.classify("什么是 RAG？").reasons)


def test_our_classifier_counts_tokens_with_the_models_tokenizer():
    prompt = "解释一下 HTTPS 是怎样保护密码传输的"
    found = classifier.classify(prompt)
    assert found.prompt_tokens == count_tokens(prompt, "cl100k_base")
    assert found.lang == "zh" and classifier.classify("Explain HTTPS").lang == "en"


def test_our_classifier_beats_the_chapters_on_the_labelled_prompts():
    day = routing_flow.Day(routing_flow.SPEC.parse({}), seed=0, shifted=False)
    accuracy = routing_flow._classifier_metrics(day)
    assert accuracy["improved"]["accuracy"] > 0.8 > 0.4 > accuracy["book"]["accuracy"]
    assert accuracy["book"]["accuracy_zh"] < 0.3  # Chinese prompts are all MEDIUM


# -- policies and the context-window guard ----------------------------------------------------------

def test_our_policy_follows_its_table_and_the_tier():
    hard = "Analyse the causes of the 2008 financial crisis and rank them by impact"
    assert improved(Request(hard, tier="premium")).model == STRONG
    assert improved(Request(hard, tier="free")).model == WEAK  # a free user gets the weak model only
    assert improved(Request(hard, tier="premium", priority="quality")).model == SPECIALIST
    assert improved(Request("What is Python?", priority="quality")).model == STRONG
    assert improved(Request("Write a Python function that merges two sorted lists")).model == SPECIALIST
    assert improved(Request("Write a Python function that merges two sorted lists", priority="cost")).model == STRONG


def test_the_guard_falls_back_to_a_model_that_fits_at_least_as_capable():
    contract = Request("用五条要点总结附件里的合同", "zh-contract")  # medium: gpt-4, but 8,800 tokens
    route = improved(contract)
    assert route.model == SPECIALIST and route.reasons[-1].code == "fallback"
    assert not fits(STRONG, input_tokens(contract.prompt, contract.document, STRONG))
    assert fits(WEAK, input_tokens(contract.prompt, contract.document, WEAK))  # fits, but less capable
    cheap = improved(Request("列出附件里所有的交货截止日期", "zh-contract"))  # simple: the weak model fits
    assert cheap.model == WEAK and cheap.reasons[-1].code != "fallback"


def test_the_guard_refuses_when_nothing_the_tier_may_use_fits():
    route = improved(Request("Summarize the attached document", "en-manual", tier="free"))
    assert route.refused and route.reasons[-1].code == "refused"
    assert improved(Request("Summarize the attached document", "en-manual", tier="premium")).model == SPECIALIST


def test_the_chapters_router_never_checks_the_window():
    route = book_router(Request("总结这份合同", "zh-contract"))
    assert route.model == STRONG and route.reasons[-1].code == "book_too_long"
    assert route.input_tokens >= 8192


def test_length_and_threshold_routers():
    assert length_only(Request("What is 2+2?")).model == WEAK
    assert length_only(Request("Explain in detail how a hash map handles collisions and resizing")).model == STRONG
    assert length_only(Request("我们每月有两百万次请求，怎样在不降低质量的前提下把费用减半？")).model == WEAK  # < 50 chars
    prompt = "Prove that there are infinitely many prime numbers"
    score = classifier.classify(prompt).score
    assert threshold_router(Request(prompt), score).model == STRONG
    assert threshold_router(Request(prompt), score + 0.01).model == WEAK


# -- the chain, for real ---------------------------------------------------------------------------

def test_the_chain_calls_the_routed_model_and_only_it():
    models = mock_models(seed=1)
    ran = run_requests(build_chain(improved, models), [{"request": Request("What is the capital of France?")}])[0]
    assert ran.outcome == "ok" and ran.route.model == WEAK
    assert [len(m.calls) for m in models.values()] == [1, 0, 0]
    assert ran.cost_usd == pytest.approx(models[WEAK].calls[0].cost_usd) and ran.cost_usd > 0


def test_a_refusal_calls_no_model_and_a_too_long_prompt_fails_with_400():
    models = mock_models(seed=2)
    request = Request("Summarize the attached document", "en-manual", tier="free")
    refused = run_requests(build_chain(improved, models), [{"request": request}])[0]
    assert refused.outcome == "refused" and refused.cost_usd == 0
    assert all(len(m.calls) == 0 for m in models.values())
    failed = run_requests(build_chain(book_router, models), [{"request": Request("总结这份合同", "zh-contract")}],
                          book_router)[0]
    assert failed.outcome == "too_long" and "400" in failed.error
    assert models[STRONG].calls[0].outcome == "too_long"


def test_the_cascade_escalates_only_below_its_threshold():
    request = Request("Design a multi-region failover plan for a chat service")
    models = mock_models(seed=3)
    kept = run_requests(build_cascade(models, 0.5), [{"request": request, "verifier_score": 0.9}])[0]
    assert not kept.escalated and [len(m.calls) for m in models.values()] == [1, 0, 0]
    models = mock_models(seed=3)
    both = run_requests(build_cascade(models, 0.5), [{"request": request, "verifier_score": 0.2}])[0]
    assert both.escalated and [len(m.calls) for m in models.values()] == [1, 1, 0]
    assert both.cost_usd == pytest.approx(sum(m.calls[0].cost_usd for m in list(models.values())[:2]))
    assert both.latency_s > kept.latency_s


def test_accounting_agrees_with_the_chain_that_ran():
    result = routing_flow.COMPONENT.execute({"document_pct": "20", "tiers": "mixed"}, seed=4)
    day = routing_flow.Day(result.params, 4, shifted=False)
    table = accounting.case_table()
    for row in result.trace:
        case = day.traffic.case[row["request"]]
        if row["outcome"] != "ok":
            continue
        m = ["gpt-3.5-turbo", "gpt-4", "claude-3-opus"].index(row["model"])
        assert row["input_tokens"] == table.tokens_in[case, m]
        assert row["output_tokens"] == table.tokens_out[case, m]
        assert row["cost_usd"] == pytest.approx(table.list_cost[case, m])


# -- RouteLLM's measures ------------------------------------------------------------------------------

def test_cpt_and_apgr_on_known_curves():
    diagonal = [{"knob": s, "strong_share": s, "pgr": s} for s in np.linspace(0, 1, 11)]
    assert routellm.apgr(diagonal) == pytest.approx(0.5)
    assert routellm.cpt(diagonal, 0.5) == pytest.approx(0.5)
    bent = [{"knob": 0, "strong_share": 0.0, "pgr": 0.0}, {"knob": 1, "strong_share": 0.2, "pgr": 0.8},
            {"knob": 2, "strong_share": 1.0, "pgr": 1.0}]
    assert routellm.cpt(bent, 0.4) == pytest.approx(0.1)
    assert routellm.cpt(bent, 0.8) == pytest.approx(0.2)
    assert routellm.apgr(bent) == pytest.approx(0.5 * 0.2 * 0.8 + 0.8 * (0.8 + 1.0) / 2)
    assert routellm.cpt([{"knob": 0, "strong_share": 0.0, "pgr": 0.0}], 0.5) is None


def test_the_router_beats_the_random_baseline():
    scores = routing_flow.COMPONENT.execute({}, seed=0).metrics["routellm"]
    assert 0.4 < scores["random"]["apgr"] < 0.6
    assert scores["threshold"]["apgr"] > scores["random"]["apgr"] + 0.1
    assert scores["threshold"]["cpt50"] < scores["random"]["cpt50"]
    assert scores["strong_quality"] > scores["weak_quality"]


# -- the component ----------------------------------------------------------------------------------

def test_json_metrics_for_every_policy():
    metrics = routing_flow.COMPONENT.execute({}, seed=0).metrics
    assert set(metrics["policies"]) == {"strongest", "book", "length", "improved", "threshold", "cascade"}
    for figures in metrics["policies"].values():
        assert {"avg_cost_per_request_usd", "p95_latency_ms", "mean_quality"} <= figures.keys()
    assert metrics["avg_cost_per_request_usd"] == metrics["policies"]["improved"]["avg_cost_per_request_usd"]
    assert metrics["baseline_avg_cost_per_request_usd"] == metrics["policies"]["strongest"]["avg_cost_per_request_usd"]
    assert metrics["cost_reduction_pct"] == pytest.approx(
        100 * (1 - metrics["avg_cost_per_request_usd"] / metrics["baseline_avg_cost_per_request_usd"]))
    improved_, strongest_ = metrics["policies"]["improved"], metrics["policies"]["strongest"]
    assert improved_["avg_cost_per_request_usd"] < 0.7 * strongest_["avg_cost_per_request_usd"]
    assert improved_["mean_quality"] < strongest_["mean_quality"]
    assert metrics["policies"]["cascade"]["p95_latency_ms"] > strongest_["p95_latency_ms"]


def test_the_book_preset_reproduces_its_arithmetic_and_says_where_it_differs():
    result = routing_flow.COMPONENT.execute({}, preset="book-32.5", seed=0)
    codes = [n.code for n in result.notes]
    assert {"book_avg_cost", "book_reduction", "book_monthly", "book_latency", "book_simulated",
            "book_quality", "book_premium", "book_keywords", "book_windows", "book_prices", "book_cost_code",
            "book_context_dropped"} <= set(codes)
    words = next(n for n in result.notes if n.code == "book_cost_code").data
    assert words["estimate"] < words["billed"]  # words of the answer at one price miss most of the bill
    assert result.metrics["book_preset"]
    assert result.metrics["baseline_avg_cost_per_request_usd"] == pytest.approx(0.03)  # all GPT-4, flat price
    check = {row["claim"]: row for row in result.series["book_check"]}
    assert check["avg_cost"]["recomputed"] == pytest.approx(0.0132) and check["avg_cost"]["chapter"] == 0.011
    # Its keyword rules miss most simple requests, so the router it wrote costs far more than its table.
    assert check["avg_cost"]["run"] > 1.5 * check["avg_cost"]["recomputed"]


def test_the_notes_take_the_chapters_figures_from_its_constants(monkeypatch):
    claimed = book.Claims(avg_cost=0.012, reduction=0.7, monthly=12_000, success=0.97)
    monkeypatch.setattr(book, "CLAIMED", claimed)
    monkeypatch.setattr(book, "MIX", {"simple": 0.5, "medium": 0.4, "complex": 0.1})
    notes = {n.code: n.text for n in routing_flow.COMPONENT.execute({}, preset="book-32.5", seed=0).notes}
    assert "to $0.012 a request" in notes["book_avg_cost"]
    assert "50% × $0.002 + 40% × $0.03 + 10% × $0.03 = $0.016" in notes["book_avg_cost"]
    assert "a 70% saving" in notes["book_reduction"] and "not $12,000" in notes["book_monthly"]
    assert "(50% × 1.5 + 50% × 3.0, in seconds)" in notes["book_latency"]
    assert "97% versus 99%" in notes["book_quality"]


def test_the_chinese_notes_say_what_the_english_keywords_did():
    notes = {n.code: n for n in routing_flow.COMPONENT.execute(
        {"chinese_pct": "100", "code_pct": "30"}, seed=0).notes}
    assert notes["book_chinese"].data["medium"] > 85
    assert 0 < notes["book_chinese_code"].data["share"] < 50  # only the prompts that say "debug"
    assert notes["book_chinese_lookups"].data["share"] == 100  # premium, balanced: MEDIUM goes to gpt-4
    free = {n.code for n in routing_flow.COMPONENT.execute({"chinese_pct": "100", "tiers": "free"}, seed=0).notes}
    assert "book_chinese" in free and "book_chinese_lookups" not in free  # a free user gets gpt-3.5-turbo
    english = {n.code for n in routing_flow.COMPONENT.execute({"chinese_pct": "0"}, seed=0).notes}
    assert not english & {"book_chinese", "book_chinese_code", "book_chinese_lookups"}


def test_chinese_traffic_sends_the_chapters_router_to_gpt4():
    metrics = routing_flow.COMPONENT.execute({"chinese_pct": "100"}, seed=0).metrics["policies"]
    assert metrics["book"]["model_shares"]["gpt-4"] > 0.85
    assert metrics["improved"]["model_shares"]["gpt-4"] < 0.5


def test_long_documents_fail_the_chapters_router_and_are_refused_clearly_by_ours():
    result = routing_flow.COMPONENT.execute({"document_pct": "30", "tiers": "mixed"}, seed=0)
    per = result.metrics["policies"]
    assert per["book"]["error_rate"] > 0.05
    assert per["improved"]["error_rate"] == 0 and per["improved"]["refused_rate"] > 0
    assert {"book_too_long", "refused"} <= {n.code for n in result.notes}


def test_a_tuned_threshold_goes_stale_on_tomorrows_traffic():
    result = routing_flow.COMPONENT.execute({"shift": "on", "policy": "threshold"}, seed=0)
    shift = result.metrics["shift"]
    assert shift["tomorrow"]["pgr"] < shift["today"]["pgr"] - 0.05
    assert shift["retuned"] is None or shift["retuned"]["strong_share"] > shift["tomorrow"]["strong_share"]
    assert "stale" in [n.code for n in result.notes]
    retune = next(n for n in result.notes if n.code == "retune")
    assert retune.data["reached"] >= retune.data["pgr"]  # the threshold it names does get back there


def test_the_flow_accounts_for_every_request():
    result = routing_flow.COMPONENT.execute({"tiers": "mixed", "document_pct": "10", "policy": "book"}, seed=2)
    flow = result.series["flow"]
    out_of_all = sum(link["value"] for link in flow["links"] if link["source"] == "all")
    into_models = sum(link["value"] for link in flow["links"] if link["target"].startswith("model:"))
    assert out_of_all == into_models == result.metrics["requests"]
    assert any(link["target"] == "model:too-long" for link in flow["links"])


# -- the prompt box ---------------------------------------------------------------------------------

def test_the_prompt_box_routes_and_runs_one_prompt():
    prompt, options = tool.parse({"prompt": "  什么是 Python？ "})
    assert prompt == "什么是 Python？" and options["tier"] == "premium" and options["policy"] == "improved"
    routed = tool.route_prompt(prompt, options)
    assert routed.path == ["class:simple", "tier:premium", "model:gpt-3.5-turbo"]
    assert routed.book_kind == "medium" and routed.ran.output_tokens > 0
    assert routed.worst_cost_usd == pytest.approx(
        (routed.route.input_tokens * 0.5 + ANSWER_BUDGET * 1.5) / 1e6)


def test_the_prompt_box_refuses_bad_input():
    with pytest.raises(tool.ToolError) as empty:
        tool.parse({"prompt": "   "})
    assert empty.value.field == "prompt"
    with pytest.raises(tool.ToolError) as long:
        tool.parse({"prompt": "x" * (tool.MAX_PROMPT_CHARS + 1)})
    assert long.value.data["n"] == tool.MAX_PROMPT_CHARS + 1
    for field, value in (("tier", "gold"), ("policy", "cascade"), ("document", "secret"), ("threshold", "2")):
        with pytest.raises(Exception) as refused:
            tool.parse({"prompt": "hi", field: value})
        assert refused.value.field == field


def test_the_code_that_ran_shows_the_chapters_own_branches():
    sources = {ref.title: inspect.getsource(ref.function) for ref in routing_flow.COMPONENT.code}
    assert "elif complexity == TaskComplexity.COMPLEX:" in sources["The chapter's selection rules, exactly"]
    assert "any(kw in prompt_lower for kw in CODE_KEYWORDS)" in sources["The chapter's classifier, exactly"]
