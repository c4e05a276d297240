"""A site whose wall clock is three hours behind: it says so, and the campaign completes.

aurora's ``chia spawn-site`` and everything it starts run with the wall clock shifted by
-3 h (``chia.testing.clock_skew``, an LD_PRELOAD library: realtime clocks only, as on a
machine whose NTP is broken); crux, the exchange and the bootstrap keep this machine's.
"""

from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime, timezone

from chia.testing.clock_skew import clock_skew_prefix
from chia.testing.sites import CHIA

RUN = "skewed"
OFFSET_S = -3 * 3600


def test_a_site_hours_off_warns_and_still_completes(tmp_path, sites, chia, http_server):
    common = ["--system", "local", "--campaign", "federated-chat", "--run-id", RUN]
    common += ["--exchange", "http", "--exchange-url", http_server.url, "--no-bootstrap"]
    log = tmp_path / "aurora.out"
    argv = [*clock_skew_prefix(OFFSET_S, tmp_path / "skew"), CHIA, "spawn-site", *common]
    argv += ["--runs-dir", str(sites.runs_dir), "--site", "aurora", "--agents", "agent-aurora"]
    with log.open("w") as out:
        aurora = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        crux = sites.start(*common, "--site", "crux", "--agents", "agent-crux", name="crux")
        kickoff = chia(
            "bootstrap",
            "--run-id",
            RUN,
            "--campaign",
            "federated-chat",
            "--exchange",
            "http",
            "--exchange-url",
            http_server.url,
            "--timeout-s",
            "60",
        )
        assert kickoff.returncode == 0, kickoff.stdout + kickoff.stderr
        assert aurora.wait(timeout=90) == 0, log.read_text()
        assert crux.wait() == 0, crux.output
    finally:
        if aurora.poll() is None:
            aurora.kill()
            aurora.wait()
    output = " ".join(log.read_text().split())
    assert re.search(r"\[aurora\] warning: this machine's clock is (2h59m5\ds|3h00m0\ds)", output)
    assert f"behind the exchange's ({http_server.url})" in output
    assert "fix NTP on this machine" in output
    assert "warning: this machine's clock" not in crux.output
    run = sites.runs_dir / RUN
    events = [json.loads(line) for line in (run / "aurora/events/_site.jsonl").open()]
    (skew,) = [e for e in events if e["kind"] == "clock_skew"]
    assert abs(skew["offset_s"] - 3 * 3600) < 5 and skew["threshold_s"] == 300
    assert skew["reference"] == http_server.url
    # The skew is real: aurora's events are stamped three hours in the past.
    stamped = datetime.fromisoformat(skew["timestamp"])
    assert abs((datetime.now(timezone.utc) - stamped).total_seconds() - 3 * 3600) < 120
    for site, agent in (("aurora", "agent-aurora"), ("crux", "agent-crux")):
        status = json.loads((run / site / "status" / f"{agent}.json").read_text())
        assert status["state"] == "finished" and status["result"] == "counter = 10"
