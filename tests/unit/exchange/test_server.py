from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from academy.exception import UnauthorizedError
from academy.handle import Handle
from academy.runtime import Runtime

from chia.errors import ChiaUsageError
from chia.exchange import (
    ExchangeSettings,
    agent_id,
    open_factory,
    register_agent,
    runtime_config,
    user_client,
)
from chia.exchange.server import ExchangeServer, write_config
from chia.exchange.settings import TOKEN_ENV
from chia.testing import RedisServer, http_exchange

CHIA = str(Path(sys.executable).parent / "chia")


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); look at its state.
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def test_server_binds_loopback_on_a_free_port_and_leaves_nothing_behind() -> None:
    with ExchangeServer() as server:
        assert server.url.startswith("http://127.0.0.1:")
        port = int(server.url.rsplit(":", 1)[1])
        pid = server.pid
        assert pid is not None
        assert not port_is_free(port)
    assert port_is_free(port)
    assert not pid_alive(pid)


def test_config_is_academy_toml_without_auth(tmp_path: Path) -> None:
    text = write_config(tmp_path / "x.toml").read_text()
    assert 'host = "127.0.0.1"' in text
    assert 'kind = "python"' in text
    assert "[auth]" not in text
    redis_text = write_config(
        tmp_path / "y.toml", backend="redis", redis_url="redis://127.0.0.1:7/3"
    ).read_text()
    assert 'kind = "redis"' in redis_text
    assert "db = 3" in redis_text
    with pytest.raises(ChiaUsageError, match="redis-url"):
        write_config(tmp_path / "z.toml", backend="redis")


def test_non_loopback_needs_a_token_or_insecure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with pytest.raises(ChiaUsageError, match="CHIA_EXCHANGE_TOKEN"):
        ExchangeServer(host="0.0.0.0")
    ExchangeServer(host="0.0.0.0", token="t")  # constructing only: not started
    ExchangeServer(host="0.0.0.0", insecure=True)


async def test_token_is_checked(monkeypatch: pytest.MonkeyPatch, echo_agent: Any) -> None:
    with http_exchange(token="tok-123") as server:
        monkeypatch.delenv(TOKEN_ENV, raising=False)
        with pytest.raises(UnauthorizedError):
            await open_factory(server.settings()).create_user_client()
        monkeypatch.setenv(TOKEN_ENV, "wrong")
        with pytest.raises(UnauthorizedError):
            await open_factory(server.settings()).create_user_client()
        monkeypatch.setenv(TOKEN_ENV, "tok-123")
        await _round_trip(server.settings(), echo_agent)


async def test_redis_backend_round_trip(redis: RedisServer, echo_agent: Any) -> None:
    with http_exchange(backend="redis", redis_url=redis.url(9)) as server:
        await _round_trip(server.settings(), echo_agent)


async def _round_trip(settings: ExchangeSettings, echo_agent: Any) -> None:
    factory = open_factory(settings)
    async with user_client(factory) as client:
        registration = await register_agent(client, echo_agent, "srv", "a")
        runtime = Runtime(
            echo_agent(),
            exchange_factory=factory,
            registration=registration,
            config=runtime_config(),
        )
        async with runtime:
            assert await Handle(agent_id("srv", "a")).echo({"x": 1}) == {"x": 1}


def test_cli_serve_prints_the_url_and_stops_on_sigterm(tmp_path: Path) -> None:
    url_file = tmp_path / "url"
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    proc = subprocess.Popen(
        [CHIA, "exchange", "serve", "--port", "0", "--url-file", str(url_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not url_file.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        url = url_file.read_text().strip()
        port = int(url.rsplit(":", 1)[1])
        assert not port_is_free(port)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert f"exchange listening on {url}" in out
    assert port_is_free(port)


def test_cli_refuses_non_loopback_without_token() -> None:
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    result = subprocess.run(
        [CHIA, "exchange", "serve", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert "CHIA_EXCHANGE_TOKEN" in result.stderr
