"""The four-terminal federated walkthrough, run as its guide says, across the namespaces.

Terminal 1 (laptop): ``chia dashboard RUN --system aurora,crux`` over ssh to each login
namespace's sshd (one ControlMaster per site, rsync mirrors), then ``chia relay start
--system S --target-port P`` per site: the relay on the login node forwards to a reverse
tunnel that ends at our fake OpenAI server on the laptop's loopback. Terminals 2 and 3
(compute namespaces): ``chia spawn-site --launcher mpiexec`` on federated-chat-mcp with
``--llm-base-url relay``: the exchange only through the login's proxy, the model only
through the relay, found from its host file. Terminal 4 (laptop): ``chia bootstrap``.

:func:`run_walkthrough` drives it; :class:`Options` makes one site start late or run
with its clock skewed (libfaketime). The caller asserts on the returned
:class:`Walkthrough` (the dashboard's API is reachable while it runs, through
``probe``), then calls :meth:`Walkthrough.shut_down`.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chia.testing.login_node import LoginSsh, start_login_sshd
from chia.testing.netns import LAPTOP_ADDRESS, Topology
from chia.testing.replay import KEY, KEY_VAR, MCP_CAMPAIGN, mcp_counter_script
from chia.testing.site_realism import (
    LaptopExchange,
    LaptopModel,
    Phases,
    clean_env,
    get_json,
    serve_model,
    wait_for_line,
    write_site_profile,
)
from chia.testing.sites import CHIA
from chia.testing.tinyproxy import Proxy, proxy_environment, start_tinyproxy

__all__ = ["AGENTS", "RELAY_PORTS", "Options", "Walkthrough", "agent_status", "run_walkthrough"]

AGENTS = {"aurora": "agent-aurora", "crux": "agent-crux"}
RELAY_PORTS = {"aurora": 18185, "crux": 18187}


@dataclass(frozen=True)
class Options:
    """Variations of the walkthrough.

    Attributes:
        run_id: The run id every terminal uses.
        late_site: This site's spawn-site starts ``late_s`` after the other one waits
            for its peer (a batch queue that started it late).
        late_s: How late.
        site_prefix: Per site, a command prefix for its compute processes (e.g.
            libfaketime's ``env LD_PRELOAD=... FAKETIME=+3m``).
    """

    run_id: str = "walk-sites"
    late_site: str | None = None
    late_s: float = 0.0
    site_prefix: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Walkthrough:
    """A finished walkthrough whose laptop services (dashboard, relays) still run."""

    topo: Topology
    workdir: Path
    options: Options
    exchange: LaptopExchange
    model: LaptopModel
    ssh: LoginSsh
    profiles: dict[str, Path]
    roots: dict[str, Path]
    proxies: dict[str, Proxy]
    relays: dict[str, tuple[str, int]]
    sites: dict[str, subprocess.Popen[bytes]]
    dashboard: subprocess.Popen[bytes]
    dashboard_url: str
    laptop_env: dict[str, str]

    @property
    def mirror(self) -> Path:
        """Where the dashboard mirrors the sites' run directories."""
        return self.workdir / "mirror"

    @property
    def control_dir(self) -> Path:
        """Where the ControlMaster sockets live."""
        return self.workdir / "ctl"

    def site_output(self, site: str) -> str:
        """What ``chia spawn-site`` printed on ``site``."""
        return (self.workdir / f"{site}.out").read_text(errors="replace")

    def api(self, path: str) -> Any:
        """GET the dashboard's ``api/<path>`` from the laptop namespace."""
        return get_json(self.topo, "laptop", self.dashboard_url + path)

    def relay(self, verb: str, site: str) -> subprocess.CompletedProcess[str]:
        """``chia relay <verb> --system <site>`` on the laptop."""
        argv = [CHIA, "relay", verb, "--system", str(self.profiles[site])]
        return self.topo.run("laptop", *argv, env=self.laptop_env, timeout=60)

    def shut_down(self) -> None:
        """Stop the relays (``chia relay stop``), then the dashboard (Ctrl-C).

        Raises:
            AssertionError: If a relay does not stop or the dashboard exits non-zero.
        """
        for site in self.sites:
            stopped = self.relay("stop", site)
            assert stopped.returncode == 0 and "stopped" in stopped.stdout, stopped
        self.dashboard.send_signal(signal.SIGINT)
        code = self.dashboard.wait(30)
        output = (self.workdir / "dashboard.out").read_text(errors="replace")
        assert code == 0, output

    def infrastructure_pids(self) -> set[int]:
        """The harness's own long-lived processes still running (sshd, proxies...)."""
        return {p.pid for p in self.topo.procs if p.poll() is None}


def _laptop_env(workdir: Path, ssh: LoginSsh) -> dict[str, str]:
    return clean_env(CHIA_SSH_CONFIG=str(ssh.ssh_config), CHIA_SSH_CONTROL_DIR=str(workdir / "ctl"))


def _start_dashboard(
    topo: Topology, workdir: Path, run_id: str, profiles: dict[str, Path], env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], str]:
    systems = ",".join(str(p) for p in profiles.values())
    argv = [CHIA, "dashboard", run_id, "--system", systems, "--port", "0"]
    argv += ["--mirror-dir", str(workdir / "mirror"), "--interval-s", "0.5"]
    log = workdir / "dashboard.out"
    proc = topo.popen("laptop", *argv, log=log, env=env)
    url = wait_for_line(log, r"dashboard: (http://127\.0\.0\.1:\d+/)", proc, timeout_s=60)
    return proc, url


