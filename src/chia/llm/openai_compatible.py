"""The ``openai_compatible`` provider: any chat-completions endpoint, through ChatOpenAI.

OpenAI itself, vLLM, Ollama, OpenRouter, Groq, Fireworks and Argo-style gateways differ
only in ``base_url``, the key variable and (Argo) a ``user`` field. Reasoning models get no
sampling knobs (see :mod:`chia.llm.reasoning`). The key lives only in ChatOpenAI's
``SecretStr``; errors are redacted before they leave this module. Retries are chia's
(:mod:`chia.llm.model_errors`), not the SDK's.
"""

from __future__ import annotations

from typing import Any

from langchain_openai import ChatOpenAI

from chia.llm.errors import LLMConfigError
from chia.llm.langchain_chat import LangChainChatLLM
from chia.llm.model_errors import retry_policy
from chia.llm.reasoning import drop_sampling_knobs, is_reasoning_model
from chia.llm.settings import LLMConfig, read_api_key

__all__ = ["SETTINGS", "OpenAICompatibleLLM"]

#: Settings this provider understands (anything else is a configuration error).
SETTINGS = frozenset(
    {
        "temperature",
        "max_tokens",
        "timeout_s",
        "max_retries",
        "retry_backoff_s",
        "user",
        "top_p",
        "presence_penalty",
        "frequency_penalty",
        "seed",
        "reasoning_effort",
    }
)
#: Sent when no key is configured (vLLM, Ollama); an explicit value keeps ChatOpenAI
#: from picking up OPENAI_API_KEY and sending it to some other endpoint.
_NO_KEY = "not-needed"


class OpenAICompatibleLLM(LangChainChatLLM):
    """A chat-completions model reached through langchain-openai's ChatOpenAI.

    Args:
        config: The resolved configuration (see :meth:`LLMConfig.resolve`).
        system_message: The system prompt :meth:`prompt` sends.

    Raises:
        LLMConfigError: For an unknown setting or a missing API key.
    """

    def __init__(self, config: LLMConfig, system_message: str = "") -> None:
        unknown = sorted(set(config.settings) - SETTINGS)
        if unknown:
            raise LLMConfigError(
                f"lm provider {config.provider!r}: unknown setting(s) {', '.join(unknown)} "
                f"(known: {', '.join(sorted(SETTINGS))})"
            )
        settings = drop_sampling_knobs(config.model, config.settings)
        super().__init__(config.model, system_message, retry_policy(settings))
        self.config = config
        self._secret = read_api_key(config.api_key_env) if config.api_key_env else None
        self.chat_model = self._build(settings)

    @property
    def provider(self) -> str:
        """The provider name as configured."""
        return self.config.provider

    @property
    def reasoning(self) -> bool:
        """True when sampling knobs are dropped for this model."""
        return is_reasoning_model(self.config.model)

    @property
    def auth_hint(self) -> str | None:
        """The variable to set when the endpoint refuses the key."""
        if self.config.api_key_env:
            return f"set {self.config.api_key_env} to a valid key for {self.config.provider}"
        return "set lm.api_key_env to the variable holding a key for this endpoint"

    def secrets(self) -> list[str]:
        """The API key, if any."""
        return [self._secret] if self._secret else []

    def _build(self, settings: dict[str, Any]) -> ChatOpenAI:
        user = settings.pop("user", None)
        kwargs: dict[str, Any] = {
            "model": self.config.model,
            "api_key": self._secret or _NO_KEY,
            "base_url": self.config.base_url,
            "timeout": settings.pop("timeout_s", 120.0),
            "max_retries": 0,
            "stream_usage": True,
            "model_kwargs": {"user": user} if user else {},
            **settings,
        }
        if self.reasoning:
            # Explicit None: ChatOpenAI would otherwise default o1 models to temperature=1.
            kwargs["temperature"] = None
        return ChatOpenAI(**kwargs)
