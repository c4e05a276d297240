"""AgentCLIPolicy with stand-in claude/codex/opencode executables calling our MCP endpoint.

The stand-ins (chia.testing.agent_cli_standin) are real processes speaking each CLI's
output format; they call the policy's endpoint over streamable HTTP with FastMCP's client.
"""

import asyncio
import json
import os
import time
from pathlib import Path

import pytest
from tests.conftest import REPO_ROOT

from chia.agent.cli_policy import AgentCLIPolicy
from chia.agent.envelope import Envelope
from chia.agent.mcp_tools import McpToolbox
from chia.agent.policy import (
    FinishTurn,
    ManagedPolicy,
    ObservedPolicy,
    RestorablePolicy,
    SendMessage,
    SubmitResult,
    TurnState,
)
from chia.campaign import PromptProfile
from chia.campaign.model import AgentSpec, McpServerSpec
from chia.events import LLMCall, MessageRejected, ModelError, ToolCall, ToolResult
from chia.llm.agent_cli import AGENT_CLIS
from chia.testing.agent_cli_standin import install_standins, records

pytestmark = pytest.mark.timeout(120)

PROMPTS = PromptProfile(system_prompt="SYS", protocol_prompt="PROTO")
COUNTER = McpServerSpec(
    name="counter", command="python", args=[str(REPO_ROOT / "examples/mcp/counter_tools.py")]
)


class Sink:
    def __init__(self):
        self.events = []
        self.tokens = [0, 0]

    def emit(self, kind, /, **fields):
        self.events.append((kind, fields))

    def add_tokens(self, tokens_in, tokens_out):
        self.tokens = [self.tokens[0] + tokens_in, self.tokens[1] + tokens_out]

    def of(self, kind):
        return [f for k, f in self.events if k is kind]


