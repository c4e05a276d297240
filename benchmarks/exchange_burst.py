"""An all-to-all burst among many agents on the push exchange: messages per second, 0 lost.

Two host processes (two "sites") each run half of the agents, one Academy ``Runtime``
each, registered under chia's deterministic uids, JSON-only, on one self-hosted push
server. Then every agent sends its share of the messages to random peers (half of them,
on average, in the other process), a few in flight per agent at a time; each message is
an action the recipient counts and acknowledges. Printed: agents, messages, seconds,
msgs/s, and lost (sent minus counted by their recipients; a send that got no answer within
its timeout counts as lost too).

    .venv/bin/python benchmarks/exchange_burst.py [--agents 1000] [--messages 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from academy.agent import Agent, action
from academy.handle import Handle
from academy.runtime import Runtime

from chia.exchange import (
    ExchangeSettings,
    agent_id,
    json_only,
    open_factory,
    register_agent,
    runtime_config,
    user_client,
)
from chia.exchange.push.process import PushServer

RUN_ID = "burst"
SEND_TIMEOUT_S = 120.0


class Burst(Agent):
    """Counts what it is sent; sends its share of the burst when told to."""

    def __init__(self) -> None:
        super().__init__()
        self.received = 0

    @action
    async def take(self, n: int) -> int:
        """One message of the burst: counted and acknowledged."""
        self.received += 1
        return n

    @action
    async def received_count(self) -> int:
        """How many messages of the burst reached this agent."""
        return self.received

    @action
    async def fire(self, peers: list[str], count: int, in_flight: int) -> int:
        """Send ``count`` messages to random ``peers``; return how many were acknowledged."""
        handles: list[Handle[Burst]] = [Handle(agent_id(RUN_ID, p)) for p in peers]
        rng = random.Random(hash(self.agent_id.uid))
        acked = 0
        remaining = count

        async def sender() -> None:
            nonlocal acked, remaining
            while remaining > 0:
                remaining -= 1
                handle = handles[rng.randrange(len(handles))]
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(handle.take(1), SEND_TIMEOUT_S)
                    acked += 1

        await asyncio.gather(*(sender() for _ in range(in_flight)))
        return acked


async def host(settings: ExchangeSettings, names: list[str], ready: Path) -> None:
    """Run ``names`` as agents in this process until SIGTERM."""
    factory = open_factory(settings)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with user_client(factory) as client, contextlib.AsyncExitStack() as stack:
        for name in names:
            registration = await register_agent(client, Burst, RUN_ID, name, check_live=False)
            runtime = Runtime(
                Burst(),
                exchange_factory=factory,
                registration=registration,
                config=runtime_config(),
            )
            await stack.enter_async_context(runtime)
        ready.write_text("ready")
        await stop.wait()


async def burst(
    settings: ExchangeSettings, names: list[str], messages: int, in_flight: int
) -> dict[str, Any]:
    """Tell every agent to send its share; count what arrived."""
    factory = open_factory(settings)
    share, extra = divmod(messages, len(names))
    with json_only():
        async with user_client(factory) as client:
            handles: dict[str, Handle[Burst]] = {
                n: Handle(agent_id(RUN_ID, n), exchange=client, ignore_context=True) for n in names
            }
            for handle in handles.values():  # every runtime answers before the clock starts
                await handle.ping(timeout=60)
            started = time.perf_counter()
            acked = await asyncio.gather(
                *(
                    handles[n].fire([p for p in names if p != n], share + (i < extra), in_flight)
                    for i, n in enumerate(names)
                )
            )
            seconds = time.perf_counter() - started
            received = await asyncio.gather(*(h.received_count() for h in handles.values()))
    return {
        "agents": len(names),
        "messages": messages,
        "seconds": seconds,
        "acked": sum(acked),
        "received": sum(received),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--in-flight", type=int, default=2, help="Sends in flight per agent.")
    parser.add_argument("--host", nargs=3, metavar=("SETTINGS", "NAMES", "READY"))
    args = parser.parse_args()
    if args.host:
        settings = ExchangeSettings.model_validate_json(args.host[0])
        asyncio.run(host(settings, args.host[1].split(","), Path(args.host[2])))
        return
    names = [f"{site}-{i:04d}" for site in ("east", "west") for i in range(args.agents // 2)]
    with tempfile.TemporaryDirectory(prefix="chia-burst-") as tmp, PushServer() as server:
        settings = server.settings()
        halves = [names[: len(names) // 2], names[len(names) // 2 :]]
        procs, readies = [], []
        started = time.perf_counter()
        for i, half in enumerate(halves):
            ready = Path(tmp) / f"ready-{i}"
            argv = [sys.executable, __file__, "--host", settings.model_dump_json(), ",".join(half)]
            procs.append(subprocess.Popen([*argv, str(ready)]))
            readies.append(ready)
        try:
            while not all(r.exists() for r in readies):
                if any(p.poll() is not None for p in procs):
                    raise SystemExit("a host process exited before its agents were up")
                time.sleep(0.2)
            up = time.perf_counter() - started
            result = asyncio.run(burst(settings, names, args.messages, args.in_flight))
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
    lost = result["messages"] - result["received"]
    print(f"push exchange burst: {result['agents']} agents in 2 processes (up in {up:.1f} s)")
    print(f"{'messages':<12} {'seconds':>8} {'msgs/s':>8} {'acked':>8} {'received':>9} {'lost':>6}")
    print(
        f"{result['messages']:<12} {result['seconds']:8.1f} "
        f"{result['messages'] / result['seconds']:8.0f} {result['acked']:8} "
        f"{result['received']:9} {lost:6}"
    )
    print(json.dumps({**result, "lost": lost, "up_s": up}))


if __name__ == "__main__":
    main()
