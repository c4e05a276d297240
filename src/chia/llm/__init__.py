"""Language models for chia: one interface, several providers, one factory.

* :class:`~chia.base.llm_call.LLMCallBase` / :class:`~chia.base.llm_call.QueryResult`:
  the prompt-in, result-out interface (re-exported here).
* :mod:`chia.llm.chat`: provider-neutral chat messages, tool specs and completions.
* Providers: ``openai_compatible`` (and its presets) on langchain-openai; ``anthropic``,
  ``bedrock`` and ``vertex`` on their own integrations (:mod:`chia.llm.providers`, the
  ``providers`` extra); ``scripted``.
* :func:`make_llm` builds any of them by name, checking the configuration at launch.
* :mod:`chia.llm.model_errors`: failed calls classified and retried (429, 5xx, timeouts).

The LangChain stack is imported only when a LangChain-backed model is built, and each
name here only when first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chia.base.llm_call import LLMCallBase, QueryResult
    from chia.llm.chat import ChatMessage, ChatModel, Completion, ToolCallRequest, ToolSpec
    from chia.llm.errors import LLMCallError, LLMConfigError, MissingAPIKeyError, MissingExtraError
    from chia.llm.factory import make_llm, parse_model_ref
    from chia.llm.reasoning import SAMPLING_KNOBS, drop_sampling_knobs, is_reasoning_model
    from chia.llm.script import Script, ScriptStep
    from chia.llm.settings import PRESETS, find_placeholder, known_providers, read_api_key, redact

#: Where each public name lives. They are imported on first use, so that importing one
#: light module (``chia.llm.settings``, which campaign validation reads) does not load
#: the chat models and the factory.
_EXPORTS: dict[str, str] = {
    "ChatMessage": "chia.llm.chat",
    "ChatModel": "chia.llm.chat",
    "Completion": "chia.llm.chat",
    "LLMCallBase": "chia.base.llm_call",
    "LLMCallError": "chia.llm.errors",
    "LLMConfigError": "chia.llm.errors",
    "MissingAPIKeyError": "chia.llm.errors",
    "MissingExtraError": "chia.llm.errors",
    "PRESETS": "chia.llm.settings",
    "QueryResult": "chia.base.llm_call",
    "SAMPLING_KNOBS": "chia.llm.reasoning",
    "Script": "chia.llm.script",
    "ScriptStep": "chia.llm.script",
    "ToolCallRequest": "chia.llm.chat",
    "ToolSpec": "chia.llm.chat",
    "drop_sampling_knobs": "chia.llm.reasoning",
    "find_placeholder": "chia.llm.settings",
    "is_reasoning_model": "chia.llm.reasoning",
    "known_providers": "chia.llm.settings",
    "make_llm": "chia.llm.factory",
    "parse_model_ref": "chia.llm.factory",
    "read_api_key": "chia.llm.settings",
    "redact": "chia.llm.settings",
}

__all__ = [
    "PRESETS",
    "SAMPLING_KNOBS",
    "ChatMessage",
    "ChatModel",
    "Completion",
    "LLMCallBase",
    "LLMCallError",
    "LLMConfigError",
    "MissingAPIKeyError",
    "MissingExtraError",
    "QueryResult",
    "Script",
    "ScriptStep",
    "ToolCallRequest",
    "ToolSpec",
    "drop_sampling_knobs",
    "find_placeholder",
    "is_reasoning_model",
    "known_providers",
    "make_llm",
    "parse_model_ref",
    "read_api_key",
    "redact",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
