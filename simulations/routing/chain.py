"""The router as a langchain-core chain: a decision, then a ``RunnableBranch`` over the models.

``build_chain`` is the chain the lesson shows and the simulation runs: the
policy decides (``route``), then the branch whose condition names that model
sends the messages to it; a request no model may take gets a refusal instead of
a call.  ``build_cascade`` asks the weak model first and sends the request on to
the strong model when a verifier scores the weak answer below a threshold.

The models are :class:`~simulations.mock_llm.MockChatModel` instances with the
profiles' prices, speeds and context windows, run on the virtual clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable, RunnableBranch, RunnableLambda, RunnablePassthrough

from ..clock import run_virtual
from ..mock_llm import MockChatModel, MockLLMError
from .models import ANSWER_BUDGET, MODELS
from .policies import CONTEXT_HEADER, Request, Route, strongest, weakest


def inline(function: Callable[[Any], Any]) -> RunnableLambda:
    """A step that runs ``function`` in place, also under ``ainvoke``.

    For a plain function, ``RunnableLambda.ainvoke`` hands the call to a thread
    pool; these steps take microseconds, so they run inline instead.
    """

    async def run_inline(value: Any) -> Any:
        return function(value)

    return RunnableLambda(function, afunc=run_inline)


def mock_models(seed: int) -> dict[str, MockChatModel]:
    """One mock per model of the catalogue; no injected faults, so routing is all that varies."""
    return {name: MockChatModel(model=name, seed=seed * 7919 + i, failure_rate=0.0, timeout_rate=0.0,
                                max_tokens=ANSWER_BUDGET)
            for i, name in enumerate(MODELS)}


def to_messages(inputs: Mapping[str, Any]) -> list[BaseMessage]:
    """The attached document as a system message, then the user's question."""
    request: Request = inputs["request"]
    messages: list[BaseMessage] = []
    if request.document:
        messages.append(SystemMessage(f"{CONTEXT_HEADER}\n\n{request.context}"))
    messages.append(HumanMessage(request.prompt))
    return messages


def refusal(inputs: Mapping[str, Any]) -> AIMessage:
    """No model this request may use can read it: say so instead of calling one."""
    return AIMessage("", response_metadata={"refused": True, "cost_usd": 0.0, "latency_s": 0.0})


def model_branch(models: Mapping[str, BaseChatModel]) -> RunnableBranch:
    """One branch per model, chosen by the route's model name; the default is the refusal."""

    def routed_to(name: str) -> Runnable:
        return inline(lambda inputs: inputs["route"].model == name)

    return RunnableBranch(
        *[(routed_to(name), inline(to_messages) | model) for name, model in models.items()],
        inline(refusal),
    )


def build_chain(decide: Callable[[Request], Route], models: Mapping[str, BaseChatModel]) -> Runnable:
    """``{"request": Request}`` in; the same dict plus ``route`` and ``answer`` out."""
    return (
        RunnablePassthrough.assign(route=inline(lambda inputs: decide(inputs["request"])))
        | RunnablePassthrough.assign(answer=model_branch(models))
    )


def build_cascade(models: Mapping[str, BaseChatModel], threshold: float) -> Runnable:
    """Weak model first; the strong model too when the verifier's score of that answer is below ``threshold``.

    The input carries ``verifier_score``: in the simulation a verifier is drawn,
    not run (a real one is a grader model or a rule that checks the answer).
    """
    branch = model_branch(models)
    first = (RunnablePassthrough.assign(route=inline(lambda inputs: weakest(inputs["request"])))
             | RunnablePassthrough.assign(answer=branch))
    escalate = (RunnablePassthrough.assign(first_answer=inline(lambda inputs: inputs["answer"]),
                                           route=inline(lambda inputs: strongest(inputs["request"])))
                | RunnablePassthrough.assign(answer=branch))

    def good_enough(inputs: Mapping[str, Any]) -> bool:
        same_model = inputs["route"].model == strongest(inputs["request"]).model
        return same_model or inputs["verifier_score"] >= threshold

    return first | RunnableBranch((inline(good_enough), RunnablePassthrough()), escalate)


@dataclass(frozen=True)
class Ran:
    """One request through the real chain: its route and what the model(s) reported."""

    route: Route
    outcome: str  # "ok", "refused" or "too_long" (the provider's 400)
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_s: float
    answer: str
    escalated: bool = False
    error: str = ""


def _ran(output: Mapping[str, Any] | BaseException, route: Route | None) -> Ran:
    if isinstance(output, MockLLMError):
        return Ran(route, "too_long", route.input_tokens, 0, 0.0, 0.0, "", error=str(output))
    answer: AIMessage = output["answer"]
    route = output["route"]
    if answer.response_metadata.get("refused"):
        return Ran(route, "refused", route.input_tokens, 0, 0.0, 0.0, "")
    calls = [m for m in (output.get("first_answer"), answer) if m is not None]
    usage = [m.usage_metadata or {} for m in calls]
    return Ran(
        route, "ok",
        input_tokens=sum(u.get("input_tokens", 0) for u in usage),
        output_tokens=sum(u.get("output_tokens", 0) for u in usage),
        cost_usd=sum(m.response_metadata["cost_usd"] for m in calls),
        latency_s=sum(m.response_metadata["latency_s"] for m in calls),
        answer=answer.text, escalated="first_answer" in output,
    )


def run_requests(chain: Runnable, inputs: Sequence[Mapping[str, Any]],
                 decide: Callable[[Request], Route] | None = None) -> list[Ran]:
    """Each input through ``chain`` in turn, on a fresh virtual clock.

    A provider error (the 400 of a prompt longer than the window, which only the
    chapter's router lets through) is returned in the request's place, with the
    route ``decide`` gave it.
    """

    async def main() -> list[Ran]:
        out = []
        for item in inputs:
            try:
                out.append(_ran(await chain.ainvoke(dict(item)), None))
            except MockLLMError as error:
                out.append(_ran(error, decide(item["request"]) if decide else None))
        return out

    return run_virtual(main)
