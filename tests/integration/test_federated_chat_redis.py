"""Two sites play federated-chat over a real redis-server (Academy's Redis exchange and
chia's redis-fast); the counter reaches 10."""

from __future__ import annotations

import json

import pytest

from chia.events import MessageReceived, MessageSent, iter_events, merge_events


@pytest.mark.parametrize("kind", ["redis", "redis-fast"])
def test_two_sites_over_redis(sites, chia, redis, kind):
    run_id = f"chat-{kind}"
    common = ["--system", "local", "--campaign", "federated-chat", "--run-id", run_id]
    common += ["--exchange", kind, "--exchange-url", redis.url(3), "--no-bootstrap"]
    aurora = sites.start(*common, "--site", "aurora", "--agents", "agent-aurora", name="aurora")
    crux = sites.start(*common, "--site", "crux", "--agents", "agent-crux", name="crux")
    kickoff = chia(
        "bootstrap",
        "--run-id",
        run_id,
        "--campaign",
        "federated-chat",
        "--exchange",
        kind,
        "--exchange-url",
        redis.url(3),
        "--timeout-s",
        "60",
    )
    assert kickoff.returncode == 0, kickoff.stderr
    assert aurora.wait() == 0, aurora.output
    assert crux.wait() == 0, crux.output

    run = sites.runs_dir / run_id
    files = sorted(run.glob("*/events/*.jsonl"))
    assert [f.name for f in files] == ["_site.jsonl", "agent-aurora.jsonl"] * 1 + [
        "_site.jsonl",
        "agent-crux.jsonl",
    ]
    events = merge_events(iter_events(files))
    sent = [e for e in events if isinstance(e, MessageSent) and e.message_kind == "chat"]
    received = {e.message_id: e for e in events if isinstance(e, MessageReceived)}
    assert [e.content for e in sent] == [f"counter = {n}" for n in range(1, 11)]
    # Lamport order: every receive comes after its send in the merged timeline.
    for message in sent:
        assert received[message.message_id].clock > message.clock
    status = json.loads((run / "crux" / "status" / "agent-crux.json").read_text())
    assert status["result"] == "counter = 10"
