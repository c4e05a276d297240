from __future__ import annotations

from typing import Any

import pytest
from academy.exchange import (
    HttpExchangeFactory,
    HybridExchangeFactory,
    LocalExchangeFactory,
    RedisExchangeFactory,
)
from academy.exchange.mailbox_status import MailboxStatus
from pydantic import ValidationError

from chia.errors import ChiaUsageError
from chia.exchange import ExchangeSettings, agent_id, open_factory, register_agent, user_client
from chia.exchange.resilience import ResilientFactory
from chia.exchange.settings import HOSTED_EXCHANGE_URL, TOKEN_ENV, parse_redis_url


def _academy(factory: Any) -> Any:
    """The Academy factory inside chia's reconnecting wrapper (local is not wrapped)."""
    assert isinstance(factory, ResilientFactory)
    return factory.inner


def test_each_kind_builds_its_academy_factory() -> None:
    assert isinstance(open_factory(ExchangeSettings(kind="local")), LocalExchangeFactory)
    redis = _academy(open_factory(ExchangeSettings(kind="redis")))
    assert isinstance(redis, RedisExchangeFactory)
    hybrid = _academy(open_factory(ExchangeSettings(kind="hybrid")))
    assert isinstance(hybrid, HybridExchangeFactory)
    http = _academy(open_factory(ExchangeSettings(kind="http", url="http://127.0.0.1:1")))
    assert isinstance(http, HttpExchangeFactory)


def test_redis_clients_are_safe_for_redis_py_7() -> None:
    factory = _academy(open_factory(ExchangeSettings(kind="redis", redis_port=7000, redis_db=5)))
    assert isinstance(factory, RedisExchangeFactory)
    kwargs = factory.redis_info.kwargs
    assert kwargs["socket_timeout"] is None
    assert kwargs["max_connections"] >= 1000
    assert kwargs["db"] == 5
    assert factory.redis_info.port == 7000


def test_http_needs_a_url_and_refuses_the_hosted_exchange() -> None:
    with pytest.raises(ValidationError, match="needs a url"):
        ExchangeSettings(kind="http")
    with pytest.raises(ValidationError, match="not an http"):
        ExchangeSettings(kind="http", url="redis://x")
    with pytest.raises(ChiaUsageError, match="Globus"):
        open_factory(ExchangeSettings(kind="http", url=HOSTED_EXCHANGE_URL))


def test_token_comes_from_the_environment_not_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = ExchangeSettings(kind="http", url="http://127.0.0.1:1")
    monkeypatch.setenv(TOKEN_ENV, "s3cret")
    factory = _academy(open_factory(settings))
    assert isinstance(factory, HttpExchangeFactory)
    assert factory._info.additional_headers["Authorization"] == "Bearer s3cret"
    assert "s3cret" not in settings.model_dump_json()


def test_redis_url_parsing() -> None:
    assert parse_redis_url("redis://h:7001/4") == ("h", 7001, 4)
    assert parse_redis_url("redis://h") == ("h", 6379, 0)
    settings = ExchangeSettings.from_redis_url("redis", "redis://127.0.0.1:7002/2")
    assert (settings.redis_port, settings.redis_db) == (7002, 2)
    with pytest.raises(ChiaUsageError, match="bad redis url"):
        parse_redis_url("http://h:1/x")


@pytest.mark.parametrize("kind", ["redis", "hybrid"])
async def test_runs_on_one_redis_are_isolated_by_db(kind: Any, redis: Any, run_id: str) -> None:
    extra = {"hybrid_interface": "lo"} if kind == "hybrid" else {}
    one = open_factory(ExchangeSettings(kind=kind, redis_port=redis.port, redis_db=6, **extra))
    two = open_factory(ExchangeSettings(kind=kind, redis_port=redis.port, redis_db=7, **extra))
    async with user_client(one) as client_one:
        await register_agent(client_one, _Agent(), run_id, "a")
        assert await client_one.status(agent_id(run_id, "a")) != MailboxStatus.MISSING
    async with user_client(two) as client_two:
        assert await client_two.status(agent_id(run_id, "a")) == MailboxStatus.MISSING


def _Agent() -> Any:
    from academy.agent import Agent

    return Agent
