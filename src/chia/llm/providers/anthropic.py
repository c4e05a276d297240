"""The ``anthropic`` provider: Claude over the Messages API, through langchain-anthropic.

The key is read from ``lm.api_key_env`` (default ``ANTHROPIC_API_KEY``) and sent as
``x-api-key``. ``thinking_budget`` turns on extended thinking; Anthropic then refuses
``temperature``, ``top_k`` and ``top_p``, so they are dropped, and ``max_tokens`` must
exceed the budget. Recent Claude models refuse ``temperature`` with ``top_p``: when both
are set, ``top_p`` is dropped. Thinking blocks are sent back within a tool loop (see
:mod:`chia.llm.langchain_chat`).
"""

from __future__ import annotations

from typing import Any

from langchain_anthropic import ChatAnthropic

from chia.llm.errors import LLMConfigError
from chia.llm.langchain_chat import LangChainChatLLM
from chia.llm.model_errors import retry_policy
from chia.llm.providers._common import (
    COMMON,
    check_placeholders,
    check_settings,
    thinking_max_tokens,
)
from chia.llm.settings import read_api_key

__all__ = ["DEFAULT_KEY_ENV", "SETTINGS", "AnthropicLLM", "make"]

DEFAULT_KEY_ENV = "ANTHROPIC_API_KEY"
SETTINGS = COMMON | {"top_p", "top_k", "thinking_budget"}
#: Refused by the Messages API while extended thinking is on.
THINKING_REFUSES = frozenset({"temperature", "top_k", "top_p"})
#: ChatAnthropic needs a completion budget; this is used when lm.max_tokens is unset.
DEFAULT_MAX_TOKENS = 4096


class AnthropicLLM(LangChainChatLLM):
    """Claude through langchain-anthropic's ChatAnthropic.

    Args:
        model: The model name (``claude-sonnet-4-5``...).
        base_url: The API root (default Anthropic's); ``/v1/messages`` is appended.
        api_key_env: The variable holding the key (default ``ANTHROPIC_API_KEY``).
        system_message: The system prompt :meth:`prompt` sends.
        settings: See :data:`SETTINGS`.

    Raises:
        LLMConfigError: For an unknown setting, a placeholder, a missing key or a bad
            thinking budget.
    """

    provider_name = "anthropic"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key_env: str | None = None,
        system_message: str = "",
        settings: dict[str, Any] | None = None,
    ) -> None:
        settings = dict(settings or {})
        check_settings(self.provider_name, settings, SETTINGS)
        check_placeholders(self.provider_name, model, {"base_url": base_url})
        super().__init__(model.strip(), system_message, retry_policy(settings))
        self.key_env = api_key_env or DEFAULT_KEY_ENV
        self._key = read_api_key(self.key_env)
        self.base_url = base_url
        budget = settings.pop("thinking_budget", None)
        kwargs: dict[str, Any] = {
            "model": self.model,
            "api_key": self._key,
            "timeout": settings.pop("timeout_s", 120.0),
            "max_retries": 0,
            "max_tokens": settings.pop("max_tokens", None),
        }
        if base_url:
            kwargs["base_url"] = base_url
        if budget is not None:
            kwargs["max_tokens"] = thinking_max_tokens(
                self.provider_name, budget, kwargs["max_tokens"]
            )
            kwargs["thinking"] = {"type": "enabled", "budget_tokens": budget}
            settings = {k: v for k, v in settings.items() if k not in THINKING_REFUSES}
        if "temperature" in settings:  # recent Claude models refuse both together
            settings.pop("top_p", None)
        kwargs["max_tokens"] = kwargs["max_tokens"] or DEFAULT_MAX_TOKENS
        self.thinking = budget is not None
        try:
            self.chat_model = ChatAnthropic(**kwargs, **settings)
        except ValueError as exc:  # pydantic's ValidationError included
            raise LLMConfigError(f"lm provider 'anthropic': {exc}") from None

    @property
    def auth_hint(self) -> str | None:
        """The variable to set when Anthropic refuses the key."""
        return f"set {self.key_env} to a valid Anthropic API key"

    def secrets(self) -> list[str]:
        """The API key."""
        return [self._key]


def make(
    model: str,
    *,
    base_url: str | None,
    api_key_env: str | None,
    system_message: str,
    settings: dict[str, Any],
) -> AnthropicLLM:
    """Build the ``anthropic`` provider's model (see :class:`AnthropicLLM`)."""
    return AnthropicLLM(
        model,
        base_url=base_url,
        api_key_env=api_key_env,
        system_message=system_message,
        settings=settings,
    )
