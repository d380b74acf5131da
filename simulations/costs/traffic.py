"""A day's traffic, as a sample of requests: who asks what, with which prompt, when.

Every request is a support-assistant call: the same system instructions, a context
message (retrieved help-centre passages, plus the customer's own details for a
personal request), and the customer's question from the intent catalogue.

* Its **class** (simple, medium, complex) comes from its intent's complexity; the
  sample holds each class in the share asked for, exactly (rounded to whole requests).
* A **repeated** request asks a popular question word for word with the help-centre
  context only, so its prompt is byte-identical to earlier ones: an exact cache can
  answer it.  Any other request carries the customer's details: no cache ever can.
* With ``equal_sizes`` every prompt is padded to the same number of tokens (and the
  model is asked for replies of one length), so cost differs only by price.

Arrivals are a Poisson stream at the day's average rate: the sample is a slice of
the day, and its costs are scaled up to the day's request count.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from .. import intents
from ..tokens import count_chat_tokens, count_tokens

CLASSES = ("simple", "medium", "complex")
SECONDS_PER_DAY = 86_400
ENCODING = "o200k_base"  # gpt-4o and gpt-4o-mini share it
POPULAR_PER_CLASS = 6  # the questions of each class that keep coming back
EQUAL_PROMPT_TOKENS = 400  # the prompt size of every request when sizes are equal
EQUAL_REPLY_TOKENS = 120  # and the reply size

SYSTEM_PROMPT = (
    "You are the support assistant of Nimbus Cloud, a hosting company. Answer the customer's "
    "question from the context below. Be accurate and brief, say when the context does not "
    "answer the question, and never invent account details."
)

# Help-centre passages a retriever might return; the compressor decides which survive.
PASSAGES = (
    "Nimbus Cloud support answers in English and Chinese around the clock.",
    "Accounts on the Free plan get community support; Pro and Enterprise plans include email support.",
    "Enterprise customers have a named account manager and a 99.95% uptime commitment.",
    "Invoices are issued on the first day of each month and can be downloaded as PDF files.",
    "Payment cards can be updated at any time; the new card is charged from the next invoice.",
    "Refunds are paid to the original payment method within five to ten business days.",
    "A subscription renews automatically unless it is cancelled before the renewal date.",
    "Two-factor authentication can use an authenticator app or a hardware security key.",
    "Password reset links expire after thirty minutes and can be used once.",
    "API keys are shown once, when they are created; store them in a secret manager.",
    "Each API key can be restricted to a project and given an expiry date.",
    "Rate limits are counted per organisation and per minute, for requests and for tokens.",
    "A 429 response carries a Retry-After header that says how long to wait.",
    "Data exports are prepared in the background and emailed as a download link.",
    "Imports accept CSV files up to 50 MB encoded in UTF-8 with a header row.",
    "Team owners can invite members by email and assign them the viewer, editor or admin role.",
    "Removing a member revokes their sessions and their personal API keys at once.",
    "Orders ship from our warehouses in Rotterdam, Toronto and Singapore.",
    "Standard delivery takes three to five business days; express delivery takes one to two.",
    "A tracking link is emailed as soon as the parcel leaves the warehouse.",
    "Items can be returned within thirty days if they are unused and in their original packaging.",
    "The status page lists incidents, maintenance windows and the uptime of every region.",
    "Scheduled maintenance is announced at least seven days in advance.",
    "Logs are kept for thirty days on Pro plans and for one year on Enterprise plans.",
    "Deleting an account is permanent after a fourteen-day grace period.",
    "Changing the account email requires confirming the new address with a code.",
    "Plans can be upgraded at any time; the price difference is prorated for the current month.",
    "Downgrades take effect at the end of the current billing period.",
    "The developer guide has examples in Python, JavaScript and Go.",
    "Long-running requests should use streaming so that the first words arrive quickly.",
    "Batch jobs can be submitted through the Batch API and finish within twenty-four hours.",
    "Support tickets are answered within one business day on Pro plans.",
)
CUSTOMER = ("Customer {id} has been on the {plan} plan since {year}, works in the {region} "
            "region and last contacted support about {topic}.")
PLANS = ("Free", "Pro", "Enterprise")
REGIONS = ("Frankfurt", "Virginia", "Singapore", "Tokyo", "Sao Paulo")
TOPICS = ("billing", "an API error", "a slow deployment", "a delivery", "their password", "exports")


@dataclass(frozen=True)
class Request:
    id: int
    arrival_s: float
    klass: str  # simple, medium or complex
    intent: str
    question: str
    repeated: bool  # asked word for word before, with the same context
    messages: tuple[BaseMessage, ...]

    @property
    def prompt_tokens(self) -> int:
        """Prompt tokens as the provider counts them (chat format included)."""
        return chat_tokens(self.messages)


@dataclass(frozen=True)
class TrafficSpec:
    requests: int  # the sample
    requests_per_day: float
    simple_share: float
    complex_share: float  # the rest is medium; capped at 1 - simple_share
    repeat_share: float
    context_tokens: int
    equal_sizes: bool = False

    def shares(self) -> dict[str, float]:
        complex_share = min(self.complex_share, 1.0 - self.simple_share)
        return {"simple": self.simple_share, "medium": 1.0 - self.simple_share - complex_share,
                "complex": complex_share}

    @property
    def rate_per_s(self) -> float:
        return self.requests_per_day / SECONDS_PER_DAY


def complexity_class(complexity: float) -> str:
    if complexity < 0.3:
        return "simple"
    return "medium" if complexity < 0.6 else "complex"


@lru_cache(maxsize=1)
def intents_by_class() -> dict[str, tuple[intents.Intent, ...]]:
    """Catalogue intents of each class, most asked first (the catalogue's order)."""
    return {k: tuple(i for i in intents.CATALOGUE if complexity_class(i.complexity) == k) for k in CLASSES}


def class_of_question(question: str) -> str:
    """The class of a catalogue question (what a request's label says); medium if unknown."""
    try:
        return complexity_class(intents.get(intents.intent_of(question)).complexity)
    except KeyError:
        return "medium"


def class_counts(spec: TrafficSpec) -> dict[str, int]:
    """Whole requests per class, in the shares asked for (largest remainders)."""
    shares = spec.shares()
    exact = {k: spec.requests * shares[k] for k in CLASSES}
    counts = {k: int(exact[k]) for k in CLASSES}
    left = spec.requests - sum(counts.values())
    for k in sorted(CLASSES, key=lambda k: (-(exact[k] - counts[k]), CLASSES.index(k)))[:left]:
        counts[k] += 1
    return counts


def generate(spec: TrafficSpec, seed: int) -> list[Request]:
    """The sample, in arrival order; the same seed gives the same requests."""
    rng = random.Random(f"traffic|{seed}")
    counts = class_counts(spec)
    classes = [k for k in CLASSES for _ in range(counts[k])]
    rng.shuffle(classes)
    repeated = [i < round(spec.requests * spec.repeat_share) for i in range(spec.requests)]
    rng.shuffle(repeated)
    requests = []
    t = 0.0
    for index, (klass, again) in enumerate(zip(classes, repeated)):
        t += rng.expovariate(spec.rate_per_s)
        pool = intents_by_class()[klass]
        if again:
            popular = pool[:POPULAR_PER_CLASS]
            intent = rng.choices(popular, weights=[1 / (r + 1) for r in range(len(popular))])[0]
            question, customer = intent.canonical, ""
        else:
            intent = rng.choice(pool)
            question = rng.choice(intent.questions)
            customer = CUSTOMER.format(id=rng.randrange(10_000, 99_999), plan=rng.choice(PLANS),
                                       year=rng.randrange(2019, 2026), region=rng.choice(REGIONS),
                                       topic=rng.choice(TOPICS))
        messages = build_messages(intent.id, question, customer, spec.context_tokens, spec.equal_sizes)
        requests.append(Request(index, t, klass, intent.id, question, again, messages))
    return requests


def build_messages(intent_id: str, question: str, customer: str, context_tokens: int,
                   equal_sizes: bool) -> tuple[BaseMessage, ...]:
    context = _context(intent_id, context_tokens)
    if customer:
        context = customer + " " + context if context else customer
    if equal_sizes:
        context = _padded(context, question)
    messages: list[BaseMessage] = [SystemMessage(SYSTEM_PROMPT)]
    if context:
        messages.append(SystemMessage("Context: " + context))
    messages.append(HumanMessage(question))
    return tuple(messages)


def chat_tokens(messages: tuple[BaseMessage, ...]) -> int:
    return count_chat_tokens([m.text for m in messages], ENCODING)


@lru_cache(maxsize=512)
def _context(intent_id: str, target_tokens: int) -> str:
    """Passages retrieved for an intent: its own answer first, then others, to about ``target_tokens``."""
    if target_tokens <= 0:
        return ""
    try:
        answer = intents.get(intent_id).answer
    except KeyError:
        answer = ""
    order = random.Random(f"passages|{intent_id}").sample(PASSAGES, len(PASSAGES))
    chosen = [f"Answer on file: {answer}"] if answer else []
    tokens = sum(count_tokens(" " + s, ENCODING) for s in chosen)
    index = 0
    while tokens < target_tokens:
        sentence = order[index % len(order)]
        chosen.append(sentence)
        tokens += count_tokens(" " + sentence, ENCODING)
        index += 1
    return " ".join(chosen)


@lru_cache(maxsize=4096)
def _padded(context: str, question: str) -> str:
    """``context`` cut or padded with filler so the whole prompt has EQUAL_PROMPT_TOKENS tokens."""
    def total(text: str) -> int:
        return count_chat_tokens([SYSTEM_PROMPT, "Context: " + text, question], ENCODING)

    words = context.split()
    low, high = 0, len(words)  # the most words that fit: a binary search, each step one count
    while low < high:
        middle = (low + high + 1) // 2
        if total(" ".join(words[:middle])) <= EQUAL_PROMPT_TOKENS:
            low = middle
        else:
            high = middle - 1
    text = " ".join(words[:low])
    while (missing := EQUAL_PROMPT_TOKENS - total(text)) > 0:
        text += " ." * missing  # one token each; counted again in case two merge
    while total(text) > EQUAL_PROMPT_TOKENS:
        text = text[:-2]
    return text
