"""Two sites play federated-chat over a self-hosted HTTP exchange; bootstrap kicks off."""

from __future__ import annotations

import json


def test_two_sites_over_http(sites, chia, http_server):
    common = ["--system", "local", "--campaign", "federated-chat", "--run-id", "chat-http"]
    common += ["--exchange", "http", "--exchange-url", http_server.url, "--no-bootstrap"]
    aurora = sites.start(*common, "--site", "aurora", "--agents", "agent-aurora", name="aurora")
    crux = sites.start(*common, "--site", "crux", "--agents", "agent-crux", name="crux")

    kickoff = chia(
        "bootstrap",
        "--run-id",
        "chat-http",
        "--campaign",
        "federated-chat",
        "--exchange",
        "http",
        "--exchange-url",
        http_server.url,
        "--timeout-s",
        "60",
    )
    assert kickoff.returncode == 0, kickoff.stderr
    assert "sent kickoff" in kickoff.stdout

    assert aurora.wait() == 0, aurora.output
    assert crux.wait() == 0, crux.output
    for line in ("registered on the http exchange", "waiting for peers", "peers up", "running"):
        assert line in aurora.output and line in crux.output
    assert "bootstrap skipped" in aurora.output
    assert "first message from campaign (kickoff)" in aurora.output
    assert "first message from agent-aurora" in crux.output

    run = sites.runs_dir / "chat-http"
    for site, agent in (("aurora", "agent-aurora"), ("crux", "agent-crux")):
        status = json.loads((run / site / "status" / f"{agent}.json").read_text())
        assert status["state"] == "finished"
        assert status["result"] == "counter = 10"
        assert (run / site / "events" / f"{agent}.jsonl").is_file()
        placement = json.loads((run / site / "placement.json").read_text())
        assert [a["agent"] for a in placement["agents"]] == [agent]
        launch = json.loads((run / site / "launch.json").read_text())
        assert launch["agents"] == [agent] and launch["exchange"]["kind"] == "http"

    shown = chia("runs", "show", "chat-http", "--runs-dir", str(sites.runs_dir))
    assert shown.returncode == 0, shown.stderr
    assert "counter = 10" in shown.stdout and "cross-site" in shown.stdout
