"""Bad replay input is refused before anything starts: exit 2, one clear line, no traceback.

A run dir of another campaign is refused naming both campaigns (`spawn-site --replay`
and `chia replay`); a corrupt record file names its file and line; a directory that is
not a run, and flags that do not go together, are named too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chia.site.spawn import SpawnRequest, prepare_site

MCP = "federated-chat-mcp"


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    """A run dir of federated-chat-mcp as spawn-site writes it (launch.json per site)."""
    for site, agent in (("aurora", "agent-aurora"), ("crux", "agent-crux")):
        prepare_site(
            SpawnRequest(
                system="local",
                campaign=MCP,
                agents=agent,
                run_id="rec-1",
                site=site,
                exchange="local",
                runs_dir=tmp_path / "runs",
            )
        )
    return tmp_path / "runs" / "rec-1"


def _spawn(chia, tmp_path: Path, *args: str):
    return chia(
        "spawn-site", "--system", "local", "--agents", "agent-aurora", "--site", "aurora",
        "--run-id", "again", "--exchange", "local", "--runs-dir", str(tmp_path / "new"), *args,
    )  # fmt: skip


def _refused(result) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output, output
    return result.stderr


def test_a_run_of_another_campaign_is_refused_naming_both(chia, tmp_path, recorded):
    spawned = _refused(
        _spawn(chia, tmp_path, "--campaign", "federated-chat", "--replay", str(recorded))
    )
    assert "'federated-chat-mcp'" in spawned and "not 'federated-chat'" in spawned
    replayed = _refused(chia("replay", str(recorded), "--campaign", "federated-chat"))
    assert "'federated-chat-mcp'" in replayed and "not 'federated-chat'" in replayed
    assert not (tmp_path / "new").exists()


def test_a_corrupt_record_file_names_file_and_line(chia, tmp_path, recorded):
    records = recorded / "aurora" / "llm" / "agent-aurora.jsonl"
    records.parent.mkdir()
    good = {
        "seq": 0,
        "digest": "sha256:00",
        "identity": {"provider": "openai", "model": "m"},
        "request": {"messages": []},
        "response": {"content": "hi"},
    }
    records.write_text(json.dumps(good) + "\n" + '{"seq": 1, "dig\n' + json.dumps(good) + "\n")
    stderr = _refused(_spawn(chia, tmp_path, "--campaign", MCP, "--replay", str(recorded)))
    assert f"{records}:2" in stderr.replace("\n", ""), stderr
    stderr = _refused(chia("replay", str(recorded)))
    assert f"{records}:2" in stderr.replace("\n", ""), stderr

    records.write_text(json.dumps(good) + "\n" + '{"seq": 1, "dig')  # a torn last line
    spawned = _spawn(
        chia, tmp_path, "--campaign", MCP, "--replay", str(recorded), "--startup-timeout-s", "1"
    )
    assert "Traceback" not in spawned.stdout + spawned.stderr
    assert str(records) not in spawned.stderr  # skipped, not an error


def test_not_a_run_dir_and_flags_that_do_not_go_together(chia, tmp_path, recorded):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "is not a run directory" in _refused(chia("replay", str(empty)))
    assert "no such run directory" in _refused(chia("replay", str(tmp_path / "nothing")))
    assert "needs --replay" in _refused(
        _spawn(chia, tmp_path, "--campaign", MCP, "--continue-live", "openai:gpt-5-mini")
    )
    with_model = _spawn(
        chia, tmp_path, "--campaign", MCP, "--replay", str(recorded), "--model", "openai:x"
    )
    assert "--continue-live" in _refused(with_model)
