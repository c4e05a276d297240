"""The push factory and transport under Academy: token, size limit, a message sent while down.

The contract suites in tests/unit/exchange (identity, liveness, settings) run on push too
(``KINDS`` in their conftest); these are the push-specific behaviours.
"""

from __future__ import annotations

import asyncio
import pickle
import uuid
from typing import Any

import pytest
from academy.exception import MessageTooLargeError
from academy.handle import Handle
from academy.runtime import Runtime

from chia.exchange import agent_id, open_factory, register_agent, runtime_config, user_client
from chia.exchange.push.client import PushExchangeError, PushExchangeFactory
from chia.exchange.push.process import PushServer
from chia.exchange.resilience import ResilientFactory
from chia.exchange.settings import TOKEN_ENV, ExchangeSettings


def test_push_settings_need_a_ws_url_and_are_wrapped() -> None:
    with pytest.raises(ValueError, match="needs a url"):
        ExchangeSettings(kind="push")
    with pytest.raises(ValueError, match="not a ws:// URL"):
        ExchangeSettings(kind="push", url="http://127.0.0.1:1")
    factory = open_factory(ExchangeSettings(kind="push", url="ws://127.0.0.1:1"))
    assert isinstance(factory, ResilientFactory)
    assert isinstance(factory.inner, PushExchangeFactory)
    copy = pickle.loads(pickle.dumps(factory.inner))
    assert copy.url == "ws://127.0.0.1:1"


async def test_a_wrong_token_is_a_clear_final_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "right-token")
    with PushServer() as server:
        monkeypatch.setenv(TOKEN_ENV, "wrong-token")
        refused = r"refused the token: set \$CHIA_EXCHANGE_TOKEN"
        with pytest.raises(PushExchangeError, match=refused):
            async with user_client(open_factory(server.settings())):
                pass
        monkeypatch.setenv(TOKEN_ENV, "right-token")
        async with user_client(open_factory(server.settings())) as client:
            assert (await client.discover("nothing.Here")) == ()


async def test_an_oversized_message_is_refused_with_the_limit(
    push_server: PushServer, echo_agent: Any
) -> None:
    factory = open_factory(push_server.settings())
    run_id = f"t-{uuid.uuid4().hex[:8]}"
    async with user_client(factory) as client:
        await register_agent(client, echo_agent, run_id, "big")
        handle: Handle[Any] = Handle(agent_id(run_id, "big"))
        with pytest.raises(MessageTooLargeError, match="524288"):
            await handle.echo("x" * 600_000)


async def test_a_message_sent_while_the_agent_is_down_reaches_it_after_it_re_registers(
    push_server: PushServer, echo_agent: Any
) -> None:
    factory = open_factory(push_server.settings())
    run_id = f"t-{uuid.uuid4().hex[:8]}"

    def runtime(registration: Any) -> Runtime[Any]:
        return Runtime(
            echo_agent(),
            exchange_factory=factory,
            registration=registration,
            config=runtime_config(),
        )

    async with user_client(factory) as client:
        first = await register_agent(client, echo_agent, run_id, "crux")
        async with runtime(first):
            handle: Handle[Any] = Handle(agent_id(run_id, "crux"))
            assert await handle.echo("up") == "up"
        # Down (mailbox kept): the request waits at the server.
        late = asyncio.ensure_future(handle.echo("sent while down"))
        await asyncio.sleep(0.5)
        assert not late.done()
        again = await register_agent(client, echo_agent, run_id, "crux", check_live=False)
        async with runtime(again):
            assert await asyncio.wait_for(late, 10) == "sent while down"


async def test_an_agent_answers_again_after_the_server_restarts(echo_agent: Any) -> None:
    """A memory server loses its mailboxes on restart; clients re-create their own."""
    from chia.exchange import ping_agent
    from chia.testing import free_port

    port = free_port()
    run_id = f"t-{uuid.uuid4().hex[:8]}"
    first = PushServer(port=port)
    first.start()
    try:
        factory = open_factory(first.settings())
        async with user_client(factory) as client:
            registration = await register_agent(client, echo_agent, run_id, "crux")
            runtime = Runtime(
                echo_agent(),
                exchange_factory=factory,
                registration=registration,
                config=runtime_config(),
            )
            async with runtime:
                assert await ping_agent(client, registration.agent_id, timeout_s=5) is not None
                first.stop()
                with PushServer(port=port):
                    answered = None
                    for _ in range(40):
                        answered = await ping_agent(client, registration.agent_id, timeout_s=0.5)
                        if answered is not None:
                            break
                    assert answered is not None, "the agent never answered after the restart"
    finally:
        first.stop()


async def test_a_client_of_another_protocol_version_gets_both_versions_named(
    push_server: PushServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import chia.exchange.push.client as client_module

    monkeypatch.setattr(client_module, "PROTOCOL_VERSION", 99)
    with pytest.raises(PushExchangeError, match=r"v99, this server speaks v1"):
        async with user_client(open_factory(push_server.settings())):
            pass


async def test_the_size_limit_is_the_servers_configured_one(echo_agent: Any) -> None:
    with PushServer(max_message_bytes=4096) as server:
        factory = open_factory(server.settings())
        run_id = f"t-{uuid.uuid4().hex[:8]}"
        async with user_client(factory) as client:
            await register_agent(client, echo_agent, run_id, "small")
            handle: Handle[Any] = Handle(agent_id(run_id, "small"))
            with pytest.raises(MessageTooLargeError, match="4096"):
                await handle.echo("x" * 5000)
