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
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from chia.base.llm_call import LLMCallBase, QueryResult

__all__ = ["AgentCLI", "ClaudeCodeLLM", "CodexLLM", "OpencodeLLM", "mcp_servers"]


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
        self, user_message: str, servers: dict[str, str], scratch: Path
    ) -> tuple[list[str], dict[str, str]]:
        """The argv and extra environment for one prompt (config files go in ``scratch``)."""
        raise NotImplementedError

    def parse_output(self, stdout: str) -> tuple[str, bool]:
        """The final answer and whether the CLI reported success."""
        raise NotImplementedError

    def _full_prompt(self, user_message: str) -> str:
        if not self.system_message:
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
            code, stdout, stderr = _run(argv, cwd, {**self.env, **extra_env}, self.timeout_s)
        if code is None:
            return QueryResult("", -9, f"{argv[0]}: timed out after {self.timeout_s} s", stdout)
        if not stdout.strip():
            return QueryResult("", code or 1, stderr or f"{argv[0]}: no output", stdout)
        try:
            answer, ok = self.parse_output(stdout)
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            return QueryResult("", code or 1, f"{stderr}\nunparsable output: {exc}", stdout)
        return QueryResult(answer, code, stderr, stdout, success=ok and code == 0)


def _run(
    argv: list[str], cwd: str, env: dict[str, str], timeout_s: float
) -> tuple[int | None, str, str]:
    """Run ``argv`` in a new process group; (exit code or None on timeout, out, err).

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
        self, user_message: str, servers: dict[str, str], scratch: Path
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
        return [*argv, *self.extra_args], {}

    def parse_output(self, stdout: str) -> tuple[str, bool]:
        """The ``result`` of the final JSON object; success unless ``is_error``."""
        result = json.loads(stdout.strip().splitlines()[-1])
        ok = not result.get("is_error", False) and result.get("subtype", "success") == "success"
        return str(result.get("result", "")), ok


class CodexLLM(AgentCLI):
    """OpenAI Codex (``codex exec``) as an LLM node; tools become its MCP servers."""

    default_executable = "codex"

    def build_command(
        self, user_message: str, servers: dict[str, str], scratch: Path
    ) -> tuple[list[str], dict[str, str]]:
        """``codex exec --json`` with ``-c mcp_servers.<name>.url=...`` per tool."""
        argv = [self.executable, "exec", "--json", "--skip-git-repo-check"]
        for name, url in servers.items():
            argv += ["-c", f"mcp_servers.{name}.url={json.dumps(url)}"]
        if self.model:
            argv += ["-m", self.model]
        return [*argv, *self.extra_args, self._full_prompt(user_message)], {}

    def parse_output(self, stdout: str) -> tuple[str, bool]:
        """The last ``agent_message``; success if the turn completed and nothing failed."""
        answer, completed, failed = "", False, False
        for event in _json_lines(stdout):
            kind = event.get("type")
            item = event.get("item") or {}
            if kind == "item.completed" and item.get("type") == "agent_message":
                answer = str(item.get("text", ""))
            completed = completed or kind == "turn.completed"
            failed = failed or kind in ("turn.failed", "error")
        return answer, completed and not failed


class OpencodeLLM(AgentCLI):
    """OpenCode (``opencode run``) as an LLM node; tools become its remote MCP servers."""

    default_executable = "opencode"

    def build_command(
        self, user_message: str, servers: dict[str, str], scratch: Path
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
        argv = [*argv, *self.extra_args, self._full_prompt(user_message)]
        return argv, {"OPENCODE_CONFIG": str(config)}

    def parse_output(self, stdout: str) -> tuple[str, bool]:
        """The text parts joined; success unless an ``error`` event was printed."""
        texts, failed = [], False
        for event in _json_lines(stdout):
            if event.get("type") == "text":
                texts.append(str((event.get("part") or {}).get("text", "")))
            failed = failed or event.get("type") == "error"
        return "".join(texts), not failed