def _start_relay(walk: Walkthrough, site: str) -> tuple[str, int]:
    argv = [CHIA, "relay", "start", "--system", str(walk.profiles[site])]
    argv += ["--target-port", str(walk.model.port)]
    started = walk.topo.run("laptop", *argv, env=walk.laptop_env, timeout=60)
    assert started.returncode == 0, started.stdout + started.stderr
    assert f"relay {site}: {site}-login:{RELAY_PORTS[site]} -> tunnel" in started.stdout
    host, port = (walk.roots[site] / f"relay-host-{site}").read_text().split()
    return host, int(port)


def _spawn(walk: Walkthrough, site: str) -> subprocess.Popen[bytes]:
    options = walk.options
    argv = [CHIA, "spawn-site", "--system", str(walk.profiles[site]), "--site", site]
    argv += ["--launcher", "mpiexec", "--campaign", MCP_CAMPAIGN, "--run-id", options.run_id]
    argv += ["--agents", AGENTS[site], "--no-bootstrap", "--exchange", "http"]
    argv += ["--exchange-url", walk.exchange.url, "--startup-timeout-s", "900"]
    argv += ["--model", "openai_compatible:gpt-5-mini", "--llm-base-url", "relay"]
    argv += ["--llm-api-key-env", KEY_VAR]
    env = clean_env(
        **proxy_environment(walk.proxies[site]),
        CHIA_EXCHANGE_TOKEN=walk.exchange.token,
        **{KEY_VAR: KEY},
    )
    prefix = options.site_prefix.get(site, [])
    log = walk.workdir / f"{site}.out"
    return walk.topo.popen(f"{site}-compute", *prefix, *argv, log=log, env=env)


def run_walkthrough(
    topo: Topology,
    exchange: LaptopExchange,
    phases: Phases,
    workdir: Path,
    options: Options | None = None,
    *,
    on_ready: Callable[[Walkthrough], None] | None = None,
    during: Callable[[Walkthrough], None] | None = None,
) -> Walkthrough:
    """Run the walkthrough to the end of both sites; the dashboard and relays still run.

    Args:
        topo: The open topology.
        exchange: The laptop's exchange.
        phases: Marks each phase's wall time.
        workdir: Logs, profiles, the sites' run roots, the mirror.
        options: Late site, clock skew.
        on_ready: Called once both relays run, before any site starts (more proofs).
        during: Called right after the kickoff, while the campaign runs (faults).

    Raises:
        AssertionError: If any step fails (with its output).
    """
    options = options or Options()
    model = serve_model(topo, workdir, mcp_counter_script(), KEY_VAR, KEY)
    ssh = start_login_sshd(topo)
    profiles, roots, proxies = {}, {}, {}
    for site in AGENTS:
        proxies[site] = start_tinyproxy(topo, site, target=LAPTOP_ADDRESS, ports=[exchange.port])
        roots[site] = workdir / f"{site}-fs" / "runs"
        profiles[site] = write_site_profile(
            workdir,
            site,
            remote_host=ssh.alias(site),
            run_root=str(roots[site]),
            python="/usr/bin/python3",
            relay_port=RELAY_PORTS[site],
            relay_host_file=str(roots[site] / f"relay-host-{site}"),
        )
    laptop_env = _laptop_env(workdir, ssh)
    dashboard, url = _start_dashboard(topo, workdir, options.run_id, profiles, laptop_env)
    walk = Walkthrough(
        topo, workdir, options, exchange, model, ssh, profiles, roots, proxies, {}, {},
        dashboard, url, laptop_env,
    )  # fmt: skip
    for site in AGENTS:
        walk.relays[site] = _start_relay(walk, site)
    phases.mark("sshd, proxies, model, dashboard and relays up")
    if on_ready is not None:
        on_ready(walk)
    order = sorted(AGENTS, key=lambda s: s == options.late_site)
    for site in order:
        if site == options.late_site:
            first = order[0]
            wait_for_line(workdir / f"{first}.out", "waiting for peers", walk.sites[first])
            phases.mark(f"{first} ready")
            time.sleep(options.late_s)  # the late site's job leaves the queue only now
        walk.sites[site] = _spawn(walk, site)
    for site in AGENTS:
        wait_for_line(workdir / f"{site}.out", "waiting for peers", walk.sites[site], 180)
    phases.mark("sites ready")
    _bootstrap(walk)
    if during is not None:
        during(walk)
    for site, proc in walk.sites.items():
        try:
            code = proc.wait(timeout=300)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{site} still running:\n{walk.site_output(site)}") from None
        assert code == 0, walk.site_output(site)
    phases.mark("bootstrap to completion")
    return walk


def _bootstrap(walk: Walkthrough) -> None:
    argv = [CHIA, "bootstrap", "--run-id", walk.options.run_id, "--campaign", MCP_CAMPAIGN]
    argv += ["--exchange", "http", "--exchange-url", walk.exchange.url, "--timeout-s", "120"]
    env = clean_env(CHIA_EXCHANGE_TOKEN=walk.exchange.token)
    kickoff = walk.topo.run("laptop", *argv, env=env, timeout=180)
    assert kickoff.returncode == 0, kickoff.stdout + kickoff.stderr
    assert "sent kickoff" in kickoff.stdout


def agent_status(walk: Walkthrough, site: str) -> dict[str, Any]:
    """The status file of ``site``'s agent."""
    path = walk.roots[site] / walk.options.run_id / site / "status" / f"{AGENTS[site]}.json"
    status: dict[str, Any] = json.loads(path.read_text())
    return status
