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


def measure(opts: argparse.Namespace) -> dict[str, dict[str, float]]:
    import ray

    rows: dict[str, dict[str, float]] = {}
    for kind, label in (("raw", "floor"), ("fastmcp", "peer")):
        starts, samples = [], []
        for i in range(opts.starts):
            started = time.perf_counter()
            proc, port = start_server(kind)
            url = f"http://{HOST}:{port}/bare/mcp"
            asyncio.run(first_call_raw(port) if kind == "raw" else first_call_mcp(url))
            starts.append(time.perf_counter() - started)
            if i == 0:
                runner = (
                    raw_calls(port, opts.calls) if kind == "raw" else mcp_calls(url, opts.calls)
                )
                samples = asyncio.run(runner)
            stop_server(proc)
        rows[label] = {"p50": pct(samples, 0.5), "p90": pct(samples, 0.9)}
        rows[label]["start"] = statistics.median(starts)

    os.environ.setdefault("CHIA_TOOL_HOST", HOST)
    started = time.perf_counter()
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray_start = time.perf_counter() - started
    EchoTool = chia_tool_class()
    try:
        starts, samples = [], []
        for i in range(opts.starts):
            started = time.perf_counter()
            tool = EchoTool(f"echo{i}")
            asyncio.run(first_call_mcp(tool.url))
            starts.append(time.perf_counter() - started)
            if i == 0:
                samples = asyncio.run(mcp_calls(tool.url, opts.calls))
            tool.stop()
        rows["chia"] = {"p50": pct(samples, 0.5), "p90": pct(samples, 0.9)}
        rows["chia"]["start"] = statistics.median(starts)
        rows["chia"]["ray_start"] = ray_start
    finally:
        ray.shutdown()
    return rows


def print_table(rows: dict[str, dict[str, float]], opts: argparse.Namespace) -> None:
    print(
        f"\nMCP tool call round trip: {opts.calls} sequential calls; start: median of {opts.starts}"
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
    parser.add_argument("--serve", choices=["raw", "fastmcp"], help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.serve:
        serve(opts.serve)
        return
    print_table(measure(opts), opts)


if __name__ == "__main__":
    main()
