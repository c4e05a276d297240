"""Errors of the LLM layer: bad configuration (exit 2 at launch) and failed calls."""

from __future__ import annotations

from typing import Literal

from chia.errors import ChiaError, ChiaUsageError

__all__ = [
    "FATAL_KINDS",
    "LLMCallError",
    "LLMConfigError",
    "MissingAPIKeyError",
    "MissingExtraError",
    "ModelErrorKind",
]

#: What went wrong with a model call, as the policy acts on it.
ModelErrorKind = Literal[
    "rate_limit",  # 429: wait as Retry-After says, then try again
    "server",  # 5xx: retry with backoff
    "timeout",  # no answer in time (or the connection broke): retry with backoff
    "auth",  # 401/403: the key or credentials are wrong; stop the agent
    "quota",  # 402 or an exhausted quota/credit: stop the agent
    "context_length",  # the conversation is longer than the model's window
    "bad_request",  # any other 4xx
    "other",
]
#: Kinds after which further calls cannot succeed: the agent stops.
FATAL_KINDS = frozenset({"auth", "quota"})


class LLMConfigError(ChiaUsageError):
    """An LLM configuration that cannot work: unknown provider, missing key, placeholder."""


class MissingAPIKeyError(LLMConfigError):
    """The variable that should hold the API key is unset or empty."""


class MissingExtraError(LLMConfigError):
    """A provider's integration package is not installed (the message names the extra)."""


class LLMCallError(ChiaError):
    """A call to a model failed (HTTP error, timeout, bad response); secrets are redacted.

    Args:
        message: What happened (already redacted).
        kind: The class of failure (see :data:`ModelErrorKind`).
        provider: The provider that failed, if known.
        status: The HTTP status, if there was one.
        retry_after_s: What the provider's ``Retry-After`` asked for, if anything.
        hint: What the operator should do (e.g. which variable to set).
    """

    def __init__(
        self,
        message: str,
        *,
        kind: ModelErrorKind = "other",
        provider: str | None = None,
        status: int | None = None,
        retry_after_s: float | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: ModelErrorKind = kind
        self.provider = provider
        self.status = status
        self.retry_after_s = retry_after_s
        self.hint = hint

    @property
    def fatal(self) -> bool:
        """True when retrying cannot help (bad credentials, no quota left)."""
        return self.kind in FATAL_KINDS
