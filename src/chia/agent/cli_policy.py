"""An agent CLI (Claude Code, Codex, OpenCode) as a campaign agent's policy.

Each wake is one non-interactive CLI run (:mod:`chia.llm.agent_cli` builds the command
line and parses the output). The prompt is what the LLM policy's model reads: the
system prompt (``--append-system-prompt`` for claude; first in the prompt of a new
codex or opencode session) and the turn's state as JSON. The CLI's only MCP server is
this agent's endpoint (:mod:`chia.agent.cli_endpoint`): the built-ins ``send_message``,
``finish_turn`` and ``submit_result``, checked by
:func:`~chia.agent.builtin_tools.run_builtin` exactly as for the LLM policy (a disallowed
recipient is an error result the CLI reads, and a ``message_rejected`` event), and the
agent's allowed campaign MCP tools as ``server__tool``, forwarded to its
:class:`~chia.agent.mcp_tools.McpToolbox`. Calls made during the run are the turn's
actions, and ``tool_call``/``tool_result`` events; each run is one ``llm_call`` event
(provider = the CLI, the tokens and cost the CLI reports, latency, success or error).
A run that ends without ``finish_turn`` or ``submit_result`` ends the turn
(``finish_turn`` with reason ``cli_exited``); a run that fails, times out (the CLI's
whole process group is killed) or prints no readable output is also a ``model_error``
event (``ended_turn``), and the turn ends with what it had queued.

Sessions: the first run's session id (claude ``session_id``; codex ``thread_id`` of
``thread.started``; opencode ``sessionID``) is kept and later runs resume it (``claude
--resume ID``; ``codex exec ... resume ID MSG``; ``opencode run --session ID``), so the
CLI remembers earlier turns. With a run directory the id is also written to
``<site dir>/agent_cli/<agent>.json`` (atomically) and read back by :meth:`restore`, which
a restarted agent calls: a file, because the id belongs to this policy and no event
carries it, and the journal already decides *whether* there was an earlier incarnation
(``restore`` is only called then, so a new run never resumes a stale session). The CLI
runs in ``<site dir>/agent_cli/<agent>/``, the same directory every turn and after a
restart: Claude Code files its sessions by working directory. A resumed run that fails
without naming a session (the CLI could not open it) drops the id: the next turn starts
a new session instead of failing every turn. A turn cancelled because the agent stops,
and :meth:`close`, kill the running CLI's process group.

Flags relied on (checked against the CLIs' docs): ``claude -p MSG --output-format json
--mcp-config FILE --strict-mcp-config --allowedTools mcp__chia --resume ID``; ``codex
exec --json --skip-git-repo-check -c mcp_servers.chia.url=URL resume ID MSG``;
``opencode run --format json --session ID MSG`` with ``OPENCODE_CONFIG``. Credentials
are the CLIs' own; nothing here reads them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chia.agent.builtin_tools import BUILTIN_SPECS, is_builtin, run_builtin, tool_error
from chia.agent.cli_endpoint import SERVER_NAME, ToolEndpoint
from chia.agent.mcp_tools import McpToolbox
from chia.agent.policy import Action, FinishTurn, NullSink, PolicySink, TurnState
from chia.agent.prompting import state_json, system_prompt
from chia.campaign.model import PromptProfile
from chia.events import LLMCall, MessageRejected, ModelError, ToolCall, ToolResult
from chia.llm.agent_cli import AgentCLI, CLIRun, run_cli
from chia.llm.chat import ToolCallRequest

__all__ = ["AgentCLIPolicy", "CLIOutcome"]

_HISTORY = 10
_ERROR_CHARS = 2000


@dataclass
class CLIOutcome:
    """How one CLI run went (for the policy's events; tests read ``last_run``).

    Attributes:
        code: The exit code; None if it timed out (its process group was killed).
        stdout: What the CLI printed.
        stderr: Its standard error.
        run: The parsed output, or None if there was none to parse.
        error: Why the run failed (empty on success).
        error_kind: ``timeout``, ``cannot_run``, ``no_output``, ``unparsable_output`` or
            ``cli_error``; empty on success.
        latency_s: How long the run took.
    """

    code: int | None
    stdout: str
    stderr: str
    run: CLIRun | None = None
    error: str = ""
    error_kind: str = ""
    latency_s: float = 0.0


@dataclass
class _Turn:
    state: TurnState
    actions: list[Action] = field(default_factory=list)
    ended: bool = False
    calls: int = 0


class AgentCLIPolicy:
    """Decides each turn with one run of an agent CLI (see the module docstring).

    Args:
        cli: The CLI node (its ``model``, ``executable``, ``timeout_s`` are used; its
            system message is set to the prompt profile's).
        provider: The campaign's provider name (``claude-code``, ``codex``, ``opencode``).
        prompts: The campaign's prompt profile.
        toolbox: The agent's MCP tools, if any; started and stopped with the policy.
        state_dir: Where the session file and the CLI's working directory live (the
            site's ``agent_cli`` directory); None: a scratch directory, no persistence.
        agent: The agent's name (names the session file and working directory).
    """

    def __init__(
        self,
        cli: AgentCLI,
        provider: str,
        prompts: PromptProfile,
        toolbox: McpToolbox | None = None,
        *,
        state_dir: Path | None = None,
        agent: str = "agent",
    ) -> None:
        self.cli = cli
        self.cli.system_message = system_prompt(prompts)
        self.provider = provider
        self.toolbox = toolbox
        self.session: str | None = None
        self.last_run: CLIOutcome | None = None
        self._agent = agent
        self._state_dir = state_dir
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._endpoint: ToolEndpoint | None = None
        self._turn: _Turn | None = None
        self._runs = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._sink: PolicySink = NullSink()
        self._actions: deque[dict[str, Any]] = deque(maxlen=_HISTORY)
        self._results: deque[dict[str, Any]] = deque(maxlen=_HISTORY)

    @property
    def name(self) -> str:
        """``cli:<provider>:<model>``, for events."""
        return f"cli:{self.provider}:{self.model}"

    @property
    def model(self) -> str:
        """The model asked for, or ``default`` (the CLI's own choice)."""
        return self.cli.model or "default"

    @property
    def session_file(self) -> Path | None:
        """Where the session id is kept across restarts (None without a run directory)."""
        return None if self._state_dir is None else self._state_dir / f"{self._agent}.json"

    @property
    def work_dir(self) -> Path:
        """The CLI's working directory, the same for every run (valid once started)."""
        if self._state_dir is not None:
            return self._state_dir / self._agent
        if self._scratch is None:
            raise RuntimeError("the policy is not started")
        return Path(self._scratch.name)

    @property
    def url(self) -> str:
        """The MCP endpoint the CLI is given (valid once started)."""
        if self._endpoint is None:
            raise RuntimeError("the policy is not started")
        return self._endpoint.url

    def bind(self, sink: PolicySink) -> None:
        """Record events and token counts through ``sink``."""
        self._sink = sink

    def restore(self, *, actions: list[dict[str, Any]], tool_results: list[dict[str, Any]]) -> None:
        """Continue a killed incarnation: its recent actions, tool results and session."""
        self._actions.clear()
        self._actions.extend(actions)
        self._results.clear()
        self._results.extend(tool_results)
        path = self.session_file
        if path is not None and path.exists():
            try:
                saved = json.loads(path.read_text())
            except (OSError, ValueError):
                saved = {}
            if isinstance(saved, dict) and saved.get("provider") == self.provider:
                self.session = saved.get("session") or None

    async def start(self) -> None:
        """Start the MCP tools, the endpoint, and make the working directory."""
        if self._state_dir is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="chia-agent-cli-")
        self.work_dir.mkdir(parents=True, exist_ok=True)
        if self.toolbox is not None:
            await self.toolbox.start()
        specs = [*BUILTIN_SPECS, *(self.toolbox.specs if self.toolbox else [])]
        self._endpoint = ToolEndpoint(specs, self._on_call)
        try:
            await self._endpoint.start()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Kill a running CLI; stop the endpoint and the MCP tools; remove a scratch dir."""
        self._kill()
        endpoint, self._endpoint = self._endpoint, None
        if endpoint is not None:
            await endpoint.close()
        if self.toolbox is not None:
            await self.toolbox.close()
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    async def decide(self, state: TurnState) -> list[Action]:
        """Run the CLI once; the tools it called are the turn's actions."""
        turn = self._turn = _Turn(state)
        prompt = state_json(
            state,
            peer_status=state.peer_status,
            tool_results=self._results,
            recent_actions=self._actions,
        )
        self._runs += 1
        resumed = self.session
        try:
            outcome = await asyncio.to_thread(self._run, prompt, resumed)
        except asyncio.CancelledError:  # the agent stops: the CLI must not outlive the turn
            self._kill()
            raise
        finally:
            self._turn = None
        self.last_run = outcome
        self._record_run(outcome, resumed)
        actions = turn.actions
        if not any(a.action in ("finish_turn", "submit_result") for a in actions):
            reason = "model_error" if outcome.error else "cli_exited"
            actions.append(FinishTurn(reason=reason))
        self._actions.extend(a.model_dump() for a in actions)
        return actions

    def _run(self, prompt: str, session: str | None) -> CLIOutcome:
        """One CLI run (in a worker thread: the endpoint answers in the event loop)."""
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="chia-cli-config-") as scratch:
            argv, env = self.cli.build_command(
                prompt, {SERVER_NAME: self.url}, Path(scratch), session=session
            )
            code, out, err = run_cli(
                argv, str(self.work_dir), {**self.cli.env, **env}, self.cli.timeout_s,
                on_start=self._started,
            )  # fmt: skip
            self._proc = None
        outcome = CLIOutcome(code, out, err, latency_s=round(time.monotonic() - started, 6))
        exe = argv[0]
        if code is None:
            outcome.error_kind = "timeout"
            outcome.error = f"{exe}: timed out after {self.cli.timeout_s} s (process group killed)"
        elif code == 127 and not out.strip():
            outcome.error_kind, outcome.error = "cannot_run", err.strip() or f"{exe}: not found"
        elif not out.strip():
            outcome.error_kind = "no_output"
            outcome.error = f"{exe}: no output (exit {code}): {err.strip()}"
        else:
            try:
                outcome.run = self.cli.parse_run(out)
            except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
                outcome.error_kind = "unparsable_output"
                outcome.error = f"{exe}: unparsable output (exit {code}): {exc}"
            else:
                if not outcome.run.ok or code != 0:
                    outcome.error_kind = "cli_error"
                    detail = outcome.run.text or err.strip()
                    outcome.error = f"{exe}: reported failure (exit {code}): {detail}"
        outcome.error = outcome.error[:_ERROR_CHARS]
        return outcome

    def _started(self, proc: subprocess.Popen[bytes]) -> None:
        self._proc = proc

    def _kill(self) -> None:
        """Kill a running CLI's whole process group (its run then returns at once)."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)

    def _record_run(self, outcome: CLIOutcome, resumed: str | None) -> None:
        run = outcome.run
        if run is not None and run.session and run.session != self.session:
            self.session = run.session
            self._save_session()
        elif resumed and outcome.error and not (run and run.session):
            # the CLI could not even open the session (deleted, another machine's...):
            # start a new one next turn rather than fail every turn from now on
            self.session = None
            self._save_session()
        cost_note = f"reported by {self.provider}" if run and run.cost_usd is not None else None
        self._sink.emit(
            LLMCall,
            provider=self.provider,
            model=self.model,
            tokens_in=run.tokens_in if run else 0,
            tokens_out=run.tokens_out if run else 0,
            tokens_cached=run.tokens_cached if run else 0,
            cost_usd=run.cost_usd if run else None,
            cost_note=cost_note or f"{self.provider} reported no cost",
            latency_s=outcome.latency_s,
            success=not outcome.error,
            error=outcome.error or None,
        )
        if run is not None:
            self._sink.add_tokens(run.tokens_in, run.tokens_out)
        if outcome.error:
            self._sink.emit(
                ModelError,
                provider=self.provider,
                model=self.model,
                error_kind=outcome.error_kind,
                action="ended_turn",
                hint=_HINTS.get(outcome.error_kind),
                error=outcome.error,
            )

    def _save_session(self) -> None:
        path = self.session_file
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("w") as handle:
            json.dump({"provider": self.provider, "session": self.session}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    async def _on_call(self, name: str, arguments: dict[str, Any]) -> tuple[bool, str]:
        """Answer one tool call of the running CLI (the endpoint's handler)."""
        turn = self._turn
        call_id = f"{self.provider}-{self._runs}-{turn.calls if turn else 0}"
        if turn is None:
            ok, output = False, tool_error("no turn is in progress: wait for the next wake")
        else:
            turn.calls += 1
            call_id = f"{self.provider}-{self._runs}-{turn.calls}"
            if turn.ended:
                ok, output = False, tool_error("not run: the turn had already ended")
            else:
                ok, output = await self._run_call(turn, call_id, name, arguments)
        tool = self.toolbox.qualified(name) if self.toolbox else name
        self._sink.emit(ToolCall, tool=tool, call_id=call_id, arguments=arguments)
        self._sink.emit(ToolResult, tool=tool, call_id=call_id, ok=ok, output=output)
        if not is_builtin(name) and turn is not None:
            self._results.append({"tool": tool, "ok": ok, "output": output})
        return ok, output

    async def _run_call(
        self, turn: _Turn, call_id: str, name: str, arguments: dict[str, Any]
    ) -> tuple[bool, str]:
        if is_builtin(name):
            call = ToolCallRequest(id=call_id, name=name, arguments=arguments)
            done = run_builtin(call, turn.state.allowed_peers)
            if done.rejected_recipient is not None:
                reason = (
                    f"{done.rejected_recipient!r} is not an allowed peer of {turn.state.agent!r}"
                )
                self._sink.emit(MessageRejected, recipient=done.rejected_recipient, reason=reason)
            if done.action is not None:
                turn.actions.append(done.action)
            turn.ended = done.ends_turn
            return done.ok, done.output
        if self.toolbox is not None and self.toolbox.owns(name):
            ok, text = await self.toolbox.call(name, arguments)
            return ok, json.dumps({"ok": True, "output": text}) if ok else tool_error(text)
        return False, tool_error(f"unknown tool {name!r}")


_HINTS = {
    "timeout": "raise lm.timeout_s, or give the agent a smaller task per turn",
    "cannot_run": "install the CLI, or put it on PATH",
    "cli_error": "run the CLI by hand in the agent's working directory (is it logged in?)",
    "unparsable_output": "check the CLI's version: its JSON output format changed",
}
