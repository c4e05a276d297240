from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from academy.exception import AcademyRemoteError, DeserializationMethodProhibitedError
from academy.exchange import ExchangeFactory, LocalExchangeFactory
from academy.handle import Handle
from academy.runtime import Runtime, RuntimeConfig
from academy.serialize import SerializationStrategy, allowed_deserializers, default_serializer

from chia.exchange import agent_id, json_only, register_agent, runtime_config, user_client

RunAgent = Callable[..., contextlib.AbstractAsyncContextManager[Runtime[Any]]]
JSON, PICKLE = SerializationStrategy.JSON, SerializationStrategy.PICKLE


class Payload:
    """Unpickling this creates a file: proof that a pickle payload ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return (os.mkdir, (str(self.marker),))


def test_runtime_config_is_json_only_and_never_terminates() -> None:
    config = runtime_config(max_sync_concurrency=2)
    assert config.default_serializer == JSON
    assert config.allowed_deserializers == {JSON}
    assert not config.terminate_on_success
    assert not config.terminate_on_error
    assert config.max_sync_concurrency == 2
    with pytest.raises(ValueError, match="fixed to JSON"):
        runtime_config(allowed_deserializers={PICKLE})


async def test_json_only_sets_and_restores_the_context() -> None:
    assert default_serializer.get() == PICKLE
    with json_only():
        assert default_serializer.get() == JSON
        assert allowed_deserializers.get() == {JSON}
    assert default_serializer.get() == PICKLE


def skip_local(factory: ExchangeFactory[Any]) -> None:
    if isinstance(factory, LocalExchangeFactory):
        pytest.skip("the local exchange hands objects over in-process: nothing is deserialized")


async def test_agent_refuses_a_pickled_request_without_running_it(
    factory: ExchangeFactory[Any], run_agent: RunAgent, run_id: str, tmp_path: Path
) -> None:
    skip_local(factory)
    marker = tmp_path / "pwned"
    async with user_client(factory) as client, run_agent(client, run_id, "a"):
        # A hostile caller picks pickle for its request (errors come back as JSON).
        hostile: Handle[Any] = Handle(
            agent_id(run_id, "a"), request_serializer=PICKLE, exception_serializer=JSON
        )
        with pytest.raises(AcademyRemoteError, match="DeserializationMethodProhibited"):
            await hostile.echo(Payload(marker))
        # A JSON request on the same agent works.
        assert await Handle(agent_id(run_id, "a")).echo([1, "two"]) == [1, "two"]
    assert not marker.exists()


async def test_user_refuses_a_pickled_result(
    factory: ExchangeFactory[Any], run_id: str, echo_agent: Any
) -> None:
    skip_local(factory)
    async with user_client(factory) as client:
        registration = await register_agent(client, echo_agent, run_id, "lax")
        # An agent that would answer in pickle if asked (Academy's default config).
        runtime = Runtime(
            echo_agent(),
            exchange_factory=factory,
            registration=registration,
            config=RuntimeConfig(terminate_on_success=False),
        )
        async with runtime:
            asks_pickle: Handle[Any] = Handle(registration.agent_id, result_serializer=PICKLE)
            with pytest.raises(DeserializationMethodProhibitedError):
                await asks_pickle.echo("x")
