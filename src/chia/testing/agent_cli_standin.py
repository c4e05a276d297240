"""Stand-in ``claude``, ``codex`` and ``opencode`` executables for tests.

:func:`install_standins` writes the three into a directory (put it first on PATH). Each
reads its MCP configuration as the real CLI would (claude ``--mcp-config``, codex ``-c
mcp_servers.<name>.url=``, opencode ``$OPENCODE_CONFIG``), finds which agent it runs for
from the prompt's last line (the turn state's JSON), and plays that agent's next turn of
the script named by ``$STANDIN_SCRIPT``::

    {"alice": [[{"tool": "send_message", "arguments": {"recipient": "bob", ...}},
                {"tool": "finish_turn"}],
               {"mode": "fail"}],
     "*": [...]}

A turn is a list of calls, or ``{"calls": [...], "mode": ...}`` where ``mode`` is
``ok``, ``fail`` (the CLI reports an error), ``hang`` (it and a child sleep; the caller's
timeout must kill both), ``garbage`` (it prints no JSON) or ``lost_session`` (asked to
resume, it cannot find the session: an error on stderr, no JSON, exit 1).
``{last_message}`` in a string argument is replaced by the content of the turn's last new
message. ``"wait_for": PATH`` makes the turn wait (up to 120 s) until PATH exists before
its calls. Turns past the script's end make no call. Calls go over MCP with FastMCP's client.

It prints its CLI's real output format (claude's result object, codex's ``exec --json``
events, opencode's ``run --format json`` events) with a session id (new, or the one it
was asked to resume) and token counts, and appends a record of the run (argv, servers,
cwd, session, tool results) to ``$STANDIN_RECORD/<agent>.jsonl``.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from chia.testing.campaigns import write_campaign_dir

__all__ = [
    "PING_PONG_AGENTS",
    "PING_PONG_SCRIPT",
    "install_standins",
    "main",
    "ping_pong_campaign",
    "records",
]

CLIS = ("claude", "codex", "opencode")


#: aurora asks crux, crux answers, aurora submits; the campaign lm is claude-code and
#: agent-crux runs on codex (its own lm).
PING_PONG_AGENTS: list[dict[str, Any]] = [
    {"name": "agent-aurora", "role": "asker", "mission": "ask crux, then submit its answer",
     "allowed_peers": ["agent-crux"]},
    {"name": "agent-crux", "role": "answerer", "mission": "answer aurora",
     "allowed_peers": ["agent-aurora"], "lm": {"provider": "codex"}},
]  # fmt: skip
#: The stand-ins' script for :func:`ping_pong_campaign`, turn by turn.
PING_PONG_SCRIPT: dict[str, Any] = {
    "agent-aurora": [
        [
            {"tool": "send_message", "arguments": {"recipient": "agent-crux", "content": "ping"}},
            {"tool": "finish_turn", "arguments": {"reason": "asked"}},
        ],
        [{"tool": "submit_result", "arguments": {"result": "crux said: {last_message}"}}],
    ],
    "agent-crux": [
        [
            {
                "tool": "send_message",
                "arguments": {"recipient": "agent-aurora", "content": "pong to {last_message}"},
            },
            {"tool": "finish_turn"},
        ],
    ],
}


def ping_pong_campaign(root: Path) -> Path:
    """Write the ping-pong campaign of :data:`PING_PONG_SCRIPT` under ``root``; its path."""
    return write_campaign_dir(
        root,
        "cli-chat",
        PING_PONG_AGENTS,
        user_task="ping-pong",
        lm={"provider": "claude-code", "model": "sonnet", "timeout_s": 60},
        limits={"idle_timeout_s": 60},
    )


def install_standins(bin_dir: Path) -> Path:
    """Write the three stand-ins into ``bin_dir`` (made if missing) and return it."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in CLIS:
        script = bin_dir / name
        script.write_text(
            f"#!{sys.executable}\nfrom chia.testing.agent_cli_standin import main\nmain()\n"
        )
        script.chmod(0o755)
    return bin_dir


def records(record_dir: Path, agent: str) -> list[dict[str, Any]]:
    """The runs the stand-ins recorded for ``agent``, oldest first."""
    path = record_dir / f"{agent}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _servers(cli: str, argv: list[str]) -> dict[str, str]:
    if cli == "claude":
        config = json.loads(Path(argv[argv.index("--mcp-config") + 1]).read_text())
        return {n: s["url"] for n, s in config["mcpServers"].items()}
    if cli == "codex":
        servers = {}
        for i, arg in enumerate(argv[:-1]):
            if arg == "-c" and argv[i + 1].startswith("mcp_servers."):
                key, _, value = argv[i + 1].partition("=")
                servers[key.split(".")[1]] = json.loads(value)  # a TOML string, here JSON's
        return servers
    config = json.loads(Path(os.environ["OPENCODE_CONFIG"]).read_text())
    return {n: s["url"] for n, s in config["mcp"].items()}


