"""`chia bootstrap` returns 2 naming a recipient that never answers, and rejects bad input."""

from __future__ import annotations

from chia.exchange import agent_uid


def test_recipient_never_up_exits_2_naming_it(chia, http_server):
    result = chia(
        "bootstrap",
        "--run-id",
        "nobody-home",
        "--campaign",
        "federated-chat",
        "--exchange",
        "http",
        "--exchange-url",
        http_server.url,
        "--timeout-s",
        "1.5",
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "agent-aurora" in result.stderr
    assert str(agent_uid("nobody-home", "agent-aurora")) in result.stderr
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