@pytest.fixture
def standins(tmp_path, monkeypatch):
    bin_dir = install_standins(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    record = tmp_path / "record"
    monkeypatch.setenv("STANDIN_RECORD", str(record))
    script = tmp_path / "script.json"
    monkeypatch.setenv("STANDIN_SCRIPT", str(script))

    def play(turns, agent="a"):
        script.write_text(json.dumps({agent: turns}))
        return record

    return play


def _state(**changes):
    message = Envelope(run_id="r", sender="b", recipient="a", content="hello a", round=1)
    fields = dict(
        agent="a", role="player", mission="talk", task="say hi", round=1, allowed_peers=["b"],
        new_messages=[message], peer_status={"b": "running"},
    )  # fmt: skip
    fields.update(changes)
    return TurnState(**fields)


def _policy(provider="claude-code", toolbox=None, state_dir=None, timeout_s=60.0, **kw):
    cli = AGENT_CLIS[provider](model=kw.pop("model", None), timeout_s=timeout_s)
    policy = AgentCLIPolicy(cli, provider, PROMPTS, toolbox, state_dir=state_dir, agent="a")
    sink = Sink()
    policy.bind(sink)
    return policy, sink


def _send(content, to="b"):
    return {"tool": "send_message", "arguments": {"recipient": to, "content": content}}


async def test_one_turn_send_then_finish(standins):
    record = standins([[_send("hi b, you said: {last_message}"), {"tool": "finish_turn"}]])
    policy, sink = _policy(model="sonnet")
    assert isinstance(policy, ObservedPolicy) and isinstance(policy, ManagedPolicy)
    assert isinstance(policy, RestorablePolicy)
    await policy.start()
    try:
        actions = await policy.decide(_state())
    finally:
        await policy.close()
    assert actions == [
        SendMessage(
            recipient="b", content="hi b, you said: hello a", tldr="hi b, you said: hello a"
        ),
        FinishTurn(),
    ]
    (run,) = records(record, "a")
    assert run["tools"] == ["send_message", "finish_turn", "submit_result"]
    assert [r["is_error"] for r in run["results"]] == [False, False]
    argv = run["argv"]
    assert argv[argv.index("--append-system-prompt") + 1] == "SYS\n\nPROTO"
    assert argv[argv.index("--allowedTools") + 1] == "mcp__chia"
    assert argv[argv.index("--model") + 1] == "sonnet" and "--resume" not in argv
    assert json.loads(argv[argv.index("-p") + 1])["new_messages"][0]["content"] == "hello a"
    assert [c["tool"] for c in sink.of(ToolCall)] == ["send_message", "finish_turn"]
    assert all(r["ok"] for r in sink.of(ToolResult))
    (call,) = sink.of(LLMCall)
    assert call["provider"] == "claude-code" and call["model"] == "sonnet" and call["success"]
    assert (call["tokens_in"], call["tokens_out"], call["tokens_cached"]) == (120, 7, 20)
    assert call["cost_usd"] == 0.0125 and sink.tokens == [120, 7]
    assert policy.session == run["session"] and policy.name == "cli:claude-code:sonnet"


async def test_disallowed_recipient_is_a_tool_error_the_cli_reads(standins):
    submit = {"tool": "submit_result", "arguments": {"result": "done"}}
    record = standins([[_send("psst", to="mallory"), submit]])
    policy, sink = _policy("codex")
    await policy.start()
    try:
        actions = await policy.decide(_state())
    finally:
        await policy.close()
    assert actions == [SubmitResult(result="done")]
    refused, submitted = records(record, "a")[0]["results"]
    assert refused["is_error"] and "not one of your allowed peers" in refused["text"]
    assert json.loads(refused["text"])["allowed_peers"] == ["b"]
    assert not submitted["is_error"]
    (rejected,) = sink.of(MessageRejected)
    assert rejected["recipient"] == "mallory"
    assert [r["ok"] for r in sink.of(ToolResult)] == [False, True]


async def test_campaign_mcp_tools_are_forwarded(standins):
    agent = AgentSpec(name="a", role="r", mission="m", mcp_servers=["counter"],
                      allowed_tools=["counter.increment"])  # fmt: skip
    toolbox = McpToolbox([COUNTER], agent)
    call = {"tool": "counter__increment", "arguments": {"value": 41}}
    record = standins([[call, {"tool": "finish_turn"}]])
    policy, sink = _policy("opencode", toolbox=toolbox)
    await policy.start()
    try:
        actions = await policy.decide(_state())
    finally:
        await policy.close()
    assert actions == [FinishTurn()]
    run = records(record, "a")[0]
    assert "counter__increment" in run["tools"] and "counter__reached" not in run["tools"]
    assert json.loads(run["results"][0]["text"]) == {"ok": True, "output": "42"}
    assert sink.of(ToolCall)[0]["tool"] == "counter.increment"
    call_event = sink.of(LLMCall)[0]
    assert (call_event["tokens_in"], call_event["tokens_cached"]) == (100, 20)


@pytest.mark.parametrize("provider", ["claude-code", "codex", "opencode"])
async def test_the_second_turn_resumes_the_session(provider, standins, tmp_path):
    record = standins([[_send("one")], [{"tool": "finish_turn", "arguments": {"reason": "ok"}}]])
    policy, sink = _policy(provider, state_dir=tmp_path / "agent_cli")
    await policy.start()
    try:
        first = await policy.decide(_state())
        second = await policy.decide(_state(round=2))
    finally:
        await policy.close()
    assert first == [SendMessage(recipient="b", content="one", tldr="one"),
                     FinishTurn(reason="cli_exited")]  # fmt: skip
    assert second == [FinishTurn(reason="ok")]
    one, two = records(record, "a")
    assert one["resumed"] is None and two["resumed"] == one["session"]
    resume = {
        "claude-code": ["--resume", one["session"]],
        "codex": ["resume", one["session"]],
        "opencode": ["--session", one["session"]],
    }[provider]
    argv = two["argv"]
    at = argv.index(resume[0])
    assert argv[at : at + 2] == resume
    if provider == "codex":  # options before the subcommand, the prompt last
        assert argv[:2] == ["exec", "--json"] and json.loads(argv[-1])["round"] == 2
    if provider != "claude-code":  # the system prompt opens a new session only
        assert argv[-1].startswith("{")
        assert one["argv"][-1].startswith("SYS\n\nPROTO\n\n")
    assert one["cwd"] == two["cwd"] == str(tmp_path / "agent_cli" / "a")
    saved = json.loads((tmp_path / "agent_cli" / "a.json").read_text())
    assert saved == {"provider": provider, "session": one["session"]}
    assert [c["success"] for c in sink.of(LLMCall)] == [True, True]


async def test_a_restarted_agent_resumes_the_saved_session(standins, tmp_path):
    record = standins([[{"tool": "finish_turn"}], [{"tool": "finish_turn"}]])
    state_dir = tmp_path / "agent_cli"
    first, _ = _policy(state_dir=state_dir)
    await first.start()
    try:
        await first.decide(_state())
    finally:
        await first.close()
    session = records(record, "a")[0]["session"]
    fresh, _ = _policy(state_dir=state_dir)  # a new agent: the journal was empty
    assert fresh.session is None
    restarted, _ = _policy(state_dir=state_dir)
    restarted.restore(actions=[{"action": "finish_turn", "reason": ""}], tool_results=[])
    assert restarted.session == session
    other, _ = _policy("codex", state_dir=state_dir)  # another CLI's session is not reused
    other.restore(actions=[], tool_results=[])
    assert other.session is None
    await restarted.start()
    try:
        await restarted.decide(_state(round=2))
    finally:
        await restarted.close()
    second = records(record, "a")[1]
    assert second["resumed"] == session
    state = json.loads(second["argv"][second["argv"].index("-p") + 1])
    assert state["recent_actions"] == [{"action": "finish_turn", "reason": ""}]


@pytest.mark.parametrize("mode", ["fail", "garbage"])
async def test_a_failing_cli_ends_the_turn_with_a_model_error(mode, standins):
    standins([{"mode": mode, "calls": [_send("before the crash")]}])
    policy, sink = _policy("claude-code")
    await policy.start()
    try:
        actions = await policy.decide(_state())
    finally:
        await policy.close()
    assert actions == [
        SendMessage(recipient="b", content="before the crash", tldr="before the crash"),
        FinishTurn(reason="model_error"),
    ]
    (call,) = sink.of(LLMCall)
    assert not call["success"] and call["error"]
    (error,) = sink.of(ModelError)
    kind = {"fail": "cli_error", "garbage": "unparsable_output"}[mode]
    assert error["error_kind"] == kind and error["action"] == "ended_turn"
    assert error["provider"] == "claude-code"


async def test_a_hanging_cli_is_killed_with_its_children(standins):
    record = standins([{"mode": "hang"}])
    policy, sink = _policy("codex", timeout_s=5)
    await policy.start()
    try:
        actions = await policy.decide(_state())
    finally:
        await policy.close()
    assert actions == [FinishTurn(reason="model_error")]
    (error,) = sink.of(ModelError)
    assert error["error_kind"] == "timeout" and "timed out" in error["error"]
    run = records(record, "a")[0]
    for pid in (run["pid"], run["child"]):
        assert not _alive(pid), f"process {pid} outlived the timeout"
    assert policy.session is None


async def test_a_missing_cli_is_a_model_error_not_a_crash(tmp_path):
    cli = AGENT_CLIS["opencode"](executable=str(tmp_path / "no-such-opencode"))
    policy = AgentCLIPolicy(cli, "opencode", PROMPTS)
    sink = Sink()
    policy.bind(sink)
    await policy.start()
    try:
        actions = await policy.decide(_state())
    finally:
        await policy.close()
    assert actions == [FinishTurn(reason="model_error")]
    assert sink.of(ModelError)[0]["error_kind"] == "cannot_run"


def _alive(pid: int) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        stat = Path(f"/proc/{pid}/stat")
        if not stat.exists():
            return False
        try:
            if stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return False
        except (OSError, IndexError):
            return False
        time.sleep(0.05)
    return True


async def test_a_session_the_cli_cannot_open_is_dropped(standins, tmp_path):
    record = standins([[{"tool": "finish_turn"}], {"mode": "lost_session"},
                       [{"tool": "finish_turn"}]])  # fmt: skip
    policy, sink = _policy("claude-code", state_dir=tmp_path / "agent_cli")
    await policy.start()
    try:
        await policy.decide(_state())
        lost = await policy.decide(_state(round=2))
        assert lost == [FinishTurn(reason="model_error")] and policy.session is None
        await policy.decide(_state(round=3))
    finally:
        await policy.close()
    one, two, three = records(record, "a")
    assert two["resumed"] == one["session"] and three["resumed"] is None
    assert policy.session == three["session"] != one["session"]
    assert sink.of(ModelError)[0]["error_kind"] == "no_output"
    saved = json.loads((tmp_path / "agent_cli" / "a.json").read_text())
    assert saved["session"] == three["session"]


async def test_cancelling_a_turn_kills_the_running_cli(standins, tmp_path):
    record = standins([{"mode": "hang"}])
    policy, _ = _policy("opencode", timeout_s=120)
    await policy.start()
    try:
        task = asyncio.ensure_future(policy.decide(_state()))
        deadline = time.monotonic() + 60
        while not records(record, "a"):
            assert time.monotonic() < deadline and not task.done(), "the CLI never started"
            await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        run = records(record, "a")[0]
        for pid in (run["pid"], run["child"]):
            assert not _alive(pid), f"process {pid} outlived the cancelled turn"
    finally:
        await policy.close()
