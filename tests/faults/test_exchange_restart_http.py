"""The fault-flood campaign while its self-hosted HTTP exchange (redis backend) restarts.

Two sites (local launcher) run the 1,000-message fault-flood campaign over
``ExchangeServer(backend="redis")`` on a fixed port, over an AOF redis-server. Mid-
campaign either the exchange server is SIGKILLed and started again on the same port
after 3 s, or its redis-server is (the server stays up and holds requests). The campaign
must complete with its exact result, nothing lost and nothing decided twice.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from chia.exchange.server import ExchangeServer
from chia.testing import RedisServer, free_port

from .test_exchange_restart_redis import DOWN_S, aof_redis, run_flood_with_restart

__all__ = ["aof_redis"]  # the fixture, shared with the redis scenario


@pytest.fixture
def server(aof_redis: RedisServer, no_leftovers) -> Iterator[ExchangeServer]:
    """A self-hosted HTTP exchange on a fixed free port, over the AOF redis-server."""
    with ExchangeServer(backend="redis", redis_url=aof_redis.url(1), port=free_port()) as srv:
        port = urlsplit(srv.url).port
        assert port is not None
        no_leftovers.watch_port(port)
        yield srv


@pytest.mark.parametrize("what", ["exchange server", "its redis-server"])
def test_flood_survives_an_http_exchange_restart(sites, server, aof_redis, fault_table, what):
    url = server.url

    def restart() -> None:
        if what == "exchange server":
            assert server.pid is not None
            with contextlib.suppress(ProcessLookupError):
                os.kill(server.pid, signal.SIGKILL)
            server.stop()
            time.sleep(DOWN_S)
            assert server.start() == url  # the same port
        else:
            aof_redis.restart(signal.SIGKILL, DOWN_S)

    run_flood_with_restart(
        sites,
        fault_table,
        run_id=f"flood-http-restart-{'server' if what == 'exchange server' else 'redis'}",
        exchange_args=["--exchange", "http", "--exchange-url", url],
        exchange="http (redis backend, AOF)",
        scenario=f"{what} SIGKILL + restart",
        restart=restart,
    )
