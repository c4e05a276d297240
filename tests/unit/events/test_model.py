from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from chia.events import EVENT_KINDS, Note, parse_event

HEADER = {"run_id": "r1", "site": "aurora", "agent": "agent-aurora", "clock": 7}
MESSAGE = {
    "message_id": "m1",
    "sender": "agent-aurora",
    "recipient": "agent-crux",
    "message_kind": "chat",
    "round": 2,
    "tldr": "counter",
    "content": "counter = 2",
}
SAMPLES: dict[str, dict[str, Any]] = {
    "site_started": {"launcher": "mpiexec", "agents": ["a"], "exchange": "http", "host": "x1"},
    "site_finished": {"status": "failed", "failed_agents": ["a"]},
    "agent_registered": {"uid": "u", "exchange": "redis", "host": "h", "pid": 12, "rank": 0},
    "peers_waiting": {"peers": ["agent-crux"], "timeout_s": 600},
    "peers_up": {"peers": ["agent-crux"], "waited_s": 1.5},
    "agent_running": {},
    "bootstrap_dispatched": {"recipient": "agent-aurora", "message_id": "m0"},
    "bootstrap_skipped": {"reason": "--no-bootstrap"},
    "message_sent": {**MESSAGE, "recipient_site": "crux"},
    "message_received": {**MESSAGE, "sender_site": "aurora"},
    "message_rejected": {"recipient": "agent-x", "reason": "not an allowed peer"},
    "decision": {"round": 2, "policy": "scripted", "actions": ["send_message"]},
    "llm_call": {"provider": "openai", "model": "gpt-5-mini", "tokens_in": 10, "latency_s": 0.2},
    "model_retry": {
        "provider": "anthropic",
        "error_kind": "rate_limit",
        "status": 429,
        "attempt": 1,
        "limit": 5,
        "wait_s": 2.0,
        "retry_after_s": 2.0,
    },
    "model_error": {
        "provider": "bedrock",
        "model": "amazon.nova-pro-v1:0",
        "error_kind": "auth",
        "status": 403,
        "action": "stopped_agent",
        "hint": "set AWS_ACCESS_KEY_ID",
    },
    "tool_call": {"tool": "send_message", "call_id": "c1", "arguments": {"recipient": "b"}},
    "tool_result": {"tool": "send_message", "call_id": "c1", "ok": True, "output": "sent"},
    "result_submitted": {"result": "counter = 10"},
    "agent_finished": {"reason": "completed", "decisions": 6},
    "agent_failed": {"error": "peer agent-crux never answered"},
    "note": {"message": "hello", "level": "warning"},
    "message_acked": {"message_id": "m1", "recipient": "agent-crux", "attempts": 2},
    "message_undelivered": {
        "message_id": "m1",
        "recipient": "agent-crux",
        "attempts": 9,
        "reason": "not acknowledged within 600s",
    },
    "agent_restarted": {"restart": 1, "cause": "signal 9", "pending_messages": 2},
    "agent_gave_up": {"restarts": 3, "cause": "exit code 1"},
    "exchange_lost": {"error": "ConnectionRefusedError"},
    "exchange_restored": {"down_s": 4.2},
    "replay_diverged": {"round": 3, "request_digest": "ab12", "diff": "- a\n+ b"},
    "clock_skew": {
        "offset_s": -10800.4,
        "reference": "http://10.200.0.1:8700",
        "uncertainty_s": 1.01,
        "threshold_s": 300,
    },
}


def test_every_declared_kind_has_a_sample():
    assert set(SAMPLES) == set(EVENT_KINDS)


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_every_kind_round_trips_through_json(kind):
    event = EVENT_KINDS[kind](**HEADER, **SAMPLES[kind])
    line = event.model_dump_json()
    parsed = parse_event(line)
    assert parsed == event
    assert type(parsed) is EVENT_KINDS[kind]
    assert parsed.schema_version == 1
    assert parsed.timestamp.tzinfo is not None


def test_undeclared_kind_cannot_be_parsed_or_constructed():
    line = Note(**HEADER, message="x").model_dump_json().replace('"note"', '"mystery"')
    with pytest.raises(ValidationError):
        parse_event(line)
    with pytest.raises(ValidationError):
        Note(**HEADER, message="x", kind="mystery")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Note(**HEADER, message="x", surprise=1)  # type: ignore[call-arg]


def test_clock_cannot_be_negative():
    with pytest.raises(ValidationError):
        Note(**{**HEADER, "clock": -1}, message="x")
