"""The four-terminal walkthrough across the namespaces, the model reached only by relay.

The laptop runs the exchange, our fake OpenAI server on its loopback, the dashboard with
``--system aurora,crux`` over ssh to each login's sshd, and ``chia relay start`` per
site; each compute node reaches the exchange only through its login's proxy and the
model only through its login's relay, whose host file the agents read themselves.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from chia.testing.netns import LAPTOP_ADDRESS, Topology
from chia.testing.netprobe import probe_argv
from chia.testing.replay import KEY
from chia.testing.site_realism import LaptopExchange, Phases, clean_env, get_json, secrets_under
from chia.testing.site_walkthrough import AGENTS, Walkthrough, agent_status, run_walkthrough


def _probe(topo: Topology, role: str, *args: str | int) -> dict[str, object]:
    done = topo.run(role, *probe_argv(*args), env=clean_env())
    result: dict[str, object] = json.loads(done.stdout)
    return result


def _prove_routes(walk: Walkthrough) -> None:
    """Compute reaches the model only through the relay: no route, no proxy, relay yes."""
    topo, port = walk.topo, walk.model.port
    for site, (host, relay_port) in walk.relays.items():
        compute, proxy = f"{site}-compute", walk.proxies[site]
        assert host == f"{site}-login"
        direct = _probe(topo, compute, "direct", LAPTOP_ADDRESS, port)
        assert direct["ok"] is False and "unreachable" in str(direct["detail"]), direct
        assert _probe(topo, compute, "direct", "127.0.0.1", port)["ok"] is False
        proxied = _probe(topo, compute, "proxy", proxy.host, proxy.port, LAPTOP_ADDRESS, port)
        assert proxied["ok"] is False, proxied
        # The login's name resolves on its compute node, and the relay answers there.
        models = get_json(topo, compute, f"http://{host}:{relay_port}/v1/models")
        assert models["data"], models
        assert walk.relay("status", site).returncode == 0


def test_walkthrough_with_the_model_behind_each_login_relay(
    topo: Topology, laptop_exchange: LaptopExchange, phases: Phases, tmp_path: Path
) -> None:
    walk = run_walkthrough(topo, laptop_exchange, phases, tmp_path, on_ready=_prove_routes)
    for site in AGENTS:
        status = agent_status(walk, site)
        assert status["state"] == "finished" and status["result"] == "counter = 10", status
        assert "waiting for peers" in walk.site_output(site)
    requests = walk.model.requests()
    assert len(requests) == 21 and all(r["authorized"] for r in requests)
    # The dashboard mirrored both sites over ssh and merged their timelines.
    deadline = time.monotonic() + 30
    kinds: set[tuple[str, str]] = set()
    while time.monotonic() < deadline:
        kinds = {(e["site"], e["kind"]) for e in walk.api("api/events")["events"]}
        if {("aurora", "site_finished"), ("crux", "site_finished")} <= kinds:
            break
        time.sleep(0.5)
    assert {("aurora", "site_finished"), ("crux", "site_finished")} <= kinds, kinds
    assert ("crux", "message_received") in kinds and ("aurora", "result_submitted") in kinds

    walk.shut_down()
    for site in AGENTS:
        assert walk.relay("status", site).returncode == 3
    # The relays, ssh sessions, ranks and MCP servers are gone from every namespace: only
    # the harness's own services remain (sshd, proxies, exchange, model server).
    kept = walk.infrastructure_pids()
    deadline = time.monotonic() + 10
    while (left := {r: set(p) - kept for r, p in topo.processes_left().items()}) and any(
        left.values()
    ):
        assert time.monotonic() < deadline, left
        time.sleep(0.2)
    assert list(walk.control_dir.iterdir()) == []
    roots = [*walk.roots.values(), walk.mirror]
    assert secrets_under(roots, [KEY, laptop_exchange.token]) == []
