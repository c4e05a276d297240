"""The LLM policy: a model decides each turn by calling tools.

Each turn starts a fresh conversation: the system message (system prompt + protocol
prompt) and one user message holding the turn's state as compact JSON. The model answers
with tool calls; each is checked and answered with a structured tool result, so a bad
argument or a disallowed recipient is something the model reads and corrects, never an
exception. Built-in calls become actions that the agent executes after the turn; MCP
calls run at once.

A turn ends on ``finish_turn`` or ``submit_result``, on a reply with no tool call, on a
call identical to an earlier one in the same turn, or at the prompt profile's recursion
limit. Every model call, tool call and tool result is an event; token counts go to the
agent's status. Each ``llm_call`` carries its cached tokens and its cost from the price
table (:mod:`chia.llm.prices`), None with the reason when the model has no price.

Model errors (see :mod:`chia.llm.model_errors`): the model layer waits out 429s and
retries 5xx and timeouts, and each wait is a ``model_retry`` event and a landmark line.
Bad credentials (401/403) and an exhausted quota (402) stop the agent with a
``model_error`` event naming the provider and what to set. A conversation too long for
the model's window is trimmed (this turn's earlier tool exchanges, then the remembered
tool results and actions) and the model is told so; when nothing is left to trim the
agent stops, saying why. Any other failed call ends the turn.
"""

from __future__ import annotations

import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from chia.agent.builtin_tools import BUILTIN_SPECS, is_builtin, run_builtin, tool_error
from chia.agent.mcp_tools import McpToolbox
from chia.agent.policy import Action, FinishTurn, NullSink, PolicySink, TurnState
from chia.agent.prompting import state_json, system_prompt
from chia.campaign.model import PromptProfile
from chia.errors import ChiaError
from chia.events import LLMCall, MessageRejected, ModelError, ModelRetry, ToolCall, ToolResult
from chia.llm.chat import ChatMessage, ChatModel, Completion, ToolCallRequest, ToolSpec
from chia.llm.errors import LLMCallError
from chia.llm.model_errors import RetryNotice
from chia.llm.prices import PriceTable

__all__ = ["TRIM_NOTE", "LLMPolicy", "ModelStoppedError", "TurnEnd"]

#: How a note about a trimmed conversation starts (the model reads it).
TRIM_NOTE = "[chia] The conversation exceeded the model's context window"


class ModelStoppedError(ChiaError):
    """The model cannot go on (bad credentials, no quota, nothing left to trim): stop."""


_HISTORY = 10
_ACTION_CHARS = 300


def _summary(action: Action) -> dict[str, Any]:
    """An action for the next turns' state, long texts clipped."""
    return _summary_dict(action.model_dump())


def _summary_dict(summary: dict[str, Any]) -> dict[str, Any]:
    summary = dict(summary)
    for key in ("content", "result"):
        text = summary.get(key)
        if isinstance(text, str) and len(text) > _ACTION_CHARS:
            summary[key] = text[:_ACTION_CHARS] + "..."
    return summary


@dataclass
class TurnEnd:
    """How the last turn ended (for tests and logs).

    Attributes:
        reason: ``finish_turn``, ``submit_result``, ``no_tool_call``, ``repeated_call``,
            ``recursion_limit`` or ``model_error``.
        calls: How many model calls the turn made.
    """

    reason: str = ""
    calls: int = 0


@dataclass
class _Call:
    ok: bool
    output: str
    action: Action | None = None
    ends_turn: bool = False
    arguments: dict[str, Any] = field(default_factory=dict)


