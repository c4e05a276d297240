from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from academy.exchange import ExchangeFactory
from academy.handle import Handle
from academy.identifier import AgentId
from academy.runtime import Runtime

from chia.errors import ChiaUsageError
from chia.exchange import CHIA_NS, agent_id, agent_uid, register_agent, user_client

RunAgent = Callable[..., contextlib.AbstractAsyncContextManager[Runtime[Any]]]


def test_namespace_is_fixed_and_documented() -> None:
    assert uuid.UUID("e74768ec-4a1d-5873-b92d-3dfe6c1f2004") == CHIA_NS
    assert uuid.uuid5(uuid.NAMESPACE_URL, "https://chia.invalid/agent-uid/v1") == CHIA_NS


def test_agent_uid_is_uuid5_of_run_and_agent() -> None:
    assert agent_uid("run1", "alice") == uuid.uuid5(CHIA_NS, "run1/alice")
    assert agent_uid("run1", "alice") != agent_uid("run2", "alice")
    aid = agent_id("run1", "alice")
    assert aid.uid == agent_uid("run1", "alice")
    assert aid.name == "alice"


@pytest.mark.parametrize(("run_id", "agent"), [("bad run", "a"), ("r", "a/b"), ("", "a")])
def test_bad_names_are_rejected(run_id: str, agent: str) -> None:
    with pytest.raises(ChiaUsageError, match="invalid"):
        agent_uid(run_id, agent)


async def test_preset_uid_registration_and_round_trip(
    factory: ExchangeFactory[Any], run_agent: RunAgent, run_id: str
) -> None:
    async with user_client(factory) as client, run_agent(client, run_id, "alice") as runtime:
        assert runtime.agent_id.uid == agent_uid(run_id, "alice")
        # A peer that only knows the run id and the name reaches it.
        handle: Handle[Any] = Handle(agent_id(run_id, "alice"))
        assert await handle.echo({"n": 1, "items": ["x", 2]}) == {"n": 1, "items": ["x", 2]}


async def test_seam_leaves_random_ids_alone(
    factory: ExchangeFactory[Any], run_id: str, echo_agent: Any
) -> None:
    async with user_client(factory) as client:
        await register_agent(client, echo_agent, run_id, "preset")
        plain = await client.register_agent(echo_agent, name="plain")
    assert plain.agent_id.uid.version == 4
    assert AgentId.new().uid.version == 4


async def test_duplicate_live_uid_fails_fast(
    factory: ExchangeFactory[Any], run_agent: RunAgent, run_id: str, echo_agent: Any
) -> None:
    async with user_client(factory) as client, run_agent(client, run_id, "alice"):
        with pytest.raises(ChiaUsageError) as info:
            await register_agent(client, echo_agent, run_id, "alice")
    message = str(info.value)
    assert run_id in message
    assert "'alice'" in message
    assert "another run with the same run id is active?" in message


async def test_stale_uid_can_be_registered_again_and_restarted(
    factory: ExchangeFactory[Any], run_agent: RunAgent, run_id: str
) -> None:
    async with user_client(factory) as client:
        async with run_agent(client, run_id, "alice"):
            pass  # stopped without terminating the mailbox, like a crashed run
        async with run_agent(client, run_id, "alice"):
            assert await Handle(agent_id(run_id, "alice")).echo("again") == "again"


async def test_terminated_uid_is_refused_with_a_clear_message(
    factory: ExchangeFactory[Any], run_id: str, echo_agent: Any
) -> None:
    async with user_client(factory) as client:
        registration = await register_agent(client, echo_agent, run_id, "gone")
        await client.terminate(registration.agent_id)
        with pytest.raises(ChiaUsageError, match="terminated mailbox"):
            await register_agent(client, echo_agent, run_id, "gone")
