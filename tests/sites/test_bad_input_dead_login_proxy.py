"""A compute node whose profile names its login's proxy, and the proxy is down.

In aurora's compute namespace the login's tinyproxy is the only way out. With it killed,
`chia spawn-site` exits 2 before any rank starts, naming the site, the profile, the proxy
and what to do; nothing is left in the namespace and no run files were written.
"""

from __future__ import annotations

import signal
from pathlib import Path

from chia.testing.netns import LAPTOP_ADDRESS, Topology
from chia.testing.site_realism import LaptopExchange, Phases, clean_env, write_site_profile
from chia.testing.sites import CHIA
from chia.testing.tinyproxy import start_tinyproxy


def test_spawn_site_names_the_dead_login_proxy(
    topo: Topology, laptop_exchange: LaptopExchange, phases: Phases, tmp_path: Path
) -> None:
    proxy = start_tinyproxy(topo, "aurora", target=LAPTOP_ADDRESS, ports=[laptop_exchange.port])
    proxy.proc.send_signal(signal.SIGKILL)
    proxy.proc.wait(10)
    phases.mark("proxy up, then killed")
    runs = tmp_path / "runs"
    profile = write_site_profile(
        tmp_path, "aurora", env={"http_proxy": proxy.url, "HTTP_PROXY": proxy.url}
    )
    done = topo.run(
        "aurora-compute",
        CHIA,
        "spawn-site",
        "--system",
        str(profile),
        "--site",
        "aurora",
        "--campaign",
        "federated-chat",
        "--run-id",
        "dead-proxy",
        "--agents",
        "agent-aurora",
        "--runs-dir",
        str(runs),
        "--no-bootstrap",
        "--exchange",
        "http",
        "--exchange-url",
        laptop_exchange.url,
        env=clean_env(CHIA_EXCHANGE_TOKEN=laptop_exchange.token),
        timeout=60,  # never a hang: the probe gives up after 5 s
    )
    phases.mark("spawn-site refused")
    assert done.returncode == 2, done.stdout + done.stderr
    error = " ".join(done.stderr.split())
    assert f"site aurora (profile {profile}): the HTTP proxy {proxy.url}" in error, error
    assert "refused the connection" in error and f"fix env.http_proxy in profile {profile}" in error
    site_dir = runs / "dead-proxy" / "aurora"
    assert not (site_dir / "logs").exists() and not (site_dir / "events").exists()
    assert topo.processes_left().get("aurora-compute", []) == []
