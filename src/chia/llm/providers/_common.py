"""Checks every native provider runs at build time: settings, placeholders, thinking."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from chia.llm.errors import LLMConfigError
from chia.llm.settings import find_placeholder, model_problem

__all__ = [
    "COMMON",
    "check_placeholders",
    "check_settings",
    "first_env",
    "thinking_max_tokens",
]

#: Settings every native provider takes.
COMMON = frozenset({"temperature", "max_tokens", "timeout_s", "max_retries", "retry_backoff_s"})
#: The smallest thinking budget Anthropic accepts.
MIN_THINKING_BUDGET = 1024
#: Room left for the answer when max_tokens is not set and thinking is on.
ANSWER_TOKENS = 4096


def check_settings(provider: str, settings: Mapping[str, Any], known: Iterable[str]) -> None:
    """Refuse settings ``provider`` does not take.

    Raises:
        LLMConfigError: Naming the unknown settings and the known ones.
    """
    allowed = set(known)
    unknown = sorted(set(settings) - allowed)
    if unknown:
        raise LLMConfigError(
            f"lm provider {provider!r}: unknown setting(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted(allowed))})"
        )


def check_placeholders(provider: str, model: str, values: Mapping[str, Any]) -> None:
    """Refuse an empty model and template placeholders left in string values.

    Raises:
        LLMConfigError: Naming the field.
    """
    if not model.strip():
        raise LLMConfigError(f"lm provider {provider!r} needs a model name")
    problem = model_problem(provider, model)
    if problem is not None:
        raise LLMConfigError(problem)
    for key, value in {"model": model, **values}.items():
        if isinstance(value, str):
            placeholder = find_placeholder(value)
            if placeholder is not None:
                raise LLMConfigError(
                    f"lm.{key} still holds the template placeholder {placeholder!r}: "
                    "replace it with a real value before launching"
                )


def first_env(*names: str) -> str | None:
    """The first of ``names`` set (non-empty) in the environment."""
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def thinking_max_tokens(provider: str, budget: Any, max_tokens: Any) -> int:
    """The ``max_tokens`` to send with a thinking budget (it must exceed the budget).

    Raises:
        LLMConfigError: A budget under 1024, or ``max_tokens`` not above the budget.
    """
    if not isinstance(budget, int) or budget < MIN_THINKING_BUDGET:
        raise LLMConfigError(
            f"lm provider {provider!r}: lm.thinking_budget must be an integer of at least "
            f"{MIN_THINKING_BUDGET} tokens (got {budget!r})"
        )
    if max_tokens is None:
        return budget + ANSWER_TOKENS
    if int(max_tokens) <= budget:
        raise LLMConfigError(
            f"lm provider {provider!r}: lm.max_tokens ({max_tokens}) must be greater than "
            f"lm.thinking_budget ({budget}); thinking tokens count against max_tokens"
        )
    return int(max_tokens)
