"""Agent CLIs as LLM nodes: Claude Code, Codex and OpenCode, given ChiaTools over MCP.

Each class builds its CLI's non-interactive command line with an MCP configuration that
points at the given tools' endpoints (URLs resolved for this node), runs it in its own
process group in a scratch directory (a timeout kills the whole group), and parses the
CLI's JSON output into a :class:`~chia.base.llm_call.QueryResult`:

* ``ClaudeCodeLLM``: ``claude -p MSG --output-format json --mcp-config FILE
  --strict-mcp-config --allowedTools mcp__<tool>...``; one JSON result object.
* ``CodexLLM``: ``codex exec --json --skip-git-repo-check -c mcp_servers.<tool>.url=...
  MSG``; JSON lines, the answer is the last ``agent_message`` item.
* ``OpencodeLLM``: ``opencode run --format json MSG`` with ``OPENCODE_CONFIG`` naming a
  file whose ``mcp`` section lists the tools as ``remote`` servers; JSON lines, the answer
  is the text parts.

Each parser also returns the run's session id and token counts (:class:`CLIRun`), and
each command line resumes a session when given one, so a campaign agent
(:mod:`chia.agent.cli_policy`) continues one conversation across its turns:

* Claude Code: ``session_id`` and ``usage`` of the result object; ``--resume ID``.
* Codex: ``thread_id`` of the ``thread.started`` event, ``usage`` of ``turn.completed``;
  ``codex exec [options] resume ID MSG``.
* OpenCode: ``sessionID`` of its events, ``part.tokens`` of ``step_finish``;
  ``opencode run --session ID``.

Credentials are the CLIs' own (their config directories and environment); nothing here
reads or writes them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from chia.base.llm_call import LLMCallBase, QueryResult

__all__ = [
    "AGENT_CLIS",
    "AgentCLI",
    "CLIRun",
    "ClaudeCodeLLM",
    "CodexLLM",
    "OpencodeLLM",
    "mcp_servers",
    "run_cli",
]


@dataclass(frozen=True)
class CLIRun:
    """What one CLI run reported, parsed from its JSON output.

    Attributes:
        text: The final answer.
        ok: Whether the CLI reported success.
        session: The session (thread) id to resume, if the output named one.
        tokens_in: Prompt tokens, cached ones included (0 if not reported).
        tokens_out: Completion tokens (0 if not reported).
        tokens_cached: Prompt tokens read from the provider's cache.
        cost_usd: The cost the CLI itself reported, if any.
    """

    text: str
    ok: bool
    session: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    tokens_cached: int = 0
    cost_usd: float | None = None


def mcp_servers(tools: Sequence[Any] | None) -> dict[str, str]:
    """``{server name: endpoint URL}`` for ChiaTools (by ``name``/``url``), resolved here.

    Raises:
        TypeError: For an entry that is not a ChiaTool.
    """
    from chia.base.tools.ChiaTool import resolve_tool_url

    servers: dict[str, str] = {}
    for tool in tools or ():
        if not (hasattr(tool, "name") and hasattr(tool, "url")):
            raise TypeError(f"agent CLIs take ChiaTools, not {tool!r}")
        servers[tool.name] = resolve_tool_url(tool.url)
    return servers


class AgentCLI(LLMCallBase):
    """An agent CLI run once per prompt, non-interactively (see the module docstring).

    Args:
        system_message: Instructions added to every prompt.
        model: The model the CLI should use (None: the CLI's default).
        executable: The CLI to run (default: the class's, found on PATH).
        work_dir: Where the agent works (default: a fresh scratch directory per prompt).
        timeout_s: Seconds before the CLI's whole process group is killed.
        extra_args: More arguments, inserted before the prompt.
        env: Variables added to the CLI's environment.
    """

    #: The executable's default name.
    default_executable: ClassVar[str] = ""

    def __init__(
        self,
        system_message: str = "",
        *,
        model: str | None = None,
        executable: str | None = None,
        work_dir: str | None = None,
        timeout_s: float = 1800.0,
        extra_args: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(system_message)
        self.model = model
        self.executable = executable or self.default_executable
        self.work_dir = work_dir
        self.timeout_s = timeout_s
        self.extra_args = list(extra_args)
        self.env = dict(env or {})

    def build_command(
        self,
        user_message: str,
        servers: dict[str, str],
        scratch: Path,
        *,
        session: str | None = None,
    ) -> tuple[list[str], dict[str, str]]:
        """The argv and extra environment for one prompt (config files go in ``scratch``).

        Args:
            user_message: The prompt.
            servers: MCP server name to endpoint URL.
            scratch: A directory for config files, alive during the run.
            session: A session id to resume (None: a new session).
        """
        raise NotImplementedError

    def parse_run(self, stdout: str) -> CLIRun:
        """Parse the CLI's JSON output.

        Raises:
            ValueError, KeyError, TypeError, IndexError: For output that is not the CLI's
                JSON format.
        """
        raise NotImplementedError

    def parse_output(self, stdout: str) -> tuple[str, bool]:
        """The final answer and whether the CLI reported success."""
        run = self.parse_run(stdout)
        return run.text, run.ok

    def _full_prompt(self, user_message: str, session: str | None = None) -> str:
        """The prompt with the system message first (a resumed session has it already)."""
        if not self.system_message or session is not None:
            return user_message
        return f"{self.system_message}\n\n{user_message}"

    def prompt(self, user_message: str, tools: Sequence[Any] | None = ()) -> QueryResult:
        """Run the CLI once with ``tools`` as its MCP servers and return its answer.

        Args:
            user_message: The task for the agent.
            tools: ChiaTools the agent may call (each becomes one MCP server).

        Returns:
            The answer, the CLI's raw output as the transcript, its exit code and stderr.
        """
        servers = mcp_servers(tools)
        with tempfile.TemporaryDirectory(prefix="chia-agent-") as scratch:
            argv, extra_env = self.build_command(user_message, servers, Path(scratch))
            cwd = self.work_dir or scratch
            code, stdout, stderr = run_cli(argv, cwd, {**self.env, **extra_env}, self.timeout_s)
        if code is None:
            return QueryResult("", -9, f"{argv[0]}: timed out after {self.timeout_s} s", stdout)
        if not stdout.strip():
            return QueryResult("", code or 1, stderr or f"{argv[0]}: no output", stdout)
        try:
            answer, ok = self.parse_output(stdout)
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            return QueryResult("", code or 1, f"{stderr}\nunparsable output: {exc}", stdout)
        return QueryResult(answer, code, stderr, stdout, success=ok and code == 0)


def run_cli(
    argv: list[str],
    cwd: str,
    env: dict[str, str],
    timeout_s: float,
    on_start: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> tuple[int | None, str, str]:
    """Run ``argv`` in a new process group; (exit code or None on timeout, out, err).

    A CLI that cannot be started is exit code 127 with the reason in ``err``. ``on_start``
    gets the process as soon as it runs, so another thread can kill its group early (its
    exit code is then -9).

    Output goes to files, not pipes: a background helper the agent left behind cannot
    hold a read open, and the whole group is killed once the CLI exits or times out.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        except OSError as exc:
            return 127, "", f"{argv[0]}: cannot run: {exc}"
        code: int | None = None
        try:
            if on_start is not None:
                on_start(proc)
            code = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            pass
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        out.seek(0)
        err.seek(0)
        return code, out.read().decode(errors="replace"), err.read().decode(errors="replace")


def _json_lines(stdout: str) -> list[dict[str, Any]]:
    events = []
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            events.append(json.loads(line))
    return events


class ClaudeCodeLLM(AgentCLI):
    """Claude Code (``claude -p``) as an LLM node; tools become its MCP servers."""

    default_executable = "claude"

    def build_command(
        self,
        user_message: str,
        servers: dict[str, str],
        scratch: Path,
        *,
        session: str | None = None,
    ) -> tuple[list[str], dict[str, str]]:
        """``claude -p`` with a strict MCP config file allowing exactly these tools."""
        config = scratch / "mcp.json"
        entries = {name: {"type": "http", "url": url} for name, url in servers.items()}
        config.write_text(json.dumps({"mcpServers": entries}, indent=2))
        argv = [self.executable, "-p", user_message, "--output-format", "json"]
        argv += ["--mcp-config", str(config), "--strict-mcp-config"]
        if servers:
            argv += ["--allowedTools", *(f"mcp__{name}" for name in servers)]
        if self.system_message:
            argv += ["--append-system-prompt", self.system_message]
        if self.model:
            argv += ["--model", self.model]
        if session:
            argv += ["--resume", session]
        return [*argv, *self.extra_args], {}

    def parse_run(self, stdout: str) -> CLIRun:
        """The final JSON object: ``result``, ``is_error``, ``session_id``, ``usage``."""
        result = json.loads(stdout.strip().splitlines()[-1])
        ok = not result.get("is_error", False) and result.get("subtype", "success") == "success"
        usage = result.get("usage") or {}
        cached = int(usage.get("cache_read_input_tokens") or 0)
        written = int(usage.get("cache_creation_input_tokens") or 0)
        cost = result.get("total_cost_usd")
        return CLIRun(
            text=str(result.get("result", "")),
            ok=ok,
            session=result.get("session_id") or None,
            tokens_in=int(usage.get("input_tokens") or 0) + cached + written,
            tokens_out=int(usage.get("output_tokens") or 0),
            tokens_cached=cached,
            cost_usd=float(cost) if isinstance(cost, (int, float)) else None,
        )


class CodexLLM(AgentCLI):
    """OpenAI Codex (``codex exec``) as an LLM node; tools become its MCP servers."""

    default_executable = "codex"

    def build_command(
        self,
        user_message: str,
        servers: dict[str, str],
        scratch: Path,
        *,
        session: str | None = None,
    ) -> tuple[list[str], dict[str, str]]:
        """``codex exec --json`` with ``-c mcp_servers.<name>.url=...`` per tool."""
        argv = [self.executable, "exec", "--json", "--skip-git-repo-check"]
        for name, url in servers.items():
            argv += ["-c", f"mcp_servers.{name}.url={json.dumps(url)}"]
        if self.model:
            argv += ["-m", self.model]
        argv += self.extra_args
        if session:
            argv += ["resume", session]
        return [*argv, self._full_prompt(user_message, session)], {}

    def parse_run(self, stdout: str) -> CLIRun:
        """The last ``agent_message``; success if the turn completed and nothing failed."""
        answer, completed, failed = "", False, False
        session: str | None = None
        tokens = {"input_tokens": 0, "output_tokens": 0, "cached_input_tokens": 0}
        for event in _json_lines(stdout):
            kind = event.get("type")
            item = event.get("item") or {}
            if kind == "thread.started":
                session = event.get("thread_id") or session
            if kind == "item.completed" and item.get("type") == "agent_message":
                answer = str(item.get("text", ""))
            if kind == "turn.completed":
                usage = event.get("usage") or {}
                for key in tokens:
                    tokens[key] += int(usage.get(key) or 0)
            completed = completed or kind == "turn.completed"
            failed = failed or kind in ("turn.failed", "error")
        return CLIRun(
            answer,
            completed and not failed,
            session,
            tokens_in=tokens["input_tokens"],
            tokens_out=tokens["output_tokens"],
            tokens_cached=tokens["cached_input_tokens"],
        )


class OpencodeLLM(AgentCLI):
    """OpenCode (``opencode run``) as an LLM node; tools become its remote MCP servers."""

    default_executable = "opencode"

    def build_command(
        self,
        user_message: str,
        servers: dict[str, str],
        scratch: Path,
        *,
        session: str | None = None,
    ) -> tuple[list[str], dict[str, str]]:
        """``opencode run --format json``; ``OPENCODE_CONFIG`` lists the tools."""
        config = scratch / "opencode.json"
        mcp = {
            name: {"type": "remote", "url": url, "enabled": True} for name, url in servers.items()
        }
        config.write_text(json.dumps({"$schema": "https://opencode.ai/config.json", "mcp": mcp}))
        argv = [self.executable, "run", "--format", "json"]
        if self.model:
            argv += ["--model", self.model]
        if session:
            argv += ["--session", session]
        argv = [*argv, *self.extra_args, self._full_prompt(user_message, session)]
        return argv, {"OPENCODE_CONFIG": str(config)}

    def parse_run(self, stdout: str) -> CLIRun:
        """The text parts joined; success unless an ``error`` event was printed."""
        texts, failed = [], False
        session: str | None = None
        tokens_in = tokens_out = cached = 0
        cost: float | None = None
        for event in _json_lines(stdout):
            kind = event.get("type")
            part = event.get("part") or {}
            session = event.get("sessionID") or session
            if kind == "text":
                texts.append(str(part.get("text", "")))
            if kind == "step_finish":
                counts = part.get("tokens") or {}
                cache = counts.get("cache") or {}
                cached += int(cache.get("read") or 0)
                tokens_in += int(counts.get("input") or 0) + int(cache.get("read") or 0)
                tokens_in += int(cache.get("write") or 0)
                tokens_out += int(counts.get("output") or 0) + int(counts.get("reasoning") or 0)
                if isinstance(part.get("cost"), (int, float)):
                    cost = (cost or 0.0) + float(part["cost"])
            failed = failed or kind == "error"
        return CLIRun("".join(texts), not failed, session, tokens_in, tokens_out, cached, cost)


#: The agent CLIs by campaign provider name (``lm.provider``).
AGENT_CLIS: dict[str, type[AgentCLI]] = {
    "claude-code": ClaudeCodeLLM,
    "codex": CodexLLM,
    "opencode": OpencodeLLM,
}
