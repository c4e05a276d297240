"""`chia bootstrap` returns 2 naming a recipient that never answers, and rejects bad input."""

from __future__ import annotations

from chia.exchange import agent_uid


def test_recipient_never_up_exits_2_naming_it(chia, cli_exchange):
    run_id = f"nobody-home-{cli_exchange.kind}"
    result = chia(
        "bootstrap",
        "--run-id",
        run_id,
        "--campaign",
        "federated-chat",
        *cli_exchange.args,
        "--timeout-s",
        "1.5",
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "agent-aurora" in result.stderr
    assert str(agent_uid(run_id, "agent-aurora")) in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_recipient_and_missing_url_are_usage_errors(chia):
    unknown = chia(
        "bootstrap",
        "--run-id",
        "r",
        "--campaign",
        "federated-chat",
        "--recipient",
        "agent-x",
        "--exchange-url",
        "http://127.0.0.1:9",
    )
    assert unknown.returncode == 2 and "agent-x" in unknown.stderr
    no_url = chia("bootstrap", "--run-id", "r", "--campaign", "federated-chat")
    assert no_url.returncode == 2 and "--exchange-url" in no_url.stderr
