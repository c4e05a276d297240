"""SIGTERM on spawn-site stops every rank it started; nothing is left running."""

from __future__ import annotations

import json
import signal
import time


def test_sigterm_leaves_no_process_behind(sites, cli_exchange):
    run_id = f"term-{cli_exchange.kind}"
    site = sites.start(
        "--system",
        "local",
        "--campaign",
        "federated-chat",
        "--run-id",
        run_id,
        *cli_exchange.args,
        "--site",
        "both",
        "--agents",
        "agent-aurora,agent-crux",
        "--no-bootstrap",
    )
    site.wait_for_line("bootstrap skipped")
    status_dir = sites.runs_dir / run_id / "both" / "status"
    pids = [json.loads(p.read_text())["pid"] for p in sorted(status_dir.glob("*.json"))]
    assert len(pids) == 2 and not set(pids) & {site.proc.pid}
    assert sites.alive(pids) == pids

    site.proc.send_signal(signal.SIGTERM)
    assert site.wait(timeout=30) == 1
    assert "interrupted" in site.output
    deadline = time.monotonic() + 5
    while sites.alive(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sites.alive(pids) == []
    states = {json.loads(p.read_text())["state"] for p in status_dir.glob("*.json")}
    assert states == {"finished"}  # stopped cleanly, reason "stopped"
    site_events = (sites.runs_dir / run_id / "both" / "events" / "_site.jsonl").read_text()
    assert '"status":"interrupted"' in site_events
