"""A profile whose HTTP proxy does not answer: spawn-site fails at once, starting nothing."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from chia.testing import free_port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's handshake) and never replies."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


@pytest.mark.parametrize("dead", ["nothing listening", "accepts, never replies"])
def test_spawn_site_names_the_dead_proxy_and_what_to_do(tmp_path, chia, silent_port, dead):
    port = silent_port if dead.startswith("accepts") else free_port()
    proxy = f"http://127.0.0.1:{port}"
    profile = tmp_path / "hpc.json"
    profile.write_text(
        json.dumps(
            {
                "name": "hpc",
                "run_root": str(tmp_path / "runs"),
                "launcher": {"kind": "local"},
                "env": {"http_proxy": proxy, "HTTP_PROXY": proxy},
            }
        )
    )
    done = chia(
        "spawn-site",
        "--system",
        str(profile),
        "--site",
        "aurora",
        "--campaign",
        "federated-chat",
        "--run-id",
        "proxied",
        "--agents",
        "agent-aurora",
        "--exchange",
        "http",
        "--exchange-url",
        "http://192.0.2.77:8700",  # off this host: reached through the proxy
        timeout=30,  # never a hang: the probe gives up after 5 s
    )
    assert done.returncode == 2, done.stdout + done.stderr
    error = " ".join(done.stderr.split())
    assert f"site aurora (profile {profile}): the HTTP proxy {proxy}" in error
    assert "set by the profile's env.http_proxy" in error
    assert f"fix env.http_proxy in profile {profile}" in error and "remove it" in error
    reason = "refused the connection" if dead.startswith("nothing") else "did not answer within 5s"
    assert reason in error
    site_dir = tmp_path / "runs" / "proxied" / "aurora"
    assert not (site_dir / "logs").exists() and not (site_dir / "events").exists()
