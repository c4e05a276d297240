"""Agent CLIs as nodes, with stand-in ``claude``/``codex``/``opencode`` executables on PATH.

The stand-in records its argv and the MCP configuration it was given, calls the first tool
of that configuration over MCP (a real ChiaTool on Ray), and replies in its CLI's JSON
format; STANDIN_MODE makes it fail or hang instead.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chia.base.tools.ChiaTool import ChiaTool
from chia.llm.agent_cli import AgentCLI, ClaudeCodeLLM, CodexLLM, OpencodeLLM

pytestmark = pytest.mark.timeout(120)

STANDIN = r"""
import json, os, subprocess, sys, time, tomllib
from pathlib import Path
from fastmcp import Client
import asyncio

cli, argv = Path(sys.argv[0]).name, sys.argv[1:]
mode = os.environ.get("STANDIN_MODE", "ok")
if cli == "claude":
    config = json.loads(Path(argv[argv.index("--mcp-config") + 1]).read_text())
    servers = {n: s["url"] for n, s in config["mcpServers"].items()}
elif cli == "codex":
    servers = {}
    for i, arg in enumerate(argv):
        if arg == "-c":
            key, _, value = argv[i + 1].partition("=")
            servers[key.split(".")[1]] = tomllib.loads(f"v = {value}")["v"]
else:
    config = json.loads(Path(os.environ["OPENCODE_CONFIG"]).read_text())
    servers = {n: s["url"] for n, s in config["mcp"].items()}
Path(os.environ["STANDIN_RECORD"]).write_text(
    json.dumps({"argv": argv, "servers": servers, "cwd": os.getcwd()}))
if mode == "hang":
    child = subprocess.Popen(["sleep", "60"])
    Path(os.environ["STANDIN_RECORD"] + ".pid").write_text(str(child.pid))
    time.sleep(60)

async def call():
    async with Client(next(iter(servers.values()))) as client:
        tool = (await client.list_tools())[0].name
        result = await client.call_tool(tool, {"a": 2, "b": 3})
        return f"{tool} says {result.content[0].text}"

answer = asyncio.run(call()) if servers else "no tools"
failed = mode == "fail"
if cli == "claude":
    print(json.dumps({"type": "result", "subtype": "error_during_execution" if failed
                      else "success", "is_error": failed, "result": answer}))
elif cli == "codex":
    print(json.dumps({"type": "thread.started", "thread_id": "t1"}))
    print(json.dumps({"type": "item.completed", "item": {"type": "agent_message",
                                                         "text": "thinking"}}))
    print(json.dumps({"type": "item.completed", "item": {"type": "agent_message",
                                                         "text": answer}}))
    print(json.dumps({"type": "turn.failed" if failed else "turn.completed"}))
else:
    print(json.dumps({"type": "step_start"}))
    print(json.dumps({"type": "text", "part": {"type": "text", "text": answer}}))
    if failed:
        print(json.dumps({"type": "error", "error": {"name": "APIError"}}))
