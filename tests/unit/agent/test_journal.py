"""Recovery from an events file written the way a running agent writes it."""

from __future__ import annotations

import pytest

from chia.agent import Envelope
from chia.agent.journal import JournalError, recover
from chia.events import (
    AgentFinished,
    AgentRestarted,
    BootstrapDispatched,
    Decision,
    EventWriter,
    LLMCall,
    MessageAcked,
    MessageReceived,
    MessageSent,
    MessageUndelivered,
    ResultSubmitted,
    ToolResult,
)


def _message(mid, sender="agent-aurora", recipient="agent-crux", kind="chat", content="x"):
    return {
        "message_id": mid,
        "sender": sender,
        "recipient": recipient,
        "message_kind": kind,
        "round": 1,
        "content": content,
    }


@pytest.fixture
def log(tmp_path):
    path = tmp_path / "agent-crux.jsonl"
    writer = EventWriter(path, run_id="r", site="crux", writer="agent-crux")
    yield path, writer
    writer.close()


def test_a_missing_file_is_a_new_agent(tmp_path):
    journal = recover(tmp_path / "none.jsonl")
    assert journal.is_new and not journal.done and journal.clock == 0


def test_undecided_messages_unacked_sends_and_counters_come_back(log):
    path, w = log
    w.emit(BootstrapDispatched, recipient="agent-crux", message_id="k")
    for mid in ("m1", "m2", "m3"):
        w.emit(MessageReceived, clock=10, **_message(mid, content=mid), sender_site="aurora")
    w.emit(MessageSent, **_message("s1", "agent-crux", "agent-aurora"))
    w.emit(MessageSent, **_message("s2", "agent-crux", "agent-aurora"))
    w.emit(MessageSent, **_message("orphan", "agent-crux", "agent-aurora"))  # no decision
    w.emit(
        Decision,
        round=1,
        policy="p",
        actions=["send_message"],
        consumed=["m1"],
        sent=["s1", "s2"],
        details=[{"action": "send_message", "recipient": "agent-aurora", "content": "c"}],
    )
    w.emit(MessageAcked, message_id="s1", recipient="agent-aurora")
    w.emit(LLMCall, provider="o", model="m", tokens_in=7, tokens_out=3, latency_s=0.1)
    w.emit(ToolResult, tool="search.find", call_id="c", ok=True, output="found")
    w.emit(ToolResult, tool="send_message", call_id="d", ok=True, output="sent")
    journal = recover(path)
    assert journal.clock == 10  # the largest clock written, never less
    assert journal.decisions == 1 and journal.bootstrapped
    assert [m.message_id for m in journal.undecided] == ["m2", "m3"]
    assert [m.content for m in journal.undecided] == ["m2", "m3"]
    assert [m.message_id for m in journal.unacked] == ["s2"]  # the orphan was never committed
    assert journal.unacked[0].sender_site == "crux"
    assert journal.seen == {"m1", "m2", "m3"}
    assert [m.message_id for m in journal.recent] == ["m1"]
    assert journal.actions[0]["recipient"] == "agent-aurora"
    assert journal.tool_results == [{"tool": "search.find", "ok": True, "output": "found"}]
    assert journal.counts["tokens_in"] == 7 and journal.counts["tokens_out"] == 3
    assert journal.counts["messages_sent"] == 2 and journal.counts["messages_received"] == 3
    assert journal.counts["messages_acked"] == 1
    assert isinstance(journal.undecided[0], Envelope)


def test_completion_results_restarts_and_settled_sends(log):
    path, w = log
    w.emit(MessageReceived, **_message("c1", kind="complete"))
    w.emit(MessageSent, **_message("s1", "agent-crux", "agent-aurora"))
    w.emit(ResultSubmitted, result="counter = 10")
    w.emit(Decision, round=1, policy="p", actions=["submit_result"], sent=["s1"])
    w.emit(MessageUndelivered, message_id="s1", recipient="agent-aurora", attempts=3, reason="late")
    w.emit(AgentRestarted, restart=2, cause="signal 9")
    journal = recover(path)
    assert journal.completed_peers == {"agent-aurora"}
    assert journal.undecided == []  # a completion notice is not for a turn
    assert journal.unacked == [] and journal.result == "counter = 10"
    assert journal.restarts == 2 and not journal.done
    assert [u.reason for u in journal.undelivered] == ["late"]  # for the next turn
    w.emit(AgentFinished, reason="stopped", decisions=1)
    assert not recover(path).done  # a stop is resumable
    w.emit(AgentFinished, reason="completed", decisions=1)
    assert recover(path).done


def test_undelivered_since_the_last_decision_is_reported_again(log):
    path, w = log
    w.emit(Decision, round=1, policy="p", actions=[])
    w.emit(MessageUndelivered, message_id="s", recipient="agent-aurora", attempts=9, reason="late")
    (failed,) = recover(path).undelivered
    assert (failed.recipient, failed.reason) == ("agent-aurora", "late")


def test_a_torn_last_line_is_dropped_and_cut_off(log):
    path, w = log
    w.emit(MessageReceived, **_message("m1"))
    with path.open("ab") as handle:
        handle.write(b'{"schema_version":1,"kind":"message_rec')
    journal = recover(path)
    assert journal.torn_tail and [m.message_id for m in journal.undecided] == ["m1"]
    assert path.read_bytes().endswith(b"\n")  # new lines start on a line of their own
    assert not recover(path).torn_tail


def test_a_corrupt_line_names_the_file_and_line(log):
    path, w = log
    w.emit(MessageReceived, **_message("m1"))
    with path.open("ab") as handle:
        handle.write(b"not json at all\n")
    w.emit(MessageReceived, **_message("m2"))
    with pytest.raises(JournalError, match=rf"{path}:2: not a valid event"):
        recover(path)
