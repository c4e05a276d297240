"""With the in-process local exchange, one host process runs the whole slice."""

from __future__ import annotations

import json


def test_single_site_on_local_exchange(sites):
    site = sites.start(
        "--system",
        "local",
        "--campaign",
        "federated-chat",
        "--run-id",
        "local-1",
        "--exchange",
        "local",
        "--site",
        "here",
        "--agents",
        "agent-crux, agent-aurora",
    )
    assert site.wait(timeout=60) == 0, site.output
    status_dir = sites.runs_dir / "local-1" / "here" / "status"
    statuses = [json.loads(p.read_text()) for p in sorted(status_dir.glob("*.json"))]
    assert {s["result"] for s in statuses} == {"counter = 10"}
    assert len({s["pid"] for s in statuses}) == 1  # one process hosts both agents
