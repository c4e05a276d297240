"""Comparing a replay with its recording: what counts, what is ignored, bad files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chia.errors import ChiaUsageError
from chia.events import (
    AgentRunning,
    Decision,
    EventWriter,
    MessageReceived,
    MessageSent,
    ReplayDiverged,
    ToolCall,
    ToolResult,
    events_path,
)
from chia.site.replay_compare import compare_runs, divergences, read_event_lines


def _message(kind: Any, writer: EventWriter, content: str, message_kind: str = "chat") -> None:
    writer.emit(
        kind,
        message_id=f"id-{content}-{writer.run_id}",  # ids differ between runs
        sender="agent-a",
        recipient="agent-b",
        message_kind=message_kind,
        round=1,
        content=content,
    )


def _run(root: Path, run_id: str, *, counter: int = 2, notice: bool = False) -> Path:
    with EventWriter(
        events_path(root / run_id / "s1", "agent-a"), run_id=run_id, site="s1", writer="agent-a"
    ) as writer:
        writer.emit(AgentRunning)
        writer.emit(ToolCall, tool="counter.increment", call_id=f"c-{run_id}", arguments={"v": 1})
        writer.emit(ToolResult, tool="counter.increment", call_id="c", ok=True, output="2")
        writer.emit(Decision, round=1, policy=f"llm:{run_id}", actions=["send_message"])
        _message(MessageSent, writer, f"counter = {counter}")
        if notice:
            _message(MessageReceived, writer, "done", message_kind="complete")
    with EventWriter(
        events_path(root / run_id / "s1", "_site"), run_id=run_id, site="s1", writer="_site"
    ) as writer:
        writer.emit(AgentRunning)
    return root / run_id


def test_equal_runs_match_whatever_their_ids_times_and_notices(tmp_path):
    recorded = _run(tmp_path, "r1", notice=True)
    replayed = _run(tmp_path, "r2")
    assert compare_runs(recorded, replayed) == (4, [])


def test_a_different_content_is_named_with_agent_and_position(tmp_path):
    compared, differences = compare_runs(_run(tmp_path, "r1"), _run(tmp_path, "r2", counter=3))
    assert compared == 4
    (line,) = differences
    assert line.startswith("agent-a event 4: recorded message_sent agent-a agent-b chat")
    assert "counter = 2" in line and "replayed message_sent" in line and "counter = 3" in line


def test_a_missing_agent_or_a_short_sequence_differs(tmp_path):
    recorded = _run(tmp_path, "r1")
    empty = tmp_path / "r2"
    (empty / "s1" / "events").mkdir(parents=True)
    _, differences = compare_runs(recorded, empty)
    assert differences == [differences[0]] and "replayed nothing" in differences[0]


def test_divergences_are_listed_with_agent_and_round(tmp_path):
    run = _run(tmp_path, "r1")
    with EventWriter(
        events_path(run / "s1", "agent-b"), run_id="r1", site="s1", writer="agent-b"
    ) as writer:
        writer.emit(
            ReplayDiverged, round=3, request_digest="sha256:1", diff="message 1 (user) changed\n-a"
        )
    assert divergences(run) == ["agent-b at round 3: message 1 (user) changed"]


def test_torn_tail_is_skipped_and_a_corrupt_line_is_named(tmp_path):
    path = tmp_path / "e.jsonl"
    good = json.dumps({"kind": "note", "message": "m"})
    path.write_text(f"{good}\n{good[:10]}")
    assert len(read_event_lines(path)) == 1
    path.write_text(f"{good}\n{{oops\n{good}\n")
    with pytest.raises(ChiaUsageError, match=rf"{path}:2: not an event"):
        read_event_lines(path)
    path.write_text('[1]\n{"kind": "note"}\n')
    with pytest.raises(ChiaUsageError, match=rf"{path}:1: not an event \(no kind\)"):
        read_event_lines(path)
