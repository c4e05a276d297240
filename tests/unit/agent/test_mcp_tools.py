"""McpToolbox against the example server over stdio (a real subprocess)."""

import pytest
from tests.conftest import REPO_ROOT

from chia.agent.mcp_tools import McpToolbox, allowed, model_tool_name
from chia.campaign.model import AgentSpec, McpServerSpec
from chia.errors import ChiaUsageError

SERVER = McpServerSpec(
    name="counter", command="python", args=[str(REPO_ROOT / "examples/mcp/counter_tools.py")]
)


def _agent(tools, servers=("counter",)):
    return AgentSpec(name="a", role="r", mission="m", mcp_servers=list(servers),
                     allowed_tools=list(tools))  # fmt: skip


def test_names_and_patterns():
    assert model_tool_name("my.server", "do-it") == "my_server__do-it"
    assert allowed("s", "t", ["s.t"]) and allowed("s", "x", ["s.*"]) and not allowed("s", "t", [])


def test_servers_without_allowed_tools_are_not_started():
    assert McpToolbox([SERVER], _agent([])).servers == []
    assert McpToolbox([SERVER], _agent(["counter.*"])).servers == ["counter"]


async def test_stdio_server_tools_filtered_called_and_stopped():
    box = McpToolbox([SERVER], _agent(["counter.*"]))
    await box.start()
    try:
        assert sorted(s.name for s in box.specs) == ["counter__increment", "counter__reached"]
        assert (
            box.owns("counter__increment")
            and box.qualified("counter__reached") == "counter.reached"
        )
        assert await box.call("counter__increment", {"value": 2, "step": 3}) == (True, "5")
        ok, text = await box.call("counter__increment", {"value": "two"})
        assert not ok and "valid integer" in text
    finally:
        await box.close()
    assert box.specs == [] and not box.owns("counter__increment")


async def test_a_server_that_cannot_start_is_a_usage_error():
    broken = McpServerSpec(name="counter", command="/nonexistent/mcp-server")
    box = McpToolbox([broken], _agent(["counter.*"]), timeout_s=5)
    with pytest.raises(ChiaUsageError, match="MCP server 'counter' could not be started"):
        await box.start()
