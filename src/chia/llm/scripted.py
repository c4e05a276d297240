"""The ``scripted`` provider: the offline model, for runs and tests with no network.

Without a script it plays the counter game the way the scripted campaign policy does:
it reads the newest counter in the prompt and answers with the next one. With a script
(:mod:`chia.llm.script`) it replays the script's replies, tool calls included.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from typing import Any

from chia.base.llm_call import LLMCallBase, QueryResult
from chia.llm.chat import ChatMessage, Completion, ToolSpec
from chia.llm.errors import LLMCallError, LLMConfigError
from chia.llm.script import Script, ScriptPlayer, ScriptStep

__all__ = ["ScriptedLLM"]


class ScriptedLLM(LLMCallBase):
    """A deterministic offline model.

    Args:
        system_message: The system prompt (recorded, not used).
        model: The model name reported in events.
        script: Replies to replay; None plays the counter game.
        message: Counter-game message template; ``{counter}`` is replaced.
        start: The counter's first value.
        target: The counter value at which the game ends.

    Raises:
        LLMConfigError: If ``message`` lacks ``{counter}``.
    """

    def __init__(
        self,
        system_message: str = "",
        *,
        model: str = "scripted",
        script: Script | None = None,
        message: str = "counter = {counter}",
        start: int = 1,
        target: int = 10,
    ) -> None:
        super().__init__(system_message)
        if "{counter}" not in message:
            raise LLMConfigError("scripted model: 'message' must contain {counter}")
        self._model = model
        self._player = ScriptPlayer(script) if script is not None else None
        self.message, self.start, self.target = message, start, target
        head, _, tail = message.partition("{counter}")
        self._pattern = re.compile(re.escape(head) + r"(-?\d+)" + re.escape(tail))

    @property
    def provider(self) -> str:
        """Always ``scripted``."""
        return "scripted"

    @property
    def model(self) -> str:
        """The model name reported in events."""
        return self._model

    def next_counter(self, text: str) -> int:
        """The counter that answers ``text``: one more than its newest, or ``start``."""
        found = self._pattern.findall(text)
        return int(found[-1]) + 1 if found else self.start

    async def complete(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = ()
    ) -> Completion:
        """Return the next scripted reply, or a counter-game text reply without a script.

        Raises:
            LLMCallError: For a scripted error step, or a script that ran out.
        """
        step = self._next_step()
        if step is not None and step.delay_s:
            await asyncio.sleep(step.delay_s)
        return self._reply(messages, step)

    def complete_sync(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = ()
    ) -> Completion:
        """Blocking :meth:`complete`, for callers with or without an event loop.

        Raises:
            LLMCallError: For a scripted error step, or a script that ran out.
        """
        step = self._next_step()
        if step is not None and step.delay_s:
            time.sleep(step.delay_s)
        return self._reply(messages, step)

    def _next_step(self) -> ScriptStep | None:
        if self._player is None:
            return None
        step = self._player.next_step()
        if step is None:
            raise LLMCallError(
                f"scripted model: the script ran out after {self._player.played - 1} replies"
            )
        return step

    def _reply(self, messages: Sequence[ChatMessage], step: ScriptStep | None) -> Completion:
        if step is None:  # no script: the counter game
            last = next((m.content for m in reversed(messages) if m.role == "user"), "")
            counter = min(self.next_counter(last), self.target)
            return Completion(content=self.message.format(counter=counter), model=self.model)
        if step.status != 200:
            raise LLMCallError(f"scripted model: HTTP {step.status}: {step.error}")
        base = self._player.played if self._player else 0
        return Completion(
            content=step.content,
            tool_calls=[
                c.request(c.id or f"call_{base}_{i}") for i, c in enumerate(step.tool_calls)
            ],
            tokens_in=step.usage.prompt_tokens,
            tokens_out=step.usage.completion_tokens,
            model=self.model,
        )

    def prompt(self, user_message: str, tools: Sequence[Any] | None = ()) -> QueryResult:
        """Answer one prompt (tools are not called by the offline model)."""
        messages = [ChatMessage.system(self.system_message), ChatMessage.user(user_message)]
        try:
            reply = self.complete_sync(messages)
        except LLMCallError as exc:
            return QueryResult("", 1, str(exc), "", success=False)
        transcript = "\n".join(
            m.model_dump_json(exclude_defaults=True) for m in [*messages, reply.as_message()]
        )
        return QueryResult(reply.content, 0, "", transcript, success=True)
