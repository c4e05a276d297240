"""Two idle sites and the bootstrap ride out a SIGKILL of their AOF redis-server.

Both sites register and wait for the kickoff (``--no-bootstrap``); redis-server is then
SIGKILLed, ``chia bootstrap`` is started while it is down, and redis-server comes back 8 s
later on the same port with the same AOF. The agents' listeners reconnect, the bootstrap reaches
the initial agent, and the campaign completes: no crash, no traceback on any terminal.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

from chia.testing import redis_server
from chia.testing.sites import CHIA

RUN_ID = "chat-redis-restart"


def test_sites_and_bootstrap_survive_a_redis_restart(sites):
    with redis_server(appendonly=True, appendfsync="always") as redis:
        common = ["--system", "local", "--campaign", "federated-chat", "--run-id", RUN_ID]
        common += ["--exchange", "redis", "--exchange-url", redis.url(3), "--no-bootstrap"]
        aurora = sites.start(*common, "--site", "aurora", "--agents", "agent-aurora", name="a")
        crux = sites.start(*common, "--site", "crux", "--agents", "agent-crux", name="c")
        aurora.wait_for_line("bootstrap skipped", timeout=60)
        crux.wait_for_line("running", timeout=60)

        redis.kill(signal.SIGKILL)
        argv = [CHIA, "bootstrap", "--run-id", RUN_ID, "--campaign", "federated-chat"]
        argv += ["--exchange", "redis", "--exchange-url", redis.url(3), "--timeout-s", "60"]
        bootstrap = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
            stdin=subprocess.DEVNULL,
        )
        try:
            # Down longer than redis-py's own retries (3, <= 7 s) would hide.
            time.sleep(8.0)
            redis.start()
            out, err = bootstrap.communicate(timeout=120)
        finally:
            if bootstrap.poll() is None:
                bootstrap.kill()
                bootstrap.wait()
        assert bootstrap.returncode == 0, out + err
        assert "sent kickoff" in out, out
        assert "Traceback" not in out + err, out + err
        # The bootstrap says when it lost the exchange and when it was back (one line each).
        assert err.count("lost (ConnectionError") == 1, err
        assert err.count("back after") == 1, err
        assert aurora.wait(120) == 0, aurora.output
        assert crux.wait(120) == 0, crux.output
    for site in (aurora, crux):
        assert "Traceback" not in site.output, site.output
    status = json.loads(
        (sites.runs_dir / RUN_ID / "crux" / "status" / "agent-crux.json").read_text()
    )
    assert status["result"] == "counter = 10"