def _prompt_and_session(cli: str, argv: list[str]) -> tuple[str, str | None]:
    if cli == "claude":
        prompt = argv[argv.index("-p") + 1]
        session = argv[argv.index("--resume") + 1] if "--resume" in argv else None
        return prompt, session
    if cli == "codex":
        session = argv[argv.index("resume") + 1] if "resume" in argv else None
        return argv[-1], session
    session = argv[argv.index("--session") + 1] if "--session" in argv else None
    return argv[-1], session


def _fill(value: Any, last_message: str) -> Any:
    if isinstance(value, str):
        return value.replace("{last_message}", last_message)
    if isinstance(value, dict):
        return {k: _fill(v, last_message) for k, v in value.items()}
    return value


async def _call(url: str, calls: list[dict[str, Any]], last: str) -> list[dict[str, Any]]:
    from fastmcp import Client

    results = []
    async with Client(url) as client:
        tools = [tool.name for tool in await client.list_tools()]
        for call in calls:
            arguments = _fill(call.get("arguments", {}), last)
            result = await client.call_tool(call["tool"], arguments, raise_on_error=False)
            text = "".join(getattr(block, "text", "") for block in result.content)
            results.append({"tool": call["tool"], "is_error": result.is_error, "text": text})
    return [{"tools": tools}, *results]


def _print(cli: str, session: str, answer: str, failed: bool) -> None:
    if cli == "claude":
        result = {
            "type": "result",
            "subtype": "error_during_execution" if failed else "success",
            "is_error": failed,
            "result": answer,
            "session_id": session,
            "total_cost_usd": 0.0125,
            "usage": {"input_tokens": 100, "cache_read_input_tokens": 20, "output_tokens": 7},
        }
        print(json.dumps(result))
    elif cli == "codex":
        print(json.dumps({"type": "thread.started", "thread_id": session}))
        print(json.dumps({"type": "turn.started"}))
        item = {"id": "item_0", "type": "agent_message", "text": answer}
        print(json.dumps({"type": "item.completed", "item": item}))
        usage = {"input_tokens": 100, "cached_input_tokens": 20, "output_tokens": 7}
        print(json.dumps({"type": "turn.failed" if failed else "turn.completed", "usage": usage}))
    else:
        base = {"timestamp": int(time.time() * 1000), "sessionID": session}
        print(json.dumps({"type": "step_start", **base, "part": {"type": "step-start"}}))
        print(json.dumps({"type": "text", **base, "part": {"type": "text", "text": answer}}))
        tokens = {"input": 80, "output": 7, "reasoning": 0, "cache": {"read": 20, "write": 0}}
        finish = {"type": "step-finish", "tokens": tokens, "cost": 0.0125}
        print(json.dumps({"type": "step_finish", **base, "part": finish}))
        if failed:
            print(json.dumps({"type": "error", **base, "error": {"name": "APIError"}}))


def main() -> None:
    """Run as ``claude``, ``codex`` or ``opencode`` (by the executable's name)."""
    cli, argv = Path(sys.argv[0]).name, sys.argv[1:]
    servers = _servers(cli, argv)
    prompt, resumed = _prompt_and_session(cli, argv)
    state = json.loads(prompt.strip().splitlines()[-1])
    agent = state["agent"]
    record_dir = Path(os.environ["STANDIN_RECORD"])
    record_dir.mkdir(parents=True, exist_ok=True)
    index = len(records(record_dir, agent))
    script = json.loads(Path(os.environ["STANDIN_SCRIPT"]).read_text())
    turns = script.get(agent, script.get("*", []))
    turn = turns[index] if index < len(turns) else []
    if isinstance(turn, list):
        turn = {"calls": turn}
    mode = turn.get("mode", "ok")
    session = resumed or f"{cli}-{uuid.uuid4()}"
    record: dict[str, Any] = {
        "argv": argv,
        "servers": servers,
        "cwd": os.getcwd(),
        "resumed": resumed,
        "session": session,
        "pid": os.getpid(),
    }
    if mode == "lost_session" and resumed:
        record["results"] = []
        with (record_dir / f"{agent}.jsonl").open("a") as out:
            out.write(json.dumps(record) + "\n")
        print(f"No conversation found with session ID: {resumed}", file=sys.stderr)
        sys.exit(1)
    if mode == "hang":
        child = subprocess.Popen(["sleep", "300"])
        record["child"] = child.pid
        with (record_dir / f"{agent}.jsonl").open("a") as out:
            out.write(json.dumps(record) + "\n")
        time.sleep(300)
    if turn.get("wait_for"):
        deadline = time.monotonic() + 120
        while not Path(turn["wait_for"]).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    new = state.get("new_messages") or [{}]
    last = str(new[-1].get("content", ""))
    calls = turn.get("calls", [])
    url = next(iter(servers.values()))
    results = asyncio.run(_call(url, calls, last)) if calls else []
    record["tools"] = results[0]["tools"] if results else []
    record["results"] = results[1:]
    with (record_dir / f"{agent}.jsonl").open("a") as out:
        out.write(json.dumps(record) + "\n")
    if mode == "garbage":
        print("Error: something went wrong (not JSON)")
        sys.exit(1)
    failed = mode == "fail"
    _print(cli, session, f"{agent} made {len(calls)} call(s)", failed)
    sys.exit(1 if failed and cli == "claude" else 0)