sys.exit(3 if failed and cli == "claude" else 0)
"""


class Calculator(ChiaTool):
    def setup(self) -> None:
        self.mcp.add_tool(self.add, name="calc_add")

    def add(self, a: int, b: int) -> int:
        """Add two integers."""
        return a + b


@pytest.fixture(scope="module")
def calc() -> Iterator[Calculator]:
    from chia.testing.ray_cluster import ensure_local_ray

    ensure_local_ray()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHIA_TOOL_HOST", "127.0.0.1")
        tool = Calculator("calc")
    yield tool
    tool.stop()


@pytest.fixture
def standins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("claude", "codex", "opencode"):
        script = bin_dir / name
        script.write_text(f"#!{sys.executable}\n{STANDIN}")
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    record = tmp_path / "record.json"
    monkeypatch.setenv("STANDIN_RECORD", str(record))
    return record


def _record(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def test_claude_code(calc: Calculator, standins: Path) -> None:
    llm = ClaudeCodeLLM("be careful", model="sonnet")
    result = llm.prompt("add 2 and 3", tools=[calc])
    assert result.success, result.stderr
    assert result.result == "calc_add says 5"
    rec = _record(standins)
    assert rec["servers"] == {"calc": calc.url}
    argv = rec["argv"]
    assert argv[:4] == ["-p", "add 2 and 3", "--output-format", "json"]
    assert "--strict-mcp-config" in argv
    assert argv[argv.index("--allowedTools") + 1] == "mcp__calc"
    assert argv[argv.index("--append-system-prompt") + 1] == "be careful"
    assert argv[argv.index("--model") + 1] == "sonnet"


def test_codex(calc: Calculator, standins: Path) -> None:
    result = CodexLLM("sys", model="gpt-5-codex").prompt("add", tools=[calc])
    assert result.success and result.result == "calc_add says 5"
    argv = _record(standins)["argv"]
    assert argv[:3] == ["exec", "--json", "--skip-git-repo-check"]
    assert argv[argv.index("-m") + 1] == "gpt-5-codex"
    assert argv[-1] == "sys\n\nadd"
    assert _record(standins)["servers"] == {"calc": calc.url}


def test_opencode(calc: Calculator, standins: Path, tmp_path: Path) -> None:
    result = OpencodeLLM(work_dir=str(tmp_path)).prompt("add", tools=[calc])
    assert result.success and result.result == "calc_add says 5"
    rec = _record(standins)
    assert rec["argv"] == ["run", "--format", "json", "add"]
    assert rec["cwd"] == str(tmp_path)
    assert '"type": "text"' in result.stream_result


@pytest.mark.parametrize("cls", [ClaudeCodeLLM, CodexLLM, OpencodeLLM])
def test_reported_failures_are_not_success(
    cls: type[AgentCLI], calc: Calculator, standins: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STANDIN_MODE", "fail")
    result = cls().prompt("add", tools=[calc])
    assert not result.success
    assert result.result == "calc_add says 5"


def test_timeout_kills_the_cli_and_its_children(
    standins: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STANDIN_MODE", "hang")
    result = CodexLLM(timeout_s=8).prompt("wait")  # room for a slow start under load
    assert not result.success and result.returncode == -9 and "timed out" in result.stderr
    child = int(Path(f"{standins}.pid").read_text())
    deadline = time.monotonic() + 5
    while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
        state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state == "Z":
            break
        time.sleep(0.05)
    else:
        assert not Path(f"/proc/{child}").exists(), "the CLI's child outlived the timeout"


def test_missing_cli_and_unparsable_output(standins: Path, tmp_path: Path) -> None:
    missing = ClaudeCodeLLM(executable=str(tmp_path / "nope")).prompt("x")
    assert not missing.success and missing.returncode == 127 and "cannot run" in missing.stderr
    garbage = tmp_path / "garbage"
    garbage.write_text("#!/bin/sh\necho not json\n")
    garbage.chmod(0o755)
    result = ClaudeCodeLLM(executable=str(garbage)).prompt("x")
    assert not result.success and "unparsable output" in result.stderr
    with pytest.raises(TypeError, match="ChiaTools"):
        ClaudeCodeLLM().prompt("x", tools=[len])


def test_parse_run_reads_each_clis_session_tokens_and_cost() -> None:
    claude = json.dumps({
        "type": "result", "subtype": "success", "is_error": False, "result": "done",
        "session_id": "9f1c2b7e-claude", "total_cost_usd": 0.031,
        "usage": {"input_tokens": 12, "cache_creation_input_tokens": 300,
                  "cache_read_input_tokens": 4000, "output_tokens": 55},
    })  # fmt: skip
    run = ClaudeCodeLLM().parse_run(f"some banner\n{claude}\n")
    assert (run.text, run.ok, run.session) == ("done", True, "9f1c2b7e-claude")
    assert (run.tokens_in, run.tokens_out, run.tokens_cached) == (4312, 55, 4000)
    assert run.cost_usd == 0.031

    codex = "\n".join(json.dumps(e) for e in [
        {"type": "thread.started", "thread_id": "019b341f-04d9"},
        {"type": "turn.started"},
        {"type": "item.completed", "item": {"type": "mcp_tool_call", "server": "chia"}},
        {"type": "item.completed", "item": {"type": "agent_message", "text": "ok"}},
        {"type": "turn.completed",
         "usage": {"input_tokens": 900, "cached_input_tokens": 512, "output_tokens": 40}},
    ])  # fmt: skip
    run = CodexLLM().parse_run(codex)
    assert (run.text, run.ok, run.session) == ("ok", True, "019b341f-04d9")
    assert (run.tokens_in, run.tokens_out, run.tokens_cached, run.cost_usd) == (900, 40, 512, None)

    def step(tokens: dict[str, Any], cost: float) -> dict[str, Any]:
        part = {"type": "step-finish", "tokens": tokens, "cost": cost}
        return {"type": "step_finish", "sessionID": "ses_494719016ffe", "part": part}

    opencode = "\n".join(json.dumps(e) for e in [
        {"type": "step_start", "sessionID": "ses_494719016ffe", "part": {"type": "step-start"}},
        {"type": "tool_use", "sessionID": "ses_494719016ffe", "part": {"tool": "chia_send"}},
        step({"input": 100, "output": 10, "reasoning": 5, "cache": {"read": 50, "write": 7}}, 0.01),
        {"type": "text", "sessionID": "ses_494719016ffe", "part": {"type": "text", "text": "hi"}},
        step({"input": 20, "output": 3, "reasoning": 0, "cache": {"read": 0, "write": 0}}, 0.002),
    ])  # fmt: skip
    run = OpencodeLLM().parse_run(opencode)
    assert (run.text, run.ok, run.session) == ("hi", True, "ses_494719016ffe")
    assert (run.tokens_in, run.tokens_out, run.tokens_cached) == (177, 18, 50)
    assert run.cost_usd == pytest.approx(0.012)