class LLMPolicy:
    """Decides turns with a chat model and tools.

    Args:
        model: The chat model (``openai_compatible`` or ``scripted`` from ``make_llm``).
        prompts: The campaign's prompt profile (prompts and the recursion limit).
        toolbox: The agent's MCP tools, if any; started and stopped with the policy.
    """

    def __init__(
        self,
        model: ChatModel,
        prompts: PromptProfile,
        toolbox: McpToolbox | None = None,
        prices: PriceTable | None = None,
    ) -> None:
        self.model = model
        self.prices = prices or PriceTable.build()
        self.prompts = prompts
        self.toolbox = toolbox
        self.last_turn = TurnEnd()
        self._sink: PolicySink = NullSink()
        self._actions: deque[dict[str, Any]] = deque(maxlen=_HISTORY)
        self._results: deque[dict[str, Any]] = deque(maxlen=_HISTORY)

    @property
    def name(self) -> str:
        """``llm:<provider>:<model>``, for events."""
        return f"llm:{self.model.provider}:{self.model.model}"

    def bind(self, sink: PolicySink) -> None:
        """Record events and token counts through ``sink`` (a replaying model's too)."""
        self._sink = sink
        bind_model = getattr(self.model, "bind", None)
        if callable(bind_model):  # chia.llm.replay.ReplayModel reports divergences
            bind_model(sink)
        for model in _model_chain(self.model):
            if hasattr(model, "retry_listener"):
                model.retry_listener = self._on_retry

    def _landmark(self, line: str) -> None:
        landmark = getattr(self._sink, "landmark", None)
        if callable(landmark):
            landmark(line)

    def _on_retry(self, notice: RetryNotice) -> None:
        self._sink.emit(
            ModelRetry,
            provider=notice.provider,
            error_kind=notice.kind,
            status=notice.status,
            attempt=notice.attempt,
            limit=notice.limit,
            wait_s=notice.wait_s,
            retry_after_s=notice.retry_after_s,
            error=notice.error,
        )
        self._landmark(notice.line())

    def restore(self, *, actions: list[dict[str, Any]], tool_results: list[dict[str, Any]]) -> None:
        """Continue where a killed incarnation was: its recent actions and tool results.

        Called once, before the first turn of a restarted agent, with what its journal
        holds (see :mod:`chia.agent.journal`); the next prompt then shows the model the
        same memory of earlier turns it would have seen without the restart.
        """
        self._actions.clear()
        self._actions.extend(_summary_dict(a) for a in actions)
        self._results.clear()
        self._results.extend(tool_results)

    async def start(self) -> None:
        """Start the MCP tool servers, if any."""
        if self.toolbox is not None:
            await self.toolbox.start()

    async def close(self) -> None:
        """Stop the MCP tool servers, if any."""
        if self.toolbox is not None:
            await self.toolbox.close()

    @property
    def tools(self) -> list[ToolSpec]:
        """Every tool the model is offered: the built-ins, then the allowed MCP tools."""
        return [*BUILTIN_SPECS, *(self.toolbox.specs if self.toolbox else [])]

    def messages(self, state: TurnState) -> list[ChatMessage]:
        """The opening chat messages of a turn: system prompt and the JSON state."""
        document = state_json(
            state,
            peer_status=state.peer_status,
            tool_results=self._results,
            recent_actions=self._actions,
        )
        return [ChatMessage.system(system_prompt(self.prompts)), ChatMessage.user(document)]

    async def decide(self, state: TurnState) -> list[Action]:
        """Run the tool-calling loop for one turn and return the actions to execute."""
        messages = self.messages(state)
        tools = self.tools
        actions: list[Action] = []
        seen: set[str] = set()
        end = TurnEnd(reason="recursion_limit")
        for _ in range(self.prompts.recursion_limit):
            end.calls += 1
            completion = await self._complete(messages, tools)
            if isinstance(completion, LLMCallError):
                trimmed = self._after_error(completion, messages, state)
                if trimmed is None:
                    end.reason = "model_error"
                    break
                messages = trimmed
                continue
            messages.append(completion.as_message())
            if not completion.tool_calls:
                end.reason = "no_tool_call"
                break
            stop = await self._run_calls(completion.tool_calls, state, seen, messages, actions)
            if stop:
                end.reason = stop
                break
        self.last_turn = end
        if not any(a.action in ("finish_turn", "submit_result") for a in actions):
            actions.append(FinishTurn(reason=end.reason))
        self._actions.extend(_summary(a) for a in actions)
        return actions

    def _after_error(
        self, error: LLMCallError, messages: list[ChatMessage], state: TurnState
    ) -> list[ChatMessage] | None:
        """Act on a failed call: the trimmed conversation to retry with, or None.

        Raises:
            ModelStoppedError: Bad credentials, no quota, or nothing left to trim.
        """
        if error.kind == "context_length":
            trimmed = self._trim(messages, state)
            if trimmed is not None:
                self._model_error(error, "trimmed_history")
                self._landmark(f"model {self.model.provider}: context too long; history trimmed")
                return trimmed
            self._stop(error, "the conversation is too long even with its history trimmed")
        if error.fatal:
            self._stop(error, error.hint or "")
        self._model_error(error, "ended_turn")
        return None

    def _model_error(self, error: LLMCallError, action: str) -> None:
        self._sink.emit(
            ModelError,
            provider=error.provider or self.model.provider,
            model=self.model.model,
            error_kind=error.kind,
            status=error.status,
            action=action,
            hint=error.hint,
            error=str(error),
        )

    def _stop(self, error: LLMCallError, why: str) -> None:
        self._model_error(error, "stopped_agent")
        what = {"auth": "credentials refused", "quota": "no quota left"}.get(
            error.kind, error.kind.replace("_", " ")
        )
        status = f" (HTTP {error.status})" if error.status else ""
        raise ModelStoppedError(
            f"model_error: {error.provider or self.model.provider} {what}{status}: {why}"
        )

    def _trim(self, messages: list[ChatMessage], state: TurnState) -> list[ChatMessage] | None:
        """The conversation with the oldest history cut, and a note saying so; or None."""
        rest = [m for m in messages[2:] if not m.content.startswith(TRIM_NOTE)]
        starts = [i for i, m in enumerate(rest) if m.role == "assistant"]
        if len(starts) > 1:
            kept = rest[starts[-1] :]
            dropped = len(starts) - 1
            note = f"{TRIM_NOTE}: {dropped} earlier tool exchange(s) of this turn were removed."
            return [*messages[:2], ChatMessage.user(note), *kept]
        if self._results or self._actions:
            self._results.clear()
            self._actions.clear()
            note = f"{TRIM_NOTE}: your remembered tool results and actions were removed."
            return [*self.messages(state), ChatMessage.user(note), *rest]
        return None

    async def _complete(
        self, messages: list[ChatMessage], tools: list[ToolSpec]
    ) -> Completion | LLMCallError:
        started = time.monotonic()
        try:
            completion = await self.model.complete(messages, tools)
        except LLMCallError as exc:
            self._sink.emit(
                LLMCall,
                provider=self.model.provider,
                model=self.model.model,
                latency_s=round(time.monotonic() - started, 6),
                success=False,
                error=str(exc),
            )
            return exc
        model = completion.model or self.model.model
        cost = self.prices.cost(
            self.model.provider,
            model,
            completion.tokens_in,
            completion.tokens_out,
            completion.tokens_cached,
            asked=self.model.model,
        )
        self._sink.emit(
            LLMCall,
            provider=self.model.provider,
            model=model,
            tokens_in=completion.tokens_in,
            tokens_out=completion.tokens_out,
            tokens_cached=completion.tokens_cached,
            cost_usd=cost.usd,
            cost_note=cost.note,
            latency_s=completion.latency_s,
            request_digest=completion.request_digest,
        )
        self._sink.add_tokens(completion.tokens_in, completion.tokens_out)
        return completion

    async def _run_calls(
        self,
        calls: list[ToolCallRequest],
        state: TurnState,
        seen: set[str],
        messages: list[ChatMessage],
        actions: list[Action],
    ) -> str | None:
        """Answer every call of one reply; return why the turn ends, or None."""
        stop: str | None = None
        for call in calls:
            if stop is not None:  # the turn already ended: answer, but do nothing
                outcome = _Call(False, tool_error("not run: the turn had already ended"))
            else:
                key = json.dumps([call.name, call.arguments, call.raw_arguments], sort_keys=True)
                if key in seen:
                    outcome = _Call(False, tool_error("repeated identical call: turn ended"))
                    stop = "repeated_call"
                else:
                    seen.add(key)
                    outcome = await self._run_call(call, state)
                    if outcome.ends_turn:
                        stop = call.name
            self._record(call, outcome)
            messages.append(ChatMessage.tool(call.id, outcome.output))
            if outcome.action is not None:
                actions.append(outcome.action)
        return stop

    async def _run_call(self, call: ToolCallRequest, state: TurnState) -> _Call:
        if is_builtin(call.name):
            done = run_builtin(call, state.allowed_peers)
            if done.rejected_recipient is not None:
                reason = f"{done.rejected_recipient!r} is not an allowed peer of {state.agent!r}"
                self._sink.emit(MessageRejected, recipient=done.rejected_recipient, reason=reason)
            return _Call(done.ok, done.output, done.action, done.ends_turn)
        if self.toolbox is not None and self.toolbox.owns(call.name):
            if call.error is not None:
                return _Call(False, tool_error(f"{call.name}: {call.error}"))
            ok, text = await self.toolbox.call(call.name, call.arguments)
            output = json.dumps({"ok": True, "output": text}) if ok else tool_error(text)
            return _Call(ok, output)
        return _Call(
            False,
            tool_error(f"unknown tool {call.name!r}", available=[t.name for t in self.tools]),
        )

    def _record(self, call: ToolCallRequest, outcome: _Call) -> None:
        arguments = call.arguments if call.error is None else {"_raw": call.raw_arguments}
        tool = self.toolbox.qualified(call.name) if self.toolbox else call.name
        self._sink.emit(ToolCall, tool=tool, call_id=call.id, arguments=arguments)
        self._sink.emit(
            ToolResult, tool=tool, call_id=call.id, ok=outcome.ok, output=outcome.output
        )
        if not is_builtin(call.name):
            self._results.append({"tool": tool, "ok": outcome.ok, "output": outcome.output})


def _model_chain(model: Any) -> list[Any]:
    """``model`` and the models it wraps (a recording's inner one, a replay's live one)."""
    chain: list[Any] = []
    while model is not None and len(chain) < 4:
        chain.append(model)
        model = getattr(model, "inner", None) or getattr(model, "live", None)
    return chain
