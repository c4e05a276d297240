from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from chia.base.tools.ChiaTool import ChiaTool
from chia.base.tools.mcp_client import ToolClient, call_tool, run_blocking, tool_urls

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("ray_local")]


class Adder(ChiaTool):
    def setup(self, tool_name: str = "add") -> None:
        self.mcp.add_tool(self.add, name=tool_name)

    def add(self, a: int, b: int) -> int:
        """Add two integers."""
        return a + b


@pytest.fixture(scope="module")
def adders() -> Iterator[tuple[Adder, Adder]]:
    one, two = Adder("one", "add_one"), Adder("two", "add_two")
    yield one, two
    one.stop()
    two.stop()


def test_routes_calls_across_servers(adders: tuple[Adder, Adder]) -> None:
    async def session() -> list[tuple[bool, str]]:
        async with ToolClient(list(adders)) as client:
            assert [t.name for t in client.tools] == ["add_one", "add_two"]
            assert client.tools[0].url == adders[0].url
            return [
                await client.call("add_one", {"a": 1, "b": 2}),
                await client.call("add_two", {"a": 3, "b": 4}),
                await client.call("nope", {}),
                await client.call("add_one", {"a": "x"}),
            ]

    results = run_blocking(session())
    assert results[:3] == [(True, "3"), (True, "7"), (False, "unknown tool 'nope'")]
    assert results[3][0] is False and "a" in results[3][1]


def test_duplicate_tool_names_are_refused(adders: tuple[Adder, Adder]) -> None:
    async def session() -> None:
        async with ToolClient([adders[0], adders[0].url]):
            pass

    with pytest.raises(ValueError, match="add_one"):
        run_blocking(session())


async def test_blocking_call_from_inside_an_event_loop(adders: tuple[Adder, Adder]) -> None:
    asyncio.get_running_loop()
    assert call_tool(adders[1], "add_two", {"a": 2, "b": 2}) == 4


def test_urls_are_resolved_for_relayed_nodes(
    adders: tuple[Adder, Adder], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHIA_TOOL_ADVERTISE_HOST", "127.0.0.1")
    monkeypatch.setenv("CHIA_TOOL_RELAY_HOST", "localhost")
    assert tool_urls([adders[0]]) == [f"http://localhost:{adders[0].port}/one/mcp"]
    assert call_tool(adders[0], "add_one", {"a": 5, "b": 5}) == 10
