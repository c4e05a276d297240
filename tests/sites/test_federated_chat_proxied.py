"""federated-chat on aurora and crux, each compute node reaching the exchange by proxy only.

Each compute namespace's only way out is its login's tinyproxy, handed to mpiexec's ranks
with -genv; the laptop serves the exchange and bootstraps the run.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from chia.testing.netns import LAPTOP_ADDRESS, Topology
from chia.testing.netprobe import probe_argv
from chia.testing.site_realism import LaptopExchange, Phases, clean_env, write_site_profile
from chia.testing.sites import CHIA
from chia.testing.tinyproxy import proxy_environment, start_tinyproxy

RUN = "chat-proxied"
SITES = {"aurora": "agent-aurora", "crux": "agent-crux"}


def _probe(topo: Topology, role: str, *args: str | int) -> dict[str, object]:
    done = topo.run(role, *probe_argv(*args), env=clean_env())
    result: dict[str, object] = json.loads(done.stdout)
    return result


def _wait_for_line(
    log: Path, text: str, proc: subprocess.Popen[bytes], timeout_s: float = 90
) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"never saw {text!r} in {log.name}:\n{log.read_text()}")
        time.sleep(0.1)


def test_federated_chat_through_login_proxies(
    topo: Topology, laptop_exchange: LaptopExchange, phases: Phases, tmp_path: Path
) -> None:
    exchange = laptop_exchange
    phases.mark("exchange up")
    runs = tmp_path / "runs"
    common = ["--runs-dir", str(runs), "--launcher", "mpiexec"]
    common += ["--campaign", "federated-chat", "--run-id", RUN, "--no-bootstrap"]
    common += ["--exchange", "http", "--exchange-url", exchange.url]
    sites: dict[str, subprocess.Popen[bytes]] = {}
    proxies = {}
    for site, agent in SITES.items():
        compute = f"{site}-compute"
        proxy = start_tinyproxy(topo, site, target=LAPTOP_ADDRESS, ports=[exchange.port])
        proxies[site] = proxy
        # The proof that the proxy is the only way out: a direct connect to the exchange
        # fails (no route), the same target through the proxy is reached, and the proxy
        # refuses anything but the exchange.
        direct = _probe(topo, compute, "direct", LAPTOP_ADDRESS, exchange.port)
        assert direct["ok"] is False and "unreachable" in str(direct["detail"]), direct
        login_side = topo.address(f"{site}-login", "laptop")
        assert _probe(topo, compute, "direct", login_side, 22)["ok"] is False
        via = _probe(topo, compute, "proxy", proxy.host, proxy.port, LAPTOP_ADDRESS, exchange.port)
        assert via["ok"] is True, via
        elsewhere = _probe(topo, compute, "proxy", proxy.host, proxy.port, login_side, 8000)
        assert elsewhere["ok"] is False, elsewhere
        # Logins reach the laptop directly (where the next session's relay and sshd run).
        login_direct = _probe(topo, f"{site}-login", "direct", LAPTOP_ADDRESS, exchange.port)
        assert login_direct["ok"] is True, login_direct

        env = clean_env(**proxy_environment(proxy), CHIA_EXCHANGE_TOKEN=exchange.token)
        profile = write_site_profile(tmp_path, site)
        argv = [CHIA, "spawn-site", *common, "--system", str(profile), "--site", site]
        argv += ["--agents", agent]
        sites[site] = topo.popen(compute, *argv, log=tmp_path / f"{site}.out", env=env)

    phases.mark("proxies up, routes proved, sites started")
    for site in SITES:  # ready: registered through the proxy, waiting for its peer
        _wait_for_line(tmp_path / f"{site}.out", "waiting for peers", sites[site])
    phases.mark("sites ready")
    kickoff = topo.run(
        "laptop",
        CHIA,
        "bootstrap",
        "--run-id",
        RUN,
        "--campaign",
        "federated-chat",
        "--exchange",
        "http",
        "--exchange-url",
        exchange.url,
        "--timeout-s",
        "120",
        env=clean_env(CHIA_EXCHANGE_TOKEN=exchange.token),
        timeout=180,
    )
    assert kickoff.returncode == 0, kickoff.stdout + kickoff.stderr
    assert "sent kickoff" in kickoff.stdout

    for site, proc in sites.items():
        out = tmp_path / f"{site}.out"
        try:
            code = proc.wait(timeout=180)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{site} still running:\n{out.read_text()}") from None
        assert code == 0, out.read_text()
        assert "with the mpiexec launcher" in out.read_text()
        # Its mpiexec got the proxy only as -genv (the wrapper stripped its environment).
        mpiexec_argv = (tmp_path / f"{site}-mpiexec.argv").read_text().splitlines()
        genv = [mpiexec_argv[i + 1 : i + 3] for i, a in enumerate(mpiexec_argv) if a == "-genv"]
        assert ["HTTP_PROXY", proxies[site].url] in genv, mpiexec_argv
        assert ["http_proxy", proxies[site].url] in genv, mpiexec_argv

    phases.mark("bootstrap to completion")
    for site, agent in SITES.items():
        status = json.loads((runs / RUN / site / "status" / f"{agent}.json").read_text())
        assert status["state"] == "finished", status
        assert status["result"] == "counter = 10", status
        # The ranks' exchange traffic went through this site's proxy (plain HTTP to the
        # laptop), from the compute node's address.
        log = proxies[site].output
        compute_addr = topo.address(f"{site}-compute", f"{site}-login")
        assert "Connect (file descriptor" in log and compute_addr in log
        assert f"http://{LAPTOP_ADDRESS}:{exchange.port}/" in log, log[-2000:]
