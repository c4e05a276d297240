from __future__ import annotations

import json
from datetime import datetime, timezone

from chia.agent.status_book import StatusBook
from chia.events import AgentState, AgentStatus


def _book(tmp_path):
    initial = AgentStatus(
        run_id="r",
        site="s",
        agent="a",
        uid="u",
        state=AgentState.REGISTERED,
        updated=datetime.now(timezone.utc),
    )
    return StatusBook(tmp_path / "status" / "a.json", initial)


def test_counters_coalesce_until_flush_and_states_write_at_once(tmp_path):
    book = _book(tmp_path)
    path = tmp_path / "status" / "a.json"
    assert json.loads(path.read_text())["state"] == "registered"  # written on creation
    assert book.bump("messages_received") == 1
    assert book.bump("tokens_in", 40) == 40
    assert json.loads(path.read_text())["messages_received"] == 0  # not yet written
    book.flush()
    on_disk = json.loads(path.read_text())
    assert (on_disk["messages_received"], on_disk["tokens_in"]) == (1, 40)
    book.set(state=AgentState.RUNNING)
    assert json.loads(path.read_text())["state"] == "running"
    assert book.snapshot().messages_received == book.count("messages_received") == 1
