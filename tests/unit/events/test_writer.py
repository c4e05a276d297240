from __future__ import annotations

from chia.events import EventWriter, MessageReceived, Note, events_path, iter_events


def test_writer_stamps_header_and_appends_one_line_per_event(tmp_path):
    path = events_path(tmp_path / "aurora", "agent-aurora")
    with EventWriter(path, run_id="r", site="aurora", writer="agent-aurora") as writer:
        first = writer.emit(Note, message="one")
        second = writer.emit(
            MessageReceived,
            clock=writer.clock.observe(40),
            message_id="m",
            sender="agent-crux",
            recipient="agent-aurora",
            message_kind="chat",
            round=1,
        )
        # Flushed per event: a reader sees it before the writer closes.
        assert [e.event_id for e in iter_events([path])] == [first.event_id, second.event_id]
    assert path.read_text().count("\n") == 2
    assert (first.clock, second.clock) == (1, 41)
    assert first.run_id == "r" and first.site == "aurora" and first.agent == "agent-aurora"


def test_reopening_appends(tmp_path):
    path = tmp_path / "events" / "w.jsonl"
    for message in ("a", "b"):
        with EventWriter(path, run_id="r", site="s", writer="w") as writer:
            writer.emit(Note, message=message)
    assert [e.message for e in iter_events([path]) if isinstance(e, Note)] == ["a", "b"]


def test_trusted_line_is_the_line_emit_writes(tmp_path):
    """emit_trusted skips the model, so its line must parse to what emit would have built."""
    fields = {
        "message_id": "m1",
        "sender": "agent-crux",
        "recipient": "agent-aurora",
        "message_kind": "chat",
        "round": 3,
        "tldr": "t",
        "content": "hello",
        "reply_requested": True,
        "sender_site": "crux",
    }
    path = tmp_path / "w.jsonl"
    with EventWriter(path, run_id="r", site="aurora", writer="agent-aurora") as writer:
        expected = writer.emit(MessageReceived, clock=7, **fields)
        writer.emit_trusted(MessageReceived, fields, clock=7)
    built, trusted = list(iter_events([path]))
    assert isinstance(trusted, MessageReceived)
    assert trusted.event_id != built.event_id and trusted.timestamp >= built.timestamp
    same = {"event_id", "timestamp"}
    assert trusted.model_dump(exclude=same) == expected.model_dump(exclude=same)


def test_atomic_block_goes_out_in_one_write_or_not_at_all(tmp_path):
    path = tmp_path / "w.jsonl"
    with EventWriter(path, run_id="r", site="s", writer="w") as writer:
        with writer.atomic():
            writer.emit(Note, message="one")
            writer.emit(Note, message="two")
            assert path.read_bytes() == b""  # held until the block ends
        assert writer.writes == 1
        assert path.read_text().count("\n") == 2
        try:
            with writer.atomic():
                writer.emit(Note, message="lost")
                raise RuntimeError("the turn failed")
        except RuntimeError:
            pass
        assert "lost" not in path.read_text()
        assert writer.writes == 1
