from __future__ import annotations

from chia.exchange import ExchangeSettings
from chia.profiles import SystemProfile
from chia.site.environment import exchange_needs_internet, forwarded_proxies, rank_environment

PROFILE = SystemProfile(
    name="hpc",
    env={"OMP_NUM_THREADS": "8"},
    unset_env=["http_proxy", "https_proxy", "SECRET_THING"],
    path_entries=["/opt/x/bin"],
    no_proxy=["127.0.0.1", ".alcf.anl.gov"],
)
BASE = {
    "PATH": "/usr/bin",
    "http_proxy": "http://proxy:3128",
    "https_proxy": "http://proxy:3128",
    "SECRET_THING": "1",
    "no_proxy": "localhost",
}
LOOPBACK = ExchangeSettings(kind="http", url="http://127.0.0.1:8700")
HOSTED = ExchangeSettings(kind="http", url="https://exchange.example.org/v1")


def test_loopback_exchange_strips_proxies():
    env = rank_environment(PROFILE, LOOPBACK, BASE)
    assert "http_proxy" not in env and "SECRET_THING" not in env
    assert env["OMP_NUM_THREADS"] == "8"
    assert env["PATH"] == "/opt/x/bin:/usr/bin"
    assert env["no_proxy"] == env["NO_PROXY"] == "localhost,127.0.0.1,.alcf.anl.gov"
    assert forwarded_proxies(env, LOOPBACK) == {}


def test_internet_exchange_keeps_and_forwards_proxies():
    assert exchange_needs_internet(HOSTED) and not exchange_needs_internet(LOOPBACK)
    assert not exchange_needs_internet(ExchangeSettings(kind="redis"))
    env = rank_environment(PROFILE, HOSTED, BASE)
    assert env["https_proxy"] == "http://proxy:3128" and "SECRET_THING" not in env
    assert forwarded_proxies(env, HOSTED) == {
        "http_proxy": "http://proxy:3128",
        "https_proxy": "http://proxy:3128",
        "no_proxy": "localhost,127.0.0.1,.alcf.anl.gov",
        "NO_PROXY": "localhost,127.0.0.1,.alcf.anl.gov",
    }


def test_no_proxy_merge_keeps_hosts_of_either_spelling():
    """A site that sets only NO_PROXY (uppercase) keeps its hosts after the merge."""
    base = {"PATH": "/usr/bin", "NO_PROXY": ".site.example, 10.0.0.1", "no_proxy": "localhost"}
    env = rank_environment(PROFILE, HOSTED, base)
    merged = "localhost,.site.example,10.0.0.1,127.0.0.1,.alcf.anl.gov"
    assert env["no_proxy"] == env["NO_PROXY"] == merged


def test_exchange_proxy_is_the_one_the_client_uses():
    from chia.site.environment import exchange_proxy

    plain = ExchangeSettings(kind="http", url="http://exchange.example.org:8700")
    both = {"http_proxy": "http://low:1", "HTTP_PROXY": "http://up:1", "https_proxy": "http://s:1"}
    assert exchange_proxy(both, plain) == ("http_proxy", "http://low:1")
    assert exchange_proxy({"HTTP_PROXY": "http://up:1"}, plain) == ("HTTP_PROXY", "http://up:1")
    assert exchange_proxy(both, HOSTED) == ("https_proxy", "http://s:1")
    assert exchange_proxy(both, LOOPBACK) is None
    assert exchange_proxy({**both, "NO_PROXY": ".example.org"}, plain) is None


def test_the_profiles_venv_is_activated_before_path_entries():
    profile = SystemProfile(name="hpc", venv="/opt/venv", path_entries=["/opt/x/bin"])
    env = rank_environment(profile, LOOPBACK, {"PATH": "/usr/bin", "PYTHONHOME": "/usr"})
    assert env["PATH"] == "/opt/venv/bin:/opt/x/bin:/usr/bin"
    assert env["VIRTUAL_ENV"] == "/opt/venv" and "PYTHONHOME" not in env
