"""A crashed peer's mailbox must not count as alive: the waiting site times out (exit 2)."""

from __future__ import annotations

import json
import os
import signal


def test_crashed_peer_does_not_satisfy_the_wait(sites, cli_exchange):
    run_id = f"stale-{cli_exchange.kind}"
    common = ["--system", "local", "--campaign", "federated-chat", "--run-id", run_id]
    common += [*cli_exchange.args, "--no-bootstrap"]
    crux = sites.start(*common, "--site", "crux", "--agents", "agent-crux", name="crux")
    crux.wait_for_line(f"registered on the {cli_exchange.kind} exchange")
    os.killpg(crux.proc.pid, signal.SIGKILL)  # the whole site dies without cleanup
    crux.wait()

    aurora = sites.start(
        *common,
        "--site",
        "aurora",
        "--agents",
        "agent-aurora",
        "--startup-timeout-s",
        "3",
        name="aurora",
    )
    assert aurora.wait(timeout=60) == 2, aurora.output
    assert "agent-crux" in aurora.output and "did not finish" in aurora.output
    status_file = sites.runs_dir / run_id / "aurora" / "status" / "agent-aurora.json"
    status = json.loads(status_file.read_text())
    assert status["state"] == "failed"
    assert "agent-crux" in status["last_error"]
