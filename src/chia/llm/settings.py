"""Provider presets, the resolved LLM configuration, placeholders and API keys.

Every check here runs when a model is built, which is at launch (``chia spawn-site``
and each host process), so a bad configuration fails before any agent starts rather
than at its first model call. The API key's *value* is read from the environment
variable the campaign names and is kept only in memory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chia.llm.errors import LLMConfigError, MissingAPIKeyError

__all__ = [
    "AGENT_CLI_PROVIDERS",
    "NATIVE_PROVIDERS",
    "PRESETS",
    "LLMConfig",
    "ProviderPreset",
    "find_placeholder",
    "known_providers",
    "model_problem",
    "read_api_key",
    "redact",
]


@dataclass(frozen=True)
class ProviderPreset:
    """Defaults of a named OpenAI-compatible provider.

    Attributes:
        base_url: Default endpoint (None: OpenAI's own).
        api_key_env: Default variable holding the key (None: no key needed).
        needs_base_url: The provider has no fixed endpoint; ``base_url`` is required.
        needs_user: The gateway requires the ``user`` field (Argo).
    """

    base_url: str | None = None
    api_key_env: str | None = None
    needs_base_url: bool = False
    needs_user: bool = False


#: OpenAI-compatible providers by name; each is served by ``openai_compatible``.
PRESETS: dict[str, ProviderPreset] = {
    "openai_compatible": ProviderPreset(),
    "openai": ProviderPreset(api_key_env="OPENAI_API_KEY"),
    "openrouter": ProviderPreset("https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
    "groq": ProviderPreset("https://api.groq.com/openai/v1", "GROQ_API_KEY"),
    "fireworks": ProviderPreset("https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY"),
    "ollama": ProviderPreset("http://127.0.0.1:11434/v1"),
    "vllm": ProviderPreset(needs_base_url=True),
    "argo": ProviderPreset(needs_base_url=True, needs_user=True),
}

#: Providers with their own wire format (:mod:`chia.llm.providers`): the package each
#: needs, installed by the ``providers`` extra.
NATIVE_PROVIDERS: dict[str, str] = {
    "anthropic": "langchain-anthropic",
    "bedrock": "langchain-aws",
    "vertex": "langchain-google-genai",
}

#: Agent CLIs a campaign agent may run as (:mod:`chia.agent.cli_policy`): provider name to
#: the executable looked up on PATH.
AGENT_CLI_PROVIDERS: dict[str, str] = {
    "claude-code": "claude",
    "codex": "codex",
    "opencode": "opencode",
}

#: What each native provider's model names look like, and an example of one.
_NATIVE_MODELS: dict[str, tuple[re.Pattern[str], str]] = {
    "anthropic": (re.compile(r"^claude-", re.IGNORECASE), "claude-sonnet-4-5"),
    "bedrock": (
        re.compile(r"^(?:arn:aws[\w-]*:bedrock:|(?:[a-z-]+\.)?[a-z0-9-]+\.[\w.:-]+$)"),
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    ),
    "vertex": (
        re.compile(r"^(?:publishers/google/models/)?gemini-", re.IGNORECASE),
        "gemini-2.5-pro",
    ),
}


def model_problem(provider: str, model: str) -> str | None:
    """Why ``provider`` cannot serve ``model`` (by its name), or None.

    Only the native providers are checked: an OpenAI-compatible endpoint may serve any name.
    """
    rule = _NATIVE_MODELS.get(provider)
    if rule is None or find_placeholder(model) is not None or rule[0].match(model.strip()):
        return None
    return f"lm.model {model!r} is not a model lm provider {provider!r} serves (e.g. {rule[1]})"


_PLACEHOLDER = re.compile(r"<[^<>\s]+>|\$\{[^}]*\}|\{\{[^}]*\}\}")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def find_placeholder(value: str) -> str | None:
    """Return the first template placeholder in ``value`` (``<argo-user>``, ``${USER}``)."""
    match = _PLACEHOLDER.search(value)
    return match.group(0) if match else None


def read_api_key(env_name: str, environ: Mapping[str, str] | None = None) -> str:
    """Return the API key held by environment variable ``env_name``.

    Raises:
        LLMConfigError: If the name is not a variable name.
        MissingAPIKeyError: If the variable is unset or empty. The message names the
            variable, never a value.
    """
    if not _ENV_NAME.match(env_name):
        raise LLMConfigError(f"lm.api_key_env {env_name!r} is not an environment variable name")
    value = (os.environ if environ is None else environ).get(env_name, "").strip()
    if not value:
        raise MissingAPIKeyError(
            f"lm.api_key_env names {env_name}, which is not set in the environment: "
            f"export {env_name}=<your key> (keys never go in campaign or launch files)"
        )
    return value


def redact(text: str, secret: str | None) -> str:
    """Return ``text`` with ``secret`` (and any long prefix or suffix of it) masked."""
    if not secret:
        return text
    text = text.replace(secret, "***")
    if len(secret) >= 12:  # providers echo masked keys such as "sk-abc...wxyz"
        for part in (secret[:8], secret[-6:]):
            text = text.replace(part, "***")
    return text


@dataclass(frozen=True)
class LLMConfig:
    """A provider configuration, resolved against its preset and checked.

    Attributes:
        provider: The provider name as configured (``openai``, ``argo``...).
        model: The model name sent to the provider.
        base_url: The endpoint (None: OpenAI's).
        api_key_env: The variable the key is read from (None: no key).
        settings: temperature, max_tokens, timeout_s, max_retries, user and
            sampling knobs; None values are left out.
    """

    provider: str
    model: str
    base_url: str | None = None
    api_key_env: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def resolve(
        cls,
        provider: str,
        model: str,
        *,
        base_url: str | None = None,
        api_key_env: str | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> LLMConfig:
        """Apply ``provider``'s preset and check for holes and placeholders.

        Raises:
            LLMConfigError: For an unknown provider, an empty model, a missing base URL
                or gateway user, or a template placeholder left in any value.
        """
        preset = PRESETS.get(provider)
        if preset is None:
            raise LLMConfigError(
                f"unknown lm provider {provider!r}; known: {', '.join(known_providers())}"
            )
        kept = {k: v for k, v in (settings or {}).items() if v is not None}
        config = cls(
            provider=provider,
            model=model.strip(),
            base_url=base_url or preset.base_url,
            api_key_env=api_key_env or preset.api_key_env,
            settings=kept,
        )
        config._check(preset)
        return config

    def _check(self, preset: ProviderPreset) -> None:
        if not self.model:
            raise LLMConfigError(f"lm provider {self.provider!r} needs a model name")
        if preset.needs_base_url and not self.base_url:
            raise LLMConfigError(f"lm provider {self.provider!r} needs lm.base_url")
        if preset.needs_user and not self.settings.get("user"):
            raise LLMConfigError(f"lm provider {self.provider!r} needs lm.user (gateway user)")
        values = {"model": self.model, "base_url": self.base_url or ""}
        values.update({k: v for k, v in self.settings.items() if isinstance(v, str)})
        for key, value in values.items():
            placeholder = find_placeholder(value)
            if placeholder is not None:
                raise LLMConfigError(
                    f"lm.{key} still holds the template placeholder {placeholder!r}: "
                    "replace it with a real value before launching"
                )


def known_providers() -> list[str]:
    """Every provider name :func:`chia.llm.make_llm` accepts."""
    return sorted([*PRESETS, *NATIVE_PROVIDERS, *AGENT_CLI_PROVIDERS, "scripted"])
