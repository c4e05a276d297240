"""Errors of the LLM layer: bad configuration (exit 2 at launch) and failed calls."""

from __future__ import annotations

from chia.errors import ChiaError, ChiaUsageError

__all__ = ["LLMCallError", "LLMConfigError", "MissingAPIKeyError"]


class LLMConfigError(ChiaUsageError):
    """An LLM configuration that cannot work: unknown provider, missing key, placeholder."""


class MissingAPIKeyError(LLMConfigError):
    """The variable that should hold the API key is unset or empty."""


class LLMCallError(ChiaError):
    """A call to a model failed (HTTP error, timeout, bad response); secrets are redacted."""
