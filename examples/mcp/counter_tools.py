"""A small MCP tool server for the counter game, on FastMCP (stdio by default).

Run it by hand with ``python examples/mcp/counter_tools.py`` (stdio) or
``python examples/mcp/counter_tools.py --http 8765`` (streamable HTTP on loopback).
The ``federated-chat-mcp`` campaign starts it per agent and lets the model call
``counter.increment`` to compute the next counter.
"""

from __future__ import annotations

import argparse

from fastmcp import FastMCP

mcp = FastMCP("counter")


@mcp.tool
def increment(value: int, step: int = 1) -> int:
    """Return value + step: the next counter in the counter game."""
    return value + step


@mcp.tool
def reached(value: int, target: int) -> bool:
    """Return True when the counter has reached the target."""
    return value >= target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--http", type=int, metavar="PORT", help="Serve HTTP on this port.")
    args = parser.parse_args()
    if args.http is None:
        mcp.run(show_banner=False)
    else:
        mcp.run(transport="http", host="127.0.0.1", port=args.http, show_banner=False)


if __name__ == "__main__":
    main()
