"""`chia bootstrap` to a recipient that never comes up exits 2 within its timeout, naming it."""

from __future__ import annotations

import pytest

from chia.exchange import agent_uid

TIMEOUT_S = 3.0


@pytest.mark.parametrize("exchange", ["http", "redis", "push", "redis-fast"], indirect=True)
def test_bootstrap_to_a_dead_recipient_exits_2_naming_it(chia, exchange):
    run_id = f"nobody-home-{exchange.kind}"
    result = chia(
        "bootstrap",
        "--run-id",
        run_id,
        "--campaign",
        "fault-flood",
        *exchange.args,
        "--timeout-s",
        str(TIMEOUT_S),
        timeout=TIMEOUT_S + 60,  # only so that a hang fails instead of blocking the suite
    )
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "agent-aurora" in result.stderr, output
    assert str(agent_uid(run_id, "agent-aurora")) in result.stderr, output
    assert "Traceback" not in output, output
