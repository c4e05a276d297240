"""Two MCP apps mounted under one ingress need make_router_lifespan to serve at all."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from chia.base.tools._mcp import ToolMCP
from chia.base.tools._server import BackgroundServer, bind_free_port
from chia.base.tools.mcp_client import call_tool
from chia.base.tools.util import make_router_lifespan

pytestmark = pytest.mark.timeout(60)


def _servers() -> tuple[ToolMCP, ToolMCP]:
    gem5, chia = ToolMCP("gem5"), ToolMCP("chia")
    gem5.add_tool(lambda: "gem5 here", name="whoami")
    chia.add_tool(lambda x: x + 1, name="inc")
    return gem5, chia


def _serve(app: Starlette) -> BackgroundServer:
    server = BackgroundServer(app, bind_free_port("127.0.0.1", 21000, 2000))
    server.start()
    return server


def test_mounted_apps_serve_with_the_router_lifespan() -> None:
    gem5, chia = _servers()
    mounts = [Mount("/gem5", gem5.http_app(path="/mcp")), Mount("/chia", chia.http_app("/mcp"))]
    server = _serve(Starlette(routes=mounts, lifespan=make_router_lifespan([gem5, chia])))
    base = f"http://127.0.0.1:{server.port}"
    try:
        assert call_tool(f"{base}/gem5/mcp", "whoami") == "gem5 here"
        assert call_tool(f"{base}/chia/mcp", "inc", {"x": 1}) == 2
    finally:
        server.stop()


def test_without_the_lifespan_the_mounted_app_fails() -> None:
    gem5, _ = _servers()
    server = _serve(Starlette(routes=[Mount("/gem5", gem5.http_app(path="/mcp"))]))
    try:
        with pytest.raises(Exception):  # noqa: B017 - any transport failure will do
            call_tool(f"http://127.0.0.1:{server.port}/gem5/mcp", "whoami", timeout_s=5)
    finally:
        server.stop()


def test_unknown_instance_is_rejected() -> None:
    with pytest.raises(TypeError, match="http_app"):
        make_router_lifespan([object()])
