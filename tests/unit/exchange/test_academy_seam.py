"""Each assumption chia makes about Academy (chia.exchange.academy_seam), checked on its own.

When one of these fails after an Academy upgrade, the assumption it names no longer
holds: fix the seam function (and its docstring) before anything else.
"""

from __future__ import annotations

import asyncio
import inspect
import uuid
from typing import Any

import academy
import pytest
from academy.agent import Agent, action
from academy.exchange import ExchangeFactory
from academy.exchange.cloud.app import create_app
from academy.exchange.cloud.config import ExchangeServingConfig
from academy.handle import Handle
from academy.identifier import AgentId
from academy.message import Message, SuccessResponse
from academy.runtime import Runtime

from chia.exchange import ExchangeSettings, open_factory, runtime_config, user_client
from chia.exchange.academy_seam import (
    ACADEMY_VERSIONS_CHECKED,
    agent_mro,
    backend_redis_client,
    client_transport,
    create_transport,
    minting_preset_id,
    replace_server_backend,
    server_backend,
)
from chia.testing import RedisServer


class _Base(Agent):
    pass


class _Child(_Base):
    def __init__(self) -> None:
        super().__init__()
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def agent_on_startup(self) -> None:
        self.started.set()
        await self.release.wait()

    @action
    async def hello(self) -> str:
        return "hi"


def test_the_academy_release_is_one_these_assumptions_were_checked_against() -> None:
    assert academy.__version__ in ACADEMY_VERSIONS_CHECKED, (
        f"academy-py {academy.__version__}: re-check every assumption in "
        "chia.exchange.academy_seam, then add the version to ACADEMY_VERSIONS_CHECKED"
    )


@pytest.mark.parametrize("kind", ["local", "redis"])
async def test_1_transports_mint_ids_through_agent_id_new(kind: str, redis: RedisServer) -> None:
    extra: dict[str, Any] = {"redis_port": redis.port, "redis_db": 4} if kind == "redis" else {}
    factory = open_factory(ExchangeSettings(kind=kind, **extra))  # type: ignore[arg-type]
    preset: AgentId[Any] = AgentId(uid=uuid.uuid4(), name="preset")
    async with user_client(factory) as client:
        with minting_preset_id(preset):
            registration = await client.register_agent(_Child, name="ignored")
        plain = await client.register_agent(_Child, name="plain")
    assert registration.agent_id.uid == preset.uid
    assert plain.agent_id.uid != preset.uid  # outside the block Academy mints as before


async def test_1_the_preset_is_task_local() -> None:
    preset: AgentId[Any] = AgentId(uid=uuid.uuid4(), name="preset")
    inside = asyncio.Event()

    async def other_task() -> AgentId[Any]:
        await inside.wait()
        return AgentId.new(name="other")

    task = asyncio.create_task(other_task())
    with minting_preset_id(preset):
        assert AgentId.new(name="x").uid == preset.uid
        inside.set()
        assert (await task).uid != preset.uid


async def test_2_a_client_keeps_its_transport() -> None:
    factory = open_factory(ExchangeSettings(kind="local"))
    async with user_client(factory) as client:
        transport = client_transport(client)
        assert transport is not None
        assert transport.mailbox_id == client.client_id


def test_3_agent_mro_lists_qualified_names_from_the_class_down() -> None:
    mro = agent_mro(_Child)
    assert mro == [f"{__name__}._Child", f"{__name__}._Base", "academy.agent.Agent"]


async def test_4_factories_mint_transports_in_create_transport() -> None:
    params = inspect.signature(ExchangeFactory._create_transport).parameters
    assert list(params)[:2] == ["self", "mailbox_id"]
    assert params["name"].kind is inspect.Parameter.KEYWORD_ONLY
    assert params["registration"].kind is inspect.Parameter.KEYWORD_ONLY
    factory = open_factory(ExchangeSettings(kind="local"))
    transport = await create_transport(factory)
    try:
        assert transport.mailbox_id is not None
    finally:
        await transport.close()


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_5_the_server_keeps_its_backend_under_manager_key(kind: str, redis: RedisServer) -> None:
    backend: dict[str, Any] = {"kind": "python"}
    if kind == "redis":
        backend = {"kind": "redis", "hostname": "127.0.0.1", "port": redis.port}
    app = create_app(ExchangeServingConfig.model_validate({"backend": backend}))
    found = server_backend(app)
    # A MailboxBackend: what HeldBackend wraps, method by method.
    for method in ("check_mailbox", "create_mailbox", "put", "get", "terminate"):
        assert inspect.iscoroutinefunction(getattr(found, method)), method
    client = backend_redis_client(found)
    if kind == "redis":
        assert client is not None and hasattr(client, "set_retry")
    else:
        assert client is None
    replace_server_backend(app, "stand-in")
    assert server_backend(app) == "stand-in"


async def test_6_a_ping_is_answered_only_once_startup_has_finished() -> None:
    factory = open_factory(ExchangeSettings(kind="local"))
    agent = _Child()
    async with user_client(factory) as client:
        registration = await client.register_agent(_Child)
        runtime = Runtime(
            agent, exchange_factory=factory, registration=registration, config=runtime_config()
        )
        handle: Handle[_Child] = Handle(registration.agent_id, exchange=client, ignore_context=True)
        task = asyncio.create_task(runtime.run_until_complete())
        await agent.started.wait()
        with pytest.raises((TimeoutError, asyncio.TimeoutError)):
            await handle.ping(timeout=0.3)
        agent.release.set()
        assert await handle.ping(timeout=10) >= 0
        assert await handle.hello() == "hi"
        await handle.shutdown()
        await asyncio.wait_for(task, 10)


async def test_7_a_second_response_to_one_request_breaks_the_listener() -> None:
    factory = open_factory(ExchangeSettings(kind="local"))
    async with user_client(factory) as client:
        handle: Handle[Any] = Handle(AgentId.new(), exchange=client, ignore_context=True)
        response = Message.create(
            src=handle.agent_id, dest=client.client_id, body=SuccessResponse()
        )
        with pytest.raises(KeyError):
            await handle._process_response(response)
