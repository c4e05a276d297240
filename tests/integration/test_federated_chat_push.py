"""Two sites play federated-chat over the push exchange (`chia exchange serve --transport
push`, run through the CLI); bootstrap kicks off; the campaign ends with counter = 10."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from chia.processes import stop_process
from chia.testing.sites import CHIA


def serve_push(tmp_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    url_file = tmp_path / "push.url"
    proc = subprocess.Popen(
        [CHIA, "exchange", "serve", "--transport", "push", "--url-file", str(url_file)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(1500):
            if url_file.exists() and (url := url_file.read_text().strip()):
                return proc, url
            assert proc.poll() is None, "chia exchange serve --transport push exited"
            time.sleep(0.02)
        raise AssertionError("chia exchange serve --transport push printed no URL")
    except BaseException:
        stop_process(proc, 5.0)
        raise


def test_two_sites_over_push(sites, chia, tmp_path):
    server, url = serve_push(tmp_path)
    try:
        assert url.startswith("ws://127.0.0.1:")
        common = ["--system", "local", "--campaign", "federated-chat", "--run-id", "chat-push"]
        common += ["--exchange", "push", "--exchange-url", url, "--no-bootstrap"]
        aurora = sites.start(*common, "--site", "aurora", "--agents", "agent-aurora", name="a")
        crux = sites.start(*common, "--site", "crux", "--agents", "agent-crux", name="crux")
        kickoff = chia(
            "bootstrap",
            *("--run-id", "chat-push", "--campaign", "federated-chat"),
            *("--exchange", "push", "--exchange-url", url, "--timeout-s", "60"),
        )
        assert kickoff.returncode == 0, kickoff.stderr
        assert "sent kickoff" in kickoff.stdout
        assert aurora.wait() == 0, aurora.output
        assert crux.wait() == 0, crux.output
    finally:
        stop_process(server, 5.0)
    assert server.returncode == 0  # a SIGTERM is its normal end
    for line in ("registered on the push exchange", "peers up", "running"):
        assert line in aurora.output and line in crux.output
    assert "first message from agent-aurora" in crux.output
    run = sites.runs_dir / "chat-push"
    for site, agent in (("aurora", "agent-aurora"), ("crux", "agent-crux")):
        status = json.loads((run / site / "status" / f"{agent}.json").read_text())
        assert status["state"] == "finished"
        assert status["result"] == "counter = 10"
        launch = json.loads((run / site / "launch.json").read_text())
        assert launch["exchange"] == {**launch["exchange"], "kind": "push", "url": url}
