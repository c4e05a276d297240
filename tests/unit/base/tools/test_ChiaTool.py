from __future__ import annotations

import os
import socket
from typing import Any

import pytest
import ray

from chia.base.ChiaFunction import ChiaFunction
from chia.base.tools.ChiaTool import ChiaTool, ToolInfo, resolve_tool_url, start_router
from chia.base.tools.mcp_client import ToolClient, call_tool, run_blocking

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("ray_local")]


@ChiaFunction(num_cpus=0.5)
def remote_pid(label: str) -> dict[str, Any]:
    """Report the worker process a remote tool body ran in."""
    return {"label": label, "pid": os.getpid()}


class EchoTool(ChiaTool):
    def setup(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.mcp.add_tool(self.echo, name=f"{self.name}_echo")
        self.mcp.add_tool(self.where, name=f"{self.name}_where")
        self.mcp.add_tool(remote_pid.chia_remote_blocking, name=f"{self.name}_remote_pid")

    def echo(self, text: str) -> str:
        """Return the text with this tool's prefix."""
        return self.prefix + text

    def where(self) -> dict[str, Any]:
        """Report the process serving this tool."""
        return {"pid": os.getpid()}


class InitStyleTool(ChiaTool):
    def __init__(self, name: str, factor: int, task_options: dict[str, Any] | None = None):
        super().__init__(name, task_options=task_options)
        self.factor = factor
        self.mcp.add_tool(self.scale, name=f"{name}_scale")
        super().__post_init__()

    def scale(self, x: int) -> int:
        """Multiply x by the tool's factor."""
        return x * self.factor


class LoudEcho(EchoTool):
    def setup(self, prefix: str = "") -> None:
        super().setup(prefix.upper())


@pytest.fixture(scope="module")
def echo() -> Any:
    tool = EchoTool("echo", prefix="> ")
    yield tool
    tool.stop()


def test_url_info_and_descriptions(echo: EchoTool) -> None:
    assert echo.url == f"http://127.0.0.1:{echo.port}/echo/mcp"
    assert echo.info == ToolInfo("echo", echo.port, echo.node_id)  # type: ignore[arg-type]
    assert echo.node_id == ray.get_runtime_context().get_node_id()

    async def listing() -> dict[str, Any]:
        async with ToolClient([echo]) as client:
            return {t.name: t for t in client.tools}

    tools = run_blocking(listing())
    assert set(tools) == {"echo_echo", "echo_where", "echo_remote_pid"}
    assert tools["echo_echo"].description == "Return the text with this tool's prefix."
    assert tools["echo_echo"].input_schema["required"] == ["text"]
    remote = tools["echo_remote_pid"]
    assert remote.description == "Report the worker process a remote tool body ran in."
    assert list(remote.input_schema["properties"]) == ["label"]


def test_tool_runs_in_the_server_actor(echo: EchoTool) -> None:
    assert call_tool(echo, "echo_echo", {"text": "hi"}) == "> hi"
    served = call_tool(echo, "echo_where")["pid"]
    assert served == echo.server_pid != os.getpid()


def test_chia_remote_blocking_runs_as_its_own_task(echo: EchoTool) -> None:
    out = call_tool(echo, "echo_remote_pid", {"label": "x"})
    assert out["label"] == "x"
    assert out["pid"] not in (os.getpid(), echo.server_pid)


def test_init_style_and_inherited_setup() -> None:
    with InitStyleTool("scaler", 3) as scaler, LoudEcho("loud", prefix="hey ") as loud:
        assert call_tool(scaler, "scaler_scale", {"x": 5}) == 15
        assert call_tool(loud, "loud_echo", {"text": "x"}) == "HEY x"
        assert scaler.port != loud.port


def test_a_tool_error_is_reported(echo: EchoTool) -> None:
    with pytest.raises(RuntimeError, match="echo_echo"):
        call_tool(echo, "echo_echo", {})


def test_ports_in_use_are_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        base = probe.getsockname()[1]
        probe.listen()
        monkeypatch.setenv("CHIA_TOOL_BASE_PORT", str(base))
        with EchoTool("skipper") as tool:
            assert tool.port is not None and base < tool.port < base + 100
            assert call_tool(tool, "skipper_echo", {"text": "ok"}) == "ok"


def test_stop_releases_port_and_kills_actor() -> None:
    tool = EchoTool("stopper")
    port, actor = tool.port, tool._actor
    tool.stop()
    tool.stop()  # idempotent
    assert not tool.running
    with pytest.raises(ray.exceptions.RayActorError):
        ray.get(actor.stop.remote(), timeout=30)
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))  # the port is free again
    with pytest.raises(RuntimeError, match="not serving"):
        _ = tool.url


def test_unplaceable_tool_fails_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(EchoTool, "start_timeout_s", 2.0)
    with pytest.raises(RuntimeError, match="'nowhere'"):
        EchoTool("nowhere", task_options={"resources": {"no_such_resource": 1}})


def test_bad_name_is_rejected() -> None:
    with pytest.raises(ValueError, match="tool name"):
        ChiaTool("bad/name")


def test_start_router_in_this_process() -> None:
    tool = ChiaTool("local")
    tool.mcp.add_tool(lambda a: a * 2, name="double")
    port = start_router(tool, "127.0.0.1", base_port=20000, max_tries=1000)
    try:
        assert call_tool(f"http://127.0.0.1:{port}/local/mcp", "double", {"a": 4}) == 8
    finally:
        assert tool._router is not None
        tool._router.stop()


def test_resolve_tool_url(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "http://10.0.0.5:8001/bash/mcp"
    assert resolve_tool_url(url) == url
    monkeypatch.setenv("CHIA_TOOL_ADVERTISE_HOST", "10.0.0.5")
    assert resolve_tool_url(url) == url  # no relay on this node
    monkeypatch.setenv("CHIA_TOOL_RELAY_HOST", "127.0.0.1")
    assert resolve_tool_url(url) == "http://127.0.0.1:8001/bash/mcp"
    assert resolve_tool_url("http://10.0.0.9:8001/x/mcp") == "http://10.0.0.9:8001/x/mcp"
