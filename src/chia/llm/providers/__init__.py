"""Providers with their own wire format, each on its maintained LangChain integration.

* ``anthropic``: the Messages API through langchain-anthropic (:mod:`.anthropic`).
* ``bedrock``: the Bedrock Converse API through langchain-aws (:mod:`.bedrock`).
* ``vertex``: Gemini on Vertex AI through langchain-google-genai (:mod:`.vertex`).

They are installed by the ``providers`` extra; :func:`build` names it when one is missing.
"""

from __future__ import annotations

import importlib
from typing import Any

from chia.base.llm_call import LLMCallBase
from chia.llm.errors import MissingExtraError
from chia.llm.settings import NATIVE_PROVIDERS

__all__ = ["build"]

_MODULES = {"anthropic": "anthropic", "bedrock": "bedrock", "vertex": "vertex"}


def build(
    provider: str,
    model: str,
    *,
    base_url: str | None,
    api_key_env: str | None,
    system_message: str,
    settings: dict[str, Any],
) -> LLMCallBase:
    """Build native provider ``provider``'s model (see :func:`chia.llm.make_llm`).

    Raises:
        MissingExtraError: If the provider's integration package is not installed.
        LLMConfigError: For any configuration that cannot work.
    """
    try:
        module = importlib.import_module(f"chia.llm.providers.{_MODULES[provider]}")
    except ImportError as exc:
        raise MissingExtraError(
            f"lm provider {provider!r} needs {NATIVE_PROVIDERS[provider]}, which is not "
            f"installed: pip install 'chia[providers]' ({exc})"
        ) from None
    made: LLMCallBase = module.make(
        model,
        base_url=base_url,
        api_key_env=api_key_env,
        system_message=system_message,
        settings=settings,
    )
    return made
