"""Build any provider by name: :func:`make_llm`, and ``provider:model`` references."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chia.base.llm_call import LLMCallBase
from chia.llm.errors import LLMConfigError
from chia.llm.script import Script
from chia.llm.settings import (
    AGENT_CLI_PROVIDERS,
    NATIVE_PROVIDERS,
    PRESETS,
    LLMConfig,
    known_providers,
)

__all__ = ["make_llm", "parse_model_ref"]

#: Settings every provider accepts from a campaign's ``lm`` section; the scripted model
#: ignores them.
_COMMON = frozenset(
    {"temperature", "max_tokens", "timeout_s", "max_retries", "retry_backoff_s", "user"}
)
_SCRIPTED = frozenset({"script", "message", "start", "target"})
#: Settings an agent CLI reads; retries are its own business, so those are ignored.
_AGENT_CLI = frozenset({"timeout_s", "max_retries", "retry_backoff_s"})


def _agent_cli(
    provider: str, model: str, base_url: str | None, api_key_env: str | None,
    system_message: str, settings: dict[str, Any],
) -> LLMCallBase:  # fmt: skip
    import shutil

    from chia.llm.agent_cli import AGENT_CLIS

    given = sorted(set(settings) - _AGENT_CLI) + [
        name for name, value in (("base_url", base_url), ("api_key_env", api_key_env)) if value
    ]
    if given:
        raise LLMConfigError(
            f"lm provider {provider!r} (an agent CLI) does not take {', '.join(given)}: it "
            "uses its own settings and credentials"
        )
    executable = AGENT_CLI_PROVIDERS[provider]
    if shutil.which(executable) is None:
        raise LLMConfigError(
            f"lm provider {provider!r} runs the {executable!r} executable, which is not on "
            "PATH: install it, or put its directory on PATH"
        )
    return AGENT_CLIS[provider](
        system_message,
        model=None if model == "default" else model,
        timeout_s=float(settings.get("timeout_s", 1800.0)),
    )


def parse_model_ref(ref: str) -> tuple[str, str]:
    """Split ``provider:model`` (the model may itself hold colons, as Ollama's do).

    Raises:
        LLMConfigError: If either half is empty, or the provider is unknown.
    """
    provider, sep, model = ref.partition(":")
    provider, model = provider.strip(), model.strip()
    if not sep or not provider or not model:
        raise LLMConfigError(
            f"--model {ref!r}: expected provider:model, e.g. openai:gpt-5-mini "
            f"(providers: {', '.join(known_providers())})"
        )
    if provider not in known_providers():
        raise LLMConfigError(
            f"unknown lm provider {provider!r}; known: {', '.join(known_providers())}"
        )
    return provider, model


def _scripted(model: str, system_message: str, settings: dict[str, Any]) -> LLMCallBase:
    from chia.llm.scripted import ScriptedLLM

    unknown = sorted(set(settings) - _SCRIPTED - _COMMON)
    if unknown:
        raise LLMConfigError(f"lm provider 'scripted': unknown setting(s) {', '.join(unknown)}")
    script = settings.get("script")
    if isinstance(script, (str, Path)):
        script = Script.load(Path(script))
    elif isinstance(script, (list, dict)):
        script = Script.parse(script)
    return ScriptedLLM(
        system_message,
        model=model,
        script=script,
        **{k: v for k, v in settings.items() if k in _SCRIPTED - {"script"}},
    )


def make_llm(
    provider: str,
    model: str,
    *,
    base_url: str | None = None,
    api_key_env: str | None = None,
    system_message: str = "",
    **settings: Any,
) -> LLMCallBase:
    """Build the model ``provider`` serves as ``model``.

    Every check runs here, before any call: an unknown provider (the message lists the
    known ones), a missing base URL or gateway user, a placeholder such as
    ``<argo-user>`` left in a value, and an API key variable that is not set.

    Args:
        provider: ``openai_compatible``, a preset (``openai``, ``openrouter``, ``groq``,
            ``fireworks``, ``ollama``, ``vllm``, ``argo``), a native provider
            (``anthropic``, ``bedrock``, ``vertex``; the ``providers`` extra), an agent
            CLI (``claude-code``, ``codex``, ``opencode``: its executable must be on PATH;
            model ``default`` is the CLI's own) or ``scripted``.
        model: The model name sent to the provider.
        base_url: The endpoint, overriding the preset's.
        api_key_env: The NAME of the variable holding the key, overriding the preset's.
        system_message: The system prompt :meth:`LLMCallBase.prompt` sends.
        **settings: ``temperature``, ``max_tokens``, ``timeout_s``, ``max_retries``,
            ``retry_backoff_s``, ``user``, sampling knobs; ``thinking_budget``
            (``anthropic``, ``bedrock``, ``vertex``), ``region``/``aws_profile``/
            ``base_model`` (``bedrock``), ``project``/``location`` (``vertex``); for
            ``scripted``: ``script``, ``message``, ``start``, ``target``. None values are
            ignored.

    Returns:
        The model; it also implements :class:`chia.llm.chat.ChatModel`.

    Raises:
        LLMConfigError: For any configuration that cannot work (a usage error, exit 2).
    """
    settings = {k: v for k, v in settings.items() if v is not None}
    if provider == "scripted":
        return _scripted(model, system_message, settings)
    if provider in AGENT_CLI_PROVIDERS:
        return _agent_cli(provider, model, base_url, api_key_env, system_message, settings)
    if provider in NATIVE_PROVIDERS:
        from chia.llm.providers import build

        return build(
            provider,
            model,
            base_url=base_url,
            api_key_env=api_key_env,
            system_message=system_message,
            settings=settings,
        )
    if provider not in PRESETS:
        raise LLMConfigError(
            f"unknown lm provider {provider!r}; known: {', '.join(known_providers())}"
        )
    try:
        from chia.llm.openai_compatible import OpenAICompatibleLLM
    except ImportError as exc:
        raise LLMConfigError(
            f"lm provider {provider!r} needs the LLM extras: pip install 'chia[llm]' ({exc})"
        ) from None

    config = LLMConfig.resolve(
        provider, model, base_url=base_url, api_key_env=api_key_env, settings=settings
    )
    return OpenAICompatibleLLM(config, system_message)
