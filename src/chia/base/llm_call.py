"""The provider-neutral LLM interface of the flow runtime: ``LLMCallBase`` and ``QueryResult``.

Providers (OpenAI-compatible servers, the offline scripted model, CLIs) subclass
:class:`LLMCallBase`; :func:`chia.llm.make_llm` builds any of them by name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["LLMCallBase", "QueryResult"]


@dataclass
class QueryResult:
    """Structured result from prompting an LLM or agent.

    Attributes:
        result: The final response from the LLM or agent.
        returncode: The return code from running the prompt (0 on success).
        stderr: The error output from running the prompt (CLIs, or an error message).
        stream_result: The full transcript of all turns of the LLM or agent.
        success: Whether the prompt completed successfully.
    """

    result: str
    returncode: int
    stderr: str
    stream_result: str
    success: bool = False


class LLMCallBase(ABC):
    """Polymorphic base for LLM and agent backends: one prompt in, one result out.

    Subclasses wrap a provider, server or CLI so callers can switch between them.

    Args:
        system_message: The system prompt sent with every prompt.
    """

    def __init__(self, system_message: str) -> None:
        self.system_message = system_message

    @abstractmethod
    def prompt(self, user_message: str, tools: Sequence[Any] | None = ()) -> QueryResult:
        """Send a prompt to this LLM.

        Args:
            user_message: Message used to prompt the LLM.
            tools: Tools available to the LLM during the call.

        Returns:
            The final answer, the transcript, and whether the call succeeded.
        """
