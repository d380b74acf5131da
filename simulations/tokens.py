"""Token counting with the OpenAI encodings bundled in ``bpe_openai``.

``bpe_openai`` ships the encoding files inside the package, so counting works
offline (``tiktoken`` downloads them on first use).  Results are memoised: they
depend only on the text and the encoding, and the mock model counts the same
questions and answers over and over.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from functools import lru_cache

import bpe_openai

# OpenAI's published rule for chat requests: every message is wrapped in a few
# formatting tokens, and the reply is primed with a few more.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_REPLY = 3


@lru_cache(maxsize=None)
def encoding(name: str) -> bpe_openai.Encoding:
    """The encoding called ``name`` (e.g. 'o200k_base'); loading one takes a fraction of a second."""
    return bpe_openai.get_encoding(name)


@lru_cache(maxsize=65_536)
def count_tokens(text: str, encoding_name: str) -> int:
    return len(encoding(encoding_name).encode_ordinary(text))


def count_chat_tokens(texts: Iterable[str], encoding_name: str) -> int:
    """Prompt tokens of a chat request whose messages have these texts."""
    return TOKENS_PER_REPLY + sum(
        count_tokens(text, encoding_name) + TOKENS_PER_MESSAGE for text in texts
    )


def token_pieces(text: str, encoding_name: str) -> tuple[str, ...]:
    """``text`` cut at token boundaries, one piece per token: what a streaming reply sends.

    A token may end inside a multi-byte character (common in Chinese); its piece
    is then empty and the next piece carries the whole character, so joining the
    pieces always gives back ``text``.
    """
    enc = encoding(encoding_name)
    decoder = codecs.getincrementaldecoder("utf-8")()
    return tuple(
        decoder.decode(enc.decode_single_token_bytes(token))
        for token in enc.encode_ordinary(text)
    )
