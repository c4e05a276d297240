"""MCP tool calls: round trip through a ChiaTool next to a bare FastMCP server, and start-up.

Prints, side by side in one run (every server on this host, on loopback):
  floor  - a raw JSON POST to a minimal aiohttp server in its own process
           (HTTP + JSON, no MCP), with an aiohttp client;
  peer   - a bare FastMCP streamable-HTTP server under uvicorn in its own process, called
           with a FastMCP client over one session;
  chia   - the same tool on a ChiaTool (FastMCP on a Ray actor, num_cpus=0), same client.
Round trip: p50/p90 of N sequential calls of an `echo` tool after a warm-up. Start-up:
from "start" to "the first tool call answered" (floor/peer: a new process; chia: a new
server actor on an already running Ray, whose own start is reported separately).
Target: chia p50 <= 1.2x peer p50.

Usage: python benchmarks/tool_call.py [--calls 500] [--starts 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from fastmcp import Client

HOST = "127.0.0.1"


# --------------------------------------------------------------------------- servers
def serve(kind: str) -> None:
    """Run a floor or peer server on a free port; print the port; serve until killed."""
    import uvicorn

    from chia.base.tools._server import bind_free_port

    if kind == "raw":
        from aiohttp import web

        async def echo(request: web.Request) -> web.Response:
            return web.json_response({"value": (await request.json())["value"]})

        raw = web.Application()
        raw.router.add_post("/echo", echo)
        sock = bind_free_port(HOST, 20000, 5000)
        print(sock.getsockname()[1], flush=True)
        web.run_app(raw, sock=sock, print=None, access_log=None)
        return
    from fastmcp import FastMCP

    mcp = FastMCP("bare")

    @mcp.tool(name="echo")
    def echo_tool(value: str) -> str:
        """Return the value."""
        return value

    app = mcp.http_app(path="/bare/mcp")
    sock = bind_free_port(HOST, 20000, 5000)
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


def start_server(kind: str) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # uvicorn's shutdown chatter
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


def stop_server(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --------------------------------------------------------------------------- clients
async def timed(call: Callable[[], Awaitable[Any]], n: int) -> list[float]:
    for _ in range(20):
        await call()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def raw_calls(port: int, n: int) -> list[float]:
    url = f"http://{HOST}:{port}/echo"
    async with aiohttp.ClientSession() as session:

        async def call() -> None:
            async with session.post(url, json={"value": "ping"}) as reply:
                assert (await reply.json())["value"] == "ping"

        return await timed(call, n)


async def mcp_calls(url: str, n: int) -> list[float]:
    async with Client(url) as client:

        async def call() -> None:
            result = await client.call_tool("echo", {"value": "ping"})
            assert result.content[0].text == "ping"

        return await timed(call, n)


async def first_call_mcp(url: str) -> None:
    async with Client(url) as client:
        await client.call_tool("echo", {"value": "ping"})


async def first_call_raw(port: int) -> None:
    async with aiohttp.ClientSession() as session:
        await session.post(f"http://{HOST}:{port}/echo", json={"value": "ping"})


# --------------------------------------------------------------------------- chia
def chia_tool_class() -> Any:
    from chia.base.tools.ChiaTool import ChiaTool

    class EchoTool(ChiaTool):
        def setup(self) -> None:
            self.mcp.add_tool(self.echo, name="echo")

        def echo(self, value: str) -> str:
            """Return the value."""
            return value

    return EchoTool


# --------------------------------------------------------------------------- measure
def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def start_times(start_one: Callable[[], Callable[[], None]], n: int) -> list[float]:
    """Start-to-first-call times of ``n`` servers; each is stopped after its first call."""
    times = []
    for _ in range(n):
        started = time.perf_counter()
        stop = start_one()
        times.append(time.perf_counter() - started)
        stop()
    return times


def measure(opts: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Start times, then peer and chia round trips in alternating blocks (same conditions)."""
    import ray

    def start_raw() -> Callable[[], None]:
        proc, port = start_server("raw")
        asyncio.run(first_call_raw(port))
        return lambda: stop_server(proc)

    def start_peer() -> Callable[[], None]:
        proc, port = start_server("fastmcp")
        asyncio.run(first_call_mcp(f"http://{HOST}:{port}/bare/mcp"))
        return lambda: stop_server(proc)

    rows: dict[str, dict[str, float]] = {
        "floor": {"start": statistics.median(start_times(start_raw, opts.starts))},
        "peer": {"start": statistics.median(start_times(start_peer, opts.starts))},
    }
    raw_proc, raw_port = start_server("raw")
    try:
        floor = asyncio.run(raw_calls(raw_port, opts.calls))
    finally:
        stop_server(raw_proc)
    rows["floor"].update(p50=pct(floor, 0.5), p90=pct(floor, 0.9))

    os.environ.setdefault("CHIA_TOOL_HOST", HOST)
    started = time.perf_counter()
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray_start = time.perf_counter() - started
    EchoTool = chia_tool_class()
    peer_proc, peer_port = start_server("fastmcp")
    try:

        def start_chia() -> Callable[[], None]:
            tool = EchoTool(f"echo{time.monotonic_ns()}")
            asyncio.run(first_call_mcp(tool.url))
            return tool.stop

        rows["chia"] = {"start": statistics.median(start_times(start_chia, opts.starts))}
        tool = EchoTool("echo")
        peer_url = f"http://{HOST}:{peer_port}/bare/mcp"
        block = max(1, opts.calls // opts.rounds)
        peer: list[float] = []
        chia: list[float] = []
        for _ in range(opts.rounds):  # alternate, so drift on a shared VM hits both alike
            peer += asyncio.run(mcp_calls(peer_url, block))
            chia += asyncio.run(mcp_calls(tool.url, block))
        tool.stop()
    finally:
        stop_server(peer_proc)
        ray.shutdown()
    rows["peer"].update(p50=pct(peer, 0.5), p90=pct(peer, 0.9))
    rows["chia"].update(p50=pct(chia, 0.5), p90=pct(chia, 0.9), ray_start=ray_start)
    return rows


def print_table(rows: dict[str, dict[str, float]], opts: argparse.Namespace) -> None:
    print(
        f"\nMCP tool call round trip: {opts.calls} sequential calls each, peer and chia in "
        f"{opts.rounds} alternating blocks; start: median of {opts.starts}"
    )
    header = f"{'path':<8}{'p50 ms':>10}{'p90 ms':>10}{'start s':>10}"
    print(header)
    print("-" * len(header))
    for label in ("floor", "peer", "chia"):
        row = rows[label]
        print(f"{label:<8}{row['p50']:>10.2f}{row['p90']:>10.2f}{row['start']:>10.2f}")
    ratio = rows["chia"]["p50"] / rows["peer"]["p50"]
    verdict = "ok" if ratio <= 1.2 else "OVER TARGET"
    print(f"\nchia / peer p50: {ratio:.2f}x (target <= 1.2x: {verdict})")
    print(f"Ray start (once per flow, not in chia start): {rows['chia']['ray_start']:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5, help="Alternating peer/chia blocks.")
    parser.add_argument("--serve", choices=["raw", "fastmcp"], help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.serve:
        serve(opts.serve)
        return
    print_table(measure(opts), opts)


if __name__ == "__main__":
    main()
