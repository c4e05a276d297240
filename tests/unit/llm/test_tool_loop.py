"""An OpenAI-compatible LLM node calls ChiaTools over MCP (fake OpenAI server, real Ray)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from chia.base.tools.ChiaTool import ChiaTool
from chia.llm import LLMConfigError, make_llm
from chia.llm.tool_loop import is_mcp_tool, prompt_with_mcp_tools
from chia.testing.openai_server import openai_server
from chia.testing.ray_cluster import ensure_local_ray

pytestmark = pytest.mark.timeout(120)


class Calculator(ChiaTool):
    def setup(self) -> None:
        self.mcp.add_tool(self.add, name="calc_add")
        self.mcp.add_tool(self.fail, name="calc_fail")

    def add(self, a: int, b: int) -> dict[str, Any]:
        """Add two integers and report which process did it."""
        return {"sum": a + b, "pid": os.getpid()}

    def fail(self) -> str:
        """Always fails."""
        raise RuntimeError("calculator is broken")


@pytest.fixture(scope="module")
def calc() -> Iterator[Calculator]:
    ensure_local_ray()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHIA_TOOL_HOST", "127.0.0.1")
        tool = Calculator("calc")
    yield tool
    tool.stop()


def _tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(m["content"]) for m in body["messages"] if m["role"] == "tool"]


def test_prompt_runs_the_tool_calls_through_mcp(calc: Calculator) -> None:
    script = [
        {"tool_calls": [{"name": "calc_add", "arguments": {"a": 2, "b": 3}}]},
        {"tool_calls": [{"name": "calc_fail", "arguments": {}}]},
        {"content": "the sum is 5"},
    ]
    with openai_server(script) as server:
        llm = make_llm("vllm", "local-model", base_url=server.url, system_message="be brief")
        result = llm.prompt("add 2 and 3", tools=[calc])
        bodies = server.bodies()
    assert result.success and result.result == "the sum is 5", result.stderr
    offered = {t["function"]["name"]: t["function"] for t in bodies[0]["tools"]}
    assert set(offered) == {"calc_add", "calc_fail"}
    assert offered["calc_add"]["description"] == "Add two integers and report which process did it."
    assert offered["calc_add"]["parameters"]["required"] == ["a", "b"]
    added = _tool_results(bodies[1])[0]
    assert added["ok"] is True
    assert json.loads(added["output"])["sum"] == 5
    assert json.loads(added["output"])["pid"] == calc.server_pid
    failed = _tool_results(bodies[2])[1]
    assert failed["ok"] is False and "calculator is broken" in failed["error"]
    assert bodies[0]["messages"][0] == {"role": "system", "content": "be brief"}
    assert '"calc_add"' in result.stream_result


def test_bad_arguments_and_unknown_tools_go_back_to_the_model(calc: Calculator) -> None:
    script = [
        {"tool_calls": [{"name": "calc_add", "arguments": "{not json"}]},
        {"tool_calls": [{"name": "calc_mul", "arguments": {"a": 1}}]},
        {"content": "gave up"},
    ]
    with openai_server(script) as server:
        llm = make_llm("vllm", "m", base_url=server.url)
        result = llm.prompt("go", tools=[calc.url])
        bodies = server.bodies()
    assert result.success and result.result == "gave up"
    assert _tool_results(bodies[1])[0]["ok"] is False
    assert "unknown tool 'calc_mul'" in _tool_results(bodies[2])[1]["error"]


def test_round_limit_and_unreachable_tools_fail_cleanly(calc: Calculator) -> None:
    loop_forever = {
        "default": {"tool_calls": [{"name": "calc_add", "arguments": {"a": 1, "b": 1}}]}
    }
    with openai_server(loop_forever) as server:
        llm = make_llm("vllm", "m", base_url=server.url)
        result = prompt_with_mcp_tools(llm, "", "go", [calc], max_rounds=3)  # type: ignore[arg-type]
        assert len(server.bodies()) == 3
    assert not result.success and "rounds exhausted" in result.stderr
    with openai_server([{"content": "x"}]) as server:
        llm = make_llm("vllm", "m", base_url=server.url)
        dead = llm.prompt("go", tools=["http://127.0.0.1:9/nothing/mcp"])
    assert not dead.success and dead.stderr.startswith("tools:")


def test_only_mcp_tools_are_accepted() -> None:
    assert is_mcp_tool("http://h:1/x/mcp") and not is_mcp_tool(len)
    with openai_server([{"content": "x"}]) as server:
        llm = make_llm("vllm", "m", base_url=server.url)
        with pytest.raises(LLMConfigError, match="not ChiaTools"):
            prompt_with_mcp_tools(llm, "", "go", ["http://h:1/x/mcp", len])  # type: ignore[arg-type]
