"""Timing an agent's recovery (for ``benchmarks/recovery.py``): pings until one is answered.

:func:`time_to_answer` times a fault (a SIGKILL, a process start) to the first ping that
the agent's running Runtime answers; :func:`cold_start` is the floor it is compared with:
a new process that imports chia's host module, registers a bare Academy agent under a
preset uid and starts its Runtime, with no supervision and no journal.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chia.exchange.client import user_client
from chia.exchange.identity import agent_id
from chia.exchange.liveness import ping_agent
from chia.exchange.settings import ExchangeSettings, open_factory

__all__ = ["COLD_AGENT", "PING_EVERY_S", "PING_TIMEOUT_S", "cold_start", "time_to_answer"]

#: A new ping goes out this often while the agent is down: the figures' resolution.
PING_EVERY_S = 0.05
#: How long each ping waits for its answer.
PING_TIMEOUT_S = 1.0
#: Only keeps a broken run from hanging; never a measured limit.
HANG_S = 120.0

#: The floor's process: the host's imports, then a bare agent registered and running.
COLD_AGENT = """
import asyncio, sys
import chia.site.host  # noqa: F401  (the import graph every host process pays for)
from academy.agent import Agent
from academy.runtime import Runtime
from chia.exchange import ExchangeSettings, open_factory, register_agent, runtime_config
from chia.exchange import user_client

class Floor(Agent):
    pass

async def main(url, run_id):
    factory = open_factory(ExchangeSettings(kind="http", url=url))
    async with user_client(factory, name="floor") as client:
        registration = await register_agent(client, Floor, run_id, "floor")
    runtime = Runtime(Floor(), exchange_factory=factory, registration=registration,
                      config=runtime_config())
    async with runtime:
        await asyncio.sleep(3600)  # answers pings until it is killed

asyncio.run(main(*sys.argv[1:]))
"""


async def time_to_answer(
    settings: ExchangeSettings,
    run_id: str,
    agent: str,
    fault: Callable[[], object],
    alive: Callable[[], bool],
) -> float:
    """Seconds from ``fault()`` until a ping to ``agent`` of ``run_id`` is first answered.

    The user client is open before the clock starts (its first use costs a process most
    of a second of lazy imports, which is not the agent's recovery). A new ping goes out
    every ``PING_EVERY_S`` while earlier ones still wait, so a slow or lost ping (one sent
    to a dead incarnation's mailbox) never delays the figure.

    Args:
        settings: The exchange the agent is on.
        run_id: The agent's run id.
        agent: The agent's name (its uid follows from both).
        fault: Called once the clock runs: kills the agent or starts its process.
        alive: False once the process that should answer (or its supervisor) exited,
            which ends the wait.

    Raises:
        TimeoutError: If no ping was answered before ``alive()`` turned False, or
            within ``HANG_S``.
    """
    aid = agent_id(run_id, agent)
    answered: list[float] = []
    done = asyncio.Event()

    async def ping(client: Any) -> None:
        if await ping_agent(client, aid, timeout_s=PING_TIMEOUT_S) is not None:
            answered.append(time.monotonic())
            done.set()

    async with user_client(open_factory(settings), name="recovery-timer") as client:
        pings: list[asyncio.Task[None]] = []
        since = time.monotonic()
        fault()
        try:
            while not done.is_set():
                if not alive():
                    raise TimeoutError(f"{agent} never answered a ping: its process exited")
                if time.monotonic() - since > HANG_S:
                    raise TimeoutError(f"{agent} never answered a ping within {HANG_S:g} s")
                pings.append(asyncio.create_task(ping(client)))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), PING_EVERY_S)
        except BaseException:
            for task in pings:
                task.cancel()
            raise
        finally:
            # Pings still out end within PING_TIMEOUT_S: let them, rather than cancel
            # their requests (Academy logs each cancelled request with a traceback).
            await asyncio.gather(*pings, return_exceptions=True)
    return min(answered) - since


def cold_start(settings: ExchangeSettings, log: Path) -> float:
    """One cold start of a bare agent process: seconds from ``Popen`` to its first answer.

    Args:
        settings: An HTTP exchange (``settings.url``) the agent registers on.
        log: Where the process's stderr goes (quoted if it fails).

    Raises:
        RuntimeError: If it never answered (its output is in the message).
    """
    run_id = f"floor-{uuid.uuid4().hex[:8]}"
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        argv = [sys.executable, "-c", COLD_AGENT, str(settings.url), run_id]
        with log.open("wb") as out:
            procs.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL, stderr=out))

    def alive() -> bool:
        return all(proc.poll() is None for proc in procs)

    try:
        return asyncio.run(time_to_answer(settings, run_id, "floor", start, alive))
    except TimeoutError as exc:
        raise RuntimeError(f"{exc}; its output:\n{log.read_text()}") from exc
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
