"""The proxy probe against a real tinyproxy, a closed port and a port that never replies."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from chia.errors import ChiaUsageError
from chia.exchange import ExchangeSettings
from chia.profiles import SystemProfile
from chia.site.proxy_check import check_exchange_proxy, probe_proxy
from chia.testing import free_port
from chia.testing.tinyproxy import local_tinyproxy

#: Off this host, so the ranks would go through the proxy (never contacted here).
EXCHANGE = ExchangeSettings(kind="http", url="http://192.0.2.77:8700")


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose kernel completes every handshake while nobody reads or replies."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


def test_a_real_proxy_answers(tmp_path):
    with local_tinyproxy(tmp_path) as proxy:
        # tinyproxy answers even when it cannot reach the target (a 5xx): it is up.
        assert probe_proxy(proxy.url, "http://127.0.0.1:9/v1", timeout_s=5) is None
        assert probe_proxy(proxy.url, "https://127.0.0.1:9/v1", timeout_s=5) is None


def test_nothing_listening_is_refused_at_once():
    problem = probe_proxy(f"http://127.0.0.1:{free_port()}", "http://192.0.2.77:1", 5)
    assert problem == "refused the connection (nothing listens there)"


def test_a_proxy_that_never_replies_times_out(silent_port):
    problem = probe_proxy(f"http://127.0.0.1:{silent_port}", "http://192.0.2.77:1", 0.5)
    assert problem == "accepted the connection but did not answer within 0.5s"


def test_the_error_names_site_profile_proxy_and_fix(silent_port):
    url = f"http://127.0.0.1:{silent_port}"
    profile = SystemProfile(name="hpc", env={"http_proxy": url})
    env = {"http_proxy": url, "PATH": "/usr/bin"}
    with pytest.raises(ChiaUsageError) as caught:
        check_exchange_proxy(profile, "hpc.json", "aurora", env, EXCHANGE, timeout_s=0.3)
    text = str(caught.value)
    assert text.startswith(f"site aurora (profile hpc.json): the HTTP proxy {url}")
    assert "set by the profile's env.http_proxy" in text
    assert "fix env.http_proxy in profile hpc.json" in text and "remove it" in text
    shell = SystemProfile(name="hpc")
    with pytest.raises(ChiaUsageError, match=r"from this shell's http_proxy.*unset http_proxy"):
        check_exchange_proxy(shell, "hpc", "aurora", env, EXCHANGE, timeout_s=0.3)


def test_no_probe_without_a_proxy_in_the_way(silent_port):
    url = f"http://127.0.0.1:{silent_port}"
    profile = SystemProfile(name="hpc")
    loopback = ExchangeSettings(kind="http", url="http://127.0.0.1:8700")
    assert check_exchange_proxy(profile, "hpc", "s", {"http_proxy": url}, loopback) is None
    bypassed = {"http_proxy": url, "no_proxy": "192.0.2.77"}
    assert check_exchange_proxy(profile, "hpc", "s", bypassed, EXCHANGE) is None
