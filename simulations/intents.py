"""What a question is about: its intent, so a wrong cached answer is detectable.

The catalogue is static data for a customer-support and developer-assistant app:
each intent has a canonical question, paraphrases that mean the same thing (a
semantic cache should match them), a topic, a task complexity (0 easy .. 1 hard)
and the gist of a correct answer.  The catalogue is listed most-asked first:
workloads use that order as the popularity rank.

Some intents come in near-miss pairs (``NEAR_MISS_PAIRS``): two questions that read
alike but need different answers ("enable" vs "disable" two-factor authentication).
A cache that serves one for the other returns a wrong answer.

Unknown text gets an intent derived from its own words, so two different unknown
questions never share an answer by accident.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Intent:
    id: str
    topic: str
    complexity: float
    questions: tuple[str, ...]  # the first one is canonical, the rest are paraphrases
    answer: str  # the gist of a correct answer, enough to tell two intents apart

    @property
    def canonical(self) -> str:
        return self.questions[0]

    @property
    def paraphrases(self) -> tuple[str, ...]:
        return self.questions[1:]


def _intent(intent_id: str, topic: str, complexity: float, answer: str, *questions: str) -> Intent:
    return Intent(intent_id, topic, complexity, questions, answer)


CATALOGUE: tuple[Intent, ...] = (
    _intent("capital-france", "knowledge", 0.05, "Paris.",
            "What is the capital of France?", "What's the capital of France?",
            "What is France's capital city?", "Which city is the capital of France?",
            "Tell me the capital of France"),
    _intent("reset-password", "account", 0.15,
            "Use 'Forgot password' on the sign-in page; a reset link is emailed to you.",
            "How do I reset my password?", "I forgot my password, how can I reset it?",
            "How can I reset my password?", "Please help me reset my password",
            "What are the steps to recover a forgotten password?"),
    _intent("track-order", "shipping", 0.1,
            "Open Orders, pick the order and follow its tracking link.",
            "Where is my order?", "How can I track my order?", "Track my package",
            "What's the status of my order?", "Where is my package right now?"),
    _intent("python-language", "knowledge", 0.2,
            "Python is a general-purpose, dynamically typed programming language.",
            "What is Python?", "Tell me about the Python programming language",
            "What is the Python programming language?", "Explain what Python is",
            "Give me an overview of Python"),
    _intent("enable-2fa", "account", 0.2,
            "Settings > Security > Two-factor authentication > Turn on, then scan the QR code.",
            "How do I enable two-factor authentication?",
            "How can I turn on two-factor authentication?",
            "How do I set up 2FA on my account?", "Turn on 2FA for my account",
            "How do I activate two-step verification?"),
    _intent("cancel-subscription", "billing", 0.2,
            "Billing > Subscription > Cancel; you keep access until the period ends.",
            "How do I cancel my subscription?", "I want to cancel my subscription",
            "How can I stop my subscription from renewing?",
            "Cancel my monthly plan", "How do I end my membership?"),
    _intent("translate-hello-fr", "translation", 0.05, "bonjour",
            "Translate 'Hello' to French", "How do you say hello in French?",
            "What is hello in French?", "What is the French word for hello?",
            "Hello in French?"),
    _intent("what-is-ai", "knowledge", 0.3,
            "AI is the field of building systems that perform tasks needing human-like judgement.",
            "What is AI?", "What is artificial intelligence?",
            "Explain artificial intelligence", "Can you tell me what AI is?",
            "Define artificial intelligence"),
    _intent("refund-order-1234", "billing", 0.3,
            "Order 1234 qualifies; the refund reaches your card in 5-10 days.",
            "I want a refund for order 1234", "Please refund order #1234",
            "Can I get my money back for order 1234?",
            "How do I get a refund for order number 1234?", "Refund order 1234"),
    _intent("what-is-rag", "knowledge", 0.35,
            "Retrieval-augmented generation: fetch relevant documents, then let the model answer "
            "from them.",
            "What is RAG?", "What is retrieval-augmented generation?",
            "Explain retrieval augmented generation", "How does RAG work?",
            "What does RAG mean for LLM apps?"),
    _intent("cancel-order", "orders", 0.15,
            "Orders > pick the order > Cancel; possible until it ships.",
            "How do I cancel my order?", "I want to cancel my order",
            "Can I cancel an order I just placed?",
            "How can I cancel a purchase before it ships?", "Cancel my order"),
    _intent("install-langchain", "code", 0.2,
            "pip install langchain (and a provider package such as langchain-openai).",
            "How to install LangChain?", "How do I install LangChain?",
            "What is the command to install LangChain?", "Install LangChain with pip",
            "How do I set up LangChain in Python?"),
    _intent("what-is-langchain", "knowledge", 0.3,
            "LangChain is a framework for composing LLM calls, prompts, tools and retrieval.",
            "What is LangChain?", "Explain LangChain", "What is LangChain used for?",
            "Tell me about the LangChain framework", "What does LangChain do?"),
    _intent("math-two-plus-two", "math", 0.02, "4",
            "What is 2+2?", "What's two plus two?", "How much is 2 plus 2?",
            "Add 2 and 2", "What does 2+2 equal?"),
    _intent("disable-2fa", "account", 0.2,
            "Settings > Security > Two-factor authentication > Turn off, then confirm with a code.",
            "How do I disable two-factor authentication?",
            "How can I turn off two-factor authentication?",
            "How do I remove 2FA from my account?", "Turn off 2FA for my account",
            "How do I deactivate two-step verification?"),
    _intent("translate-dog-fr", "translation", 0.05, "chien",
            "Translate 'dog' to French", "How do you say dog in French?",
            "What is the French word for dog?", "Dog in French?",
            "French translation of dog"),
    _intent("translate-cat-es", "translation", 0.05, "gato",
            "Translate 'cat' to Spanish", "How do you say cat in Spanish?",
            "What is the Spanish word for cat?", "Cat in Spanish?"),
    _intent("translate-bird-de", "translation", 0.05, "Vogel",
            "Translate 'bird' to German", "How do you say bird in German?",
            "What is the German word for bird?", "Bird in German?"),
    _intent("upgrade-plan", "billing", 0.2,
            "Billing > Plan > Upgrade; the price difference is charged pro rata today.",
            "How do I upgrade my plan?", "I want to move to a higher plan",
            "How can I switch to a more expensive tier?", "Upgrade my plan"),
    _intent("convert-usd-eur", "finance", 0.15,
            "Multiply by the EUR-per-USD rate: at 0.90, 100 USD is 90 EUR.",
            "Convert 100 USD to EUR", "How much is 100 US dollars in euros?",
            "What is 100 USD in EUR?", "100 dollars to euros",
            "Change 100 USD into euros"),
    _intent("change-email", "account", 0.15,
            "Settings > Profile > Email; confirm the link sent to the new address.",
            "How do I change my email address?", "Update the email on my account",
            "How can I use a different email for my account?", "Change my account email"),
    _intent("tell-joke", "writing", 0.2,
            "Why did the developer go broke? Because they used up all their cache.",
            "Tell me a joke", "Tell me a funny joke", "Do you know any jokes?",
            "Make me laugh with a joke", "Say something funny"),
    _intent("python-str-to-int", "code", 0.2, "int('42') returns 42.",
            "How do I convert a string to an integer in Python?",
            "Python: turn a string into an int",
            "How can I parse a string as an integer in Python?",
            "Convert str to int in Python"),
    _intent("update-card", "billing", 0.15,
            "Billing > Payment method > Replace card.",
            "How do I update my credit card?", "Change my payment method",
            "How can I add a new card to my account?", "Update my billing card details"),
    _intent("ship-to-canada", "shipping", 0.1,
            "Yes, we deliver to Canada in 5-8 business days.",
            "Do you ship to Canada?", "Can I get my order delivered to Canada?",
            "Is shipping to Canada available?", "Do you deliver to Canada?"),
    _intent("delivery-time", "shipping", 0.1,
            "Standard delivery takes 3-5 business days, express 1-2.",
            "How long does shipping take?", "What is the usual delivery time?",
            "How many days does standard delivery take?", "How fast is shipping?"),
    _intent("create-api-key", "product", 0.25,
            "Settings > API keys > New key; copy it now, it is shown only once.",
            "How do I create an API key?", "Generate a new API key",
            "Where do I get an API key?", "How can I make an API token for my account?"),
    _intent("capital-germany", "knowledge", 0.05, "Berlin.",
            "What is the capital of Germany?", "What's the capital of Germany?",
            "What is Germany's capital city?", "Which city is the capital of Germany?"),
    _intent("return-item", "orders", 0.25,
            "Orders > pick the order > Return item; print the label and drop it off within 30 "
            "days.",
            "How do I return an item?", "How do I send back a product?",
            "I want to return something I bought", "How can I start a return?"),
    _intent("invoice-download", "billing", 0.1, "Billing > Invoices > Download PDF.",
            "Where can I download my invoice?", "How do I get a copy of my invoice?",
            "Download my latest invoice", "Where can I find my receipts?"),
    _intent("rate-limit-429", "code", 0.55,
            "429 means too many requests: wait for Retry-After, back off exponentially, lower "
            "concurrency.",
            "Why am I getting a 429 Too Many Requests error?",
            "What does HTTP 429 mean from your API?",
            "My API calls fail with 429, what should I do?",
            "How do I handle rate limit errors from the API?"),
    _intent("translate-goodbye-fr", "translation", 0.05, "au revoir",
            "Translate 'goodbye' to French", "How do you say goodbye in French?",
            "What is the French word for goodbye?", "Goodbye in French?"),
    _intent("translate-thank-you-fr", "translation", 0.05, "merci",
            "Translate 'thank you' to French", "How do you say thank you in French?",
            "What is thank you in French?", "Thank you in French?"),
    _intent("delete-account", "account", 0.25,
            "Settings > Account > Delete account; data is erased after 30 days.",
            "How do I delete my account?", "Please delete my account",
            "How can I close my account permanently?", "Remove my account and all my data"),
    _intent("charged-twice", "billing", 0.4,
            "One charge is a pending authorisation that drops off in 3 days; if both settle we "
            "refund one.",
            "Why was I charged twice this month?",
            "I see two charges on my card for one subscription",
            "You billed me twice", "Why do I have a duplicate charge?"),
    _intent("export-csv", "product", 0.3,
            "Settings > Data > Export > CSV; a download link is emailed when ready.",
            "How do I export my data to CSV?", "Can I download my data as a CSV file?",
            "Export my data to a spreadsheet", "How can I get a CSV export of my data?"),
    _intent("invite-teammate", "product", 0.2,
            "Workspace > Members > Invite, then enter their email.",
            "How do I invite a teammate?", "Add a new user to my team",
            "How can I give a colleague access to my workspace?",
            "Invite someone to my workspace"),
    _intent("poem-winter", "writing", 0.45,
            "A short poem on snow, frost and long nights.",
            "Write a poem about winter", "Compose a short poem about winter",
            "Write me a winter poem", "Can you write a poem on the theme of winter?"),
    _intent("convert-eur-usd", "finance", 0.15,
            "Multiply by the USD-per-EUR rate: at 1.11, 100 EUR is 111 USD.",
            "Convert 100 EUR to USD", "How much is 100 euros in US dollars?",
            "What is 100 EUR in USD?", "100 euros to dollars",
            "Change 100 EUR into US dollars"),
    _intent("cancel-vs-refund-policy", "billing", 0.35,
            "Cancelling stops renewals; refunds cover only the last charge if requested within 14 "
            "days.",
            "Do I get a refund if I cancel my subscription?",
            "Will cancelling my plan give me my money back?",
            "Is there a refund when I cancel?", "Do cancelled subscriptions get refunded?"),
    _intent("tell-tech-joke", "writing", 0.25,
            "There are 10 kinds of people: those who read binary and those who don't.",
            "Tell me a tech joke", "Tell me a programming joke",
            "Do you know a joke about computers?", "Tell me a joke about software engineers"),
    _intent("explain-backoff", "code", 0.5,
            "Each retry waits longer (e.g. 1 s, 2 s, 4 s) plus random jitter, so retries do not "
            "pile up.",
            "What is exponential backoff?", "Explain exponential backoff for retries",
            "How does exponential backoff work?", "Why do retries wait longer each time?"),
    _intent("downgrade-plan", "billing", 0.2,
            "Billing > Plan > Downgrade; the cheaper plan starts at the next renewal.",
            "How do I downgrade my plan?", "I want to move to a lower plan",
            "How can I switch to a cheaper tier?", "Downgrade my plan"),
    _intent("change-shipping-address", "shipping", 0.2,
            "Orders > pick the order > Edit address; possible until it ships.",
            "How do I change the shipping address on my order?",
            "I need to update the delivery address for my order",
            "Can I send my order to a different address?",
            "Change the delivery address of my order"),
    _intent("python-int-to-str", "code", 0.2, "str(42) returns '42'.",
            "How do I convert an integer to a string in Python?",
            "Python: turn an int into a string",
            "How can I format an integer as a string in Python?",
            "Convert int to str in Python"),
    _intent("async-vs-batch", "code", 0.6,
            "batch() suits a known list of inputs; async suits open-ended concurrent traffic such "
            "as a web server.",
            "When should I use async calls instead of batch calls?",
            "What is the difference between batch() and ainvoke() in LangChain?",
            "Should I use batch or async for many LLM requests?",
            "Async or batching: which is better for concurrent LLM calls?"),
    _intent("refund-order-5678", "billing", 0.3,
            "Order 5678 is past the 30-day window; we can offer store credit instead.",
            "I want a refund for order 5678", "Please refund order #5678",
            "Can I get my money back for order 5678?",
            "How do I get a refund for order number 5678?", "Refund order 5678"),
    _intent("translate-dog-es", "translation", 0.05, "perro",
            "Translate 'dog' to Spanish", "How do you say dog in Spanish?",
            "What is the Spanish word for dog?", "Dog in Spanish?"),
    _intent("import-csv", "product", 0.3,
            "Settings > Data > Import > CSV; map the columns, then confirm.",
            "How do I import data from a CSV file?", "Can I upload my data as a CSV file?",
            "Import my data from a spreadsheet", "How can I load a CSV file into my account?"),
    _intent("ship-from-canada", "shipping", 0.1,
            "No, orders ship from our US warehouse, so Canadian customers may pay import duties.",
            "Do you ship from Canada?", "Do my orders come from a warehouse in Canada?",
            "Is your warehouse in Canada?", "Are parcels sent from Canada?"),
    _intent("remove-teammate", "product", 0.2,
            "Workspace > Members > pick the person > Remove.",
            "How do I remove a teammate?", "Remove a user from my team",
            "How can I take away a colleague's access to my workspace?",
            "Kick someone out of my workspace"),
    _intent("sql-join", "code", 0.45,
            "INNER JOIN keeps matching rows only; LEFT JOIN keeps every left row, with NULLs "
            "where nothing matches.",
            "What is the difference between INNER JOIN and LEFT JOIN?",
            "INNER JOIN vs LEFT JOIN in SQL?", "How does a left join differ from an inner join?",
            "Explain inner and left joins in SQL"),
    _intent("poem-summer", "writing", 0.45,
            "A short poem on long days, heat and the sea.",
            "Write a poem about summer", "Compose a short poem about summer",
            "Write me a summer poem", "Can you write a poem on the theme of summer?"),
    _intent("regex-email", "code", 0.65,
            "A practical pattern is ^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$; full RFC 5322 validation "
            "needs a parser.",
            "Write a regex to validate an email address",
            "What regular expression checks if an email is valid?",
            "Give me a regex pattern for email addresses",
            "How do I validate emails with a regex?"),
    _intent("essay-ai", "writing", 0.75,
            "A long essay on the history, uses and risks of AI.",
            "Write a long essay about AI", "Write a detailed essay on artificial intelligence",
            "Compose a long-form essay about AI", "I need a long essay on artificial intelligence"),
    _intent("split-monolith", "architecture", 0.85,
            "Split along load and failure boundaries: gateway, chat, retrieval, agents, memory, "
            "model router; connect them with queues.",
            "How should I split a monolithic LLM app into microservices?",
            "What services should a large LLM application be broken into?",
            "How do I move my LLM monolith to a microservice architecture?",
            "Which parts of an LLM app deserve their own service?"),
    _intent("debug-slow-chain", "code", 0.7,
            "Time each step with callbacks, then cache repeated calls, batch independent ones and "
            "stream the answer.",
            "Why is my LangChain chain so slow and how do I find the bottleneck?",
            "How do I profile a slow LangChain pipeline?",
            "My LLM chain takes ten seconds, how do I find out where the time goes?",
            "Which step of my chain is slow and how can I measure it?"),
    _intent("design-rate-limiter", "architecture", 0.8,
            "A token bucket per user in Redis, refilled at the plan's rate and updated atomically "
            "by a Lua script.",
            "How do I design a per-user rate limiter for an LLM API?",
            "What is a good way to rate limit each user of my LLM service?",
            "How should I throttle requests per user across several API servers?",
            "Design a distributed rate limiter for an LLM gateway"),
    _intent("sqrt2-irrational", "math", 0.8,
            "Assume sqrt(2) = p/q in lowest terms; then p and q are both even, a contradiction.",
            "Prove that the square root of 2 is irrational",
            "Show that sqrt(2) cannot be written as a fraction",
            "Why is the square root of two irrational?",
            "Give a proof that root 2 is not rational"),
    _intent("eu-us-ai-regulation", "analysis", 0.95,
            "The EU regulates by risk category in one law; the US relies on sector rules and "
            "executive action; the gap shapes trade and standards.",
            "Analyze the geopolitical implications of EU versus US approaches to AI regulation",
            "Compare how the EU and the US regulate AI and what that means geopolitically",
            "What are the geopolitical consequences of the EU's AI rules versus the US approach?",
            "Contrast EU and US AI regulation and their global impact"),
)

# Pairs of intents whose questions read alike but need different answers.
NEAR_MISS_PAIRS: tuple[tuple[str, str], ...] = (
    ("enable-2fa", "disable-2fa"),
    ("cancel-order", "cancel-subscription"),
    ("refund-order-1234", "refund-order-5678"),
    ("convert-usd-eur", "convert-eur-usd"),
    ("translate-dog-fr", "translate-dog-es"),
    ("capital-france", "capital-germany"),
    ("upgrade-plan", "downgrade-plan"),
    ("ship-to-canada", "ship-from-canada"),
    ("python-str-to-int", "python-int-to-str"),
    ("export-csv", "import-csv"),
    ("invite-teammate", "remove-teammate"),
    ("poem-winter", "poem-summer"),
    ("cancel-subscription", "cancel-vs-refund-policy"),
    ("tell-joke", "tell-tech-joke"),
)

TOPICS: tuple[str, ...] = tuple(dict.fromkeys(intent.topic for intent in CATALOGUE))


@dataclass(frozen=True)
class Wording:
    """An intent's questions and answer in a language other than the catalogue's English."""

    questions: tuple[str, ...]  # the first one is the usual wording
    answer: str


# Simplified Chinese wording of the intents a learner meets on a Chinese page (the
# streaming demo).  Kept apart from CATALOGUE: workloads draw their traffic from the
# English questions only, so a translation added here never changes a simulation.
ZH_HANS: dict[str, Wording] = {
    "capital-france": Wording(("法国的首都是哪里？", "法国首都是哪个城市？"), "巴黎。"),
    "what-is-rag": Wording(
        ("什么是 RAG？", "什么是检索增强生成？", "RAG 是怎么工作的？"),
        "检索增强生成：先检索相关文档，再让模型依据这些文档作答。"),
    "rate-limit-429": Wording(
        ("为什么我的请求总是返回 429 Too Many Requests？", "调用 API 时遇到 429 错误该怎么办？"),
        "429 表示请求过多：按 Retry-After 等待，用指数退避重试，并降低并发。"),
    "poem-winter": Wording(
        ("写一首关于冬天的诗", "以冬天为题写一首短诗"),
        "一首小诗：雪落无声，霜花满窗，长夜里炉火正暖。"),
}
TRANSLATIONS: dict[str, dict[str, Wording]] = {"zh-hans": ZH_HANS}

# Words (apostrophes inside them kept) and the symbols that change meaning, so
# "2+2" and "2*2" stay different while "Translate 'dog'" matches "translate dog".
_TOKEN = re.compile(r"\w+(?:'\w+)*|[+*/=<>%$€£¥]", re.UNICODE)


def normalize(text: str) -> str:
    """Lower-case, drop punctuation, collapse spaces: trivial variants of one text match."""
    return " ".join(_TOKEN.findall(text.lower().replace("\u2019", "'")))


def _index(
    catalogue: tuple[Intent, ...], near_misses: tuple[tuple[str, str], ...]
) -> tuple[dict[str, Intent], dict[str, Intent]]:
    """Look-up tables by normalized question and by id; refuse inconsistent data at import."""
    by_text: dict[str, Intent] = {}
    by_id: dict[str, Intent] = {}
    for intent in catalogue:
        if intent.id in by_id:
            raise ValueError(f"duplicate intent id {intent.id!r}")
        if not 0.0 <= intent.complexity <= 1.0:
            raise ValueError(f"{intent.id}: complexity must be within [0, 1]")
        by_id[intent.id] = intent
        for question in intent.questions:
            owner = by_text.setdefault(normalize(question), intent)
            if owner is not intent:
                raise ValueError(f"{question!r} belongs to both {owner.id} and {intent.id}")
    for pair in near_misses:
        if pair[0] == pair[1] or not set(pair) <= by_id.keys():
            raise ValueError(f"near-miss pair {pair} needs two different known intents")
    for language, wordings in TRANSLATIONS.items():
        for intent_id, wording in wordings.items():
            if intent_id not in by_id:
                raise ValueError(f"{language} wording for unknown intent {intent_id!r}")
            for question in wording.questions:
                owner = by_text.setdefault(normalize(question), by_id[intent_id])
                if owner.id != intent_id:
                    raise ValueError(f"{question!r} belongs to both {owner.id} and {intent_id}")
    return by_text, by_id


_BY_TEXT, _BY_ID = _index(CATALOGUE, NEAR_MISS_PAIRS)


def intent_of(text: str) -> str:
    """The intent id of ``text``: from the catalogue, else a digest of its normalized words."""
    key = normalize(text)
    known = _BY_TEXT.get(key)
    if known is not None:
        return known.id
    return "text-" + hashlib.sha256(key.encode()).hexdigest()[:10]


def get(intent_id: str) -> Intent:
    return _BY_ID[intent_id]


def _wording(intent_id: str, language: str) -> Wording | None:
    code = language.lower()
    return TRANSLATIONS.get("zh-hans" if code.startswith("zh") else code, {}).get(intent_id)


def questions_in(intent_id: str, language: str) -> tuple[str, ...]:
    """The intent's questions in ``language`` (a code such as "zh-hans"), else in English."""
    wording = _wording(intent_id, language)
    return wording.questions if wording else get(intent_id).questions


def answer_in(intent_id: str, language: str) -> str:
    """The gist of the intent's answer in ``language``, else in English."""
    wording = _wording(intent_id, language)
    return wording.answer if wording else get(intent_id).answer
