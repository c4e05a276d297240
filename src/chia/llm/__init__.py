"""Language models for chia: one interface, several providers, one factory.

* :class:`~chia.base.llm_call.LLMCallBase` / :class:`~chia.base.llm_call.QueryResult`:
  the prompt-in, result-out interface (re-exported here).
* :mod:`chia.llm.chat`: provider-neutral chat messages, tool specs and completions.
* Providers: ``openai_compatible`` (and its presets) on langchain-openai; ``anthropic``,
  ``bedrock`` and ``vertex`` on their own integrations (:mod:`chia.llm.providers`, the
  ``providers`` extra); ``scripted``.
* :func:`make_llm` builds any of them by name, checking the configuration at launch.
* :mod:`chia.llm.model_errors`: failed calls classified and retried (429, 5xx, timeouts).

The LangChain stack is imported only when a LangChain-backed model is built.
"""

from chia.base.llm_call import LLMCallBase, QueryResult
from chia.llm.chat import ChatMessage, ChatModel, Completion, ToolCallRequest, ToolSpec
from chia.llm.errors import LLMCallError, LLMConfigError, MissingAPIKeyError, MissingExtraError
from chia.llm.factory import make_llm, parse_model_ref
from chia.llm.reasoning import SAMPLING_KNOBS, drop_sampling_knobs, is_reasoning_model
from chia.llm.script import Script, ScriptStep
from chia.llm.settings import PRESETS, find_placeholder, known_providers, read_api_key, redact

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
