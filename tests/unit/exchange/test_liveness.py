from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from academy.exchange import ExchangeFactory
from academy.runtime import Runtime

from chia.errors import PeerTimeoutError
from chia.exchange import (
    ExchangeSettings,
    agent_id,
    agent_uid,
    open_factory,
    ping_agent,
    register_agent,
    user_client,
    wait_for_peers,
)

RunAgent = Callable[..., contextlib.AbstractAsyncContextManager[Runtime[Any]]]
FAST = {"poll_s": 0.1, "ping_timeout_s": 0.3}


async def test_running_peers_are_up_and_reported(
    factory: ExchangeFactory[Any], run_agent: RunAgent, run_id: str
) -> None:
    seen: list[str] = []
    async with (
        user_client(factory) as client,
        run_agent(client, run_id, "a"),
        run_agent(client, run_id, "b"),
    ):
        peers = {name: agent_id(run_id, name) for name in ("a", "b")}
        rtts = await wait_for_peers(client, peers, timeout_s=10, on_up=seen.append, **FAST)
    assert sorted(rtts) == ["a", "b"]
    assert all(rtt > 0 for rtt in rtts.values())
    assert sorted(seen) == ["a", "b"]


async def test_stale_mailbox_does_not_pass(
    factory: ExchangeFactory[Any], run_agent: RunAgent, run_id: str
) -> None:
    async with user_client(factory) as client:
        async with run_agent(client, run_id, "a"):
            pass  # stopped without terminating: the mailbox and heartbeat stay behind
        with pytest.raises(PeerTimeoutError) as info:
            await wait_for_peers(client, {"a": agent_id(run_id, "a")}, timeout_s=1.5, **FAST)
    assert str(agent_uid(run_id, "a")) in str(info.value)
    assert "no running agent answered" in str(info.value)


async def test_registered_but_never_started_does_not_pass(
    factory: ExchangeFactory[Any], run_id: str, echo_agent: Any
) -> None:
    async with user_client(factory) as client:
        await register_agent(client, echo_agent, run_id, "a")
        assert await ping_agent(client, agent_id(run_id, "a"), timeout_s=0.3) is None
        with pytest.raises(PeerTimeoutError):
            await wait_for_peers(client, {"a": agent_id(run_id, "a")}, timeout_s=1, **FAST)


async def test_timeout_names_every_missing_peer_and_its_uid(
    factory: ExchangeFactory[Any], run_agent: RunAgent, run_id: str
) -> None:
    peers = {name: agent_id(run_id, name) for name in ("up", "gone1", "gone2")}
    async with user_client(factory) as client, run_agent(client, run_id, "up"):
        with pytest.raises(PeerTimeoutError) as info:
            await wait_for_peers(client, peers, timeout_s=1, **FAST)
    message = str(info.value)
    for name in ("gone1", "gone2"):
        assert f"{name} (uid {agent_uid(run_id, name)})" in message
    assert "up (uid" not in message
    assert "2 of 3 peer(s)" in message
    assert "not registered" in message
    assert info.value.exit_code == 2
    assert set(info.value.missing) == {"gone1", "gone2"} and info.value.timeout_s == 1
    assert "not registered" in info.value.missing["gone1"]


async def test_peer_that_starts_late_is_seen(
    factory: ExchangeFactory[Any], run_agent: RunAgent, run_id: str
) -> None:
    async def start_later(client: Any) -> None:
        await asyncio.sleep(0.5)
        async with run_agent(client, run_id, "late"):
            await asyncio.sleep(2)

    async with user_client(factory) as client:
        starter = asyncio.create_task(start_later(client))
        await wait_for_peers(client, {"late": agent_id(run_id, "late")}, timeout_s=10, **FAST)
        assert not starter.done()  # seen while it was up, not after a timeout
        starter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starter


AGENT_PROCESS = textwrap.dedent(
    """
    import asyncio, sys
    from academy.agent import Agent, action
    from academy.runtime import Runtime
    from chia.exchange import ExchangeSettings, open_factory, register_agent
    from chia.exchange import runtime_config, user_client

    class Peer(Agent):
        @action
        async def echo(self, value):
            "Return value."
            return value

    async def main(settings_json, run_id, name):
        factory = open_factory(ExchangeSettings.model_validate_json(settings_json))
        async with user_client(factory) as client:
            registration = await register_agent(client, Peer, run_id, name)
        runtime = Runtime(Peer(), exchange_factory=factory, registration=registration,
                          config=runtime_config())
        async with runtime:
            print("ready", flush=True)
            await asyncio.Event().wait()

    asyncio.run(main(*sys.argv[1:]))
    """
)


async def _start_peer(
    script: Path, settings: ExchangeSettings, run_id: str
) -> subprocess.Popen[bytes]:
    argv = [sys.executable, str(script), settings.model_dump_json(), run_id, "peer"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    assert proc.stdout is not None
    line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), timeout=30)
    assert line.strip() == b"ready"
    return proc


async def test_killed_process_leaves_a_mailbox_that_does_not_pass_until_restart(
    remote_settings: ExchangeSettings, run_id: str, tmp_path: Path
) -> None:
    script = tmp_path / "peer.py"
    script.write_text(AGENT_PROCESS)
    peers = {"peer": agent_id(run_id, "peer")}
    procs = []
    try:
        procs.append(await _start_peer(script, remote_settings, run_id))
        async with user_client(open_factory(remote_settings)) as client:
            await wait_for_peers(client, peers, timeout_s=10, **FAST)
            procs[0].send_signal(signal.SIGKILL)
            procs[0].wait(timeout=10)
            with pytest.raises(PeerTimeoutError, match="peer"):
                await wait_for_peers(client, peers, timeout_s=1.5, **FAST)
            # The crashed run is restarted under the same run id: the same client sees it.
            procs.append(await _start_peer(script, remote_settings, run_id))
            await wait_for_peers(client, peers, timeout_s=10, **FAST)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
