"""Which failures are worth another try.

A timeout, a 429 and a 5xx say "not now": the same request may well succeed a
moment later.  A 400 (a malformed or over-long request) and a 401 (a wrong API
key) say "never": sending the same request again fails the same way, costs a
call, and for a 401 may get the key locked.  Retries are only for the first kind.
"""

from __future__ import annotations

from ..mock_llm import (
    AuthenticationError,
    BadRequestError,
    ConnectionCutError,
    ContextLengthError,
    ModelTimeoutError,
    RateLimitError,
    ServerError,
)
from ..text import gettext_noop

# The error classes of the lab, by name: what a learner toggles and what a chart counts.
ERROR_CLASSES: dict[str, tuple[type[BaseException], ...]] = {
    "timeout": (ModelTimeoutError,),
    "rate_limited": (RateLimitError,),
    "server_error": (ServerError,),  # 500 and 503
    "cut": (ConnectionCutError,),  # the connection dropped part-way through the reply
    "bad_request": (BadRequestError, ContextLengthError),
    "unauthorized": (AuthenticationError,),
}
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (ModelTimeoutError, RateLimitError, ServerError,
                                                    ConnectionCutError)
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (BadRequestError, ContextLengthError, AuthenticationError)

# What a retry layer retries: the choices of the lab's "retry on" menu.
RETRY_ON: dict[str, tuple[type[BaseException], ...]] = {
    "transient": TRANSIENT_ERRORS,  # timeouts, 429, 5xx: the advice of 30.5.3
    "all": (Exception,),  # with_retry's default, which the chapter's 30.5.1 keeps
    "rate_limit": (RateLimitError,),  # 30.5.2's retry_if_exception_type(RateLimitError)
}
RETRY_ON_LABELS = {
    "transient": gettext_noop("transient errors (timeouts, 429, 5xx)"),
    "all": gettext_noop("every exception (with_retry's default)"),
    "rate_limit": gettext_noop("429 only (the chapter's 30.5.2)"),
}


def is_transient(error: BaseException) -> bool:
    return isinstance(error, TRANSIENT_ERRORS)


def error_class(error: BaseException) -> str:
    """The lab's name for an error: one of ERROR_CLASSES, else its type's name."""
    for name, types in ERROR_CLASSES.items():
        if isinstance(error, types):
            return name
    return type(error).__name__
