from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chia.cli.main import build_app

app = build_app("viz")

CHIA = str(Path(sys.executable).parent / "chia")
runner = CliRunner()


@pytest.fixture
def log(tmp_path: Path) -> Path:
    rows = [
        {"function": "parent", "start": 0.0, "end": 2.0, "task_id": "p"},
        {"function": "leaf", "start": 0.5, "end": 1.0, "caller": "parent", "caller_task": "p"},
        {"function": "late", "start": 1000.0, "end": 1001.0},
    ]
    path = tmp_path / "profile.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_table_is_csv_split_by_gap(log: Path) -> None:
    done = runner.invoke(app, ["viz-profile", str(log), "--format", "table"])
    assert done.exit_code == 0, done.output
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [(r["run"], r["function"]) for r in rows] == [
        ("0", "parent"),
        ("0", "leaf"),
        ("1", "late"),
    ]


def test_dot_and_chrome_pick_a_run(log: Path, tmp_path: Path) -> None:
    done = runner.invoke(app, ["viz-profile", str(log), "-f", "dot", "--run", "0"])
    assert done.exit_code == 0 and '"parent" -> "leaf"' in done.stdout
    out = tmp_path / "trace.json"
    done = runner.invoke(app, ["viz-profile", str(log), "-f", "chrome", "-o", str(out)])
    assert done.exit_code == 0
    names = [e["name"] for e in json.loads(out.read_text())["traceEvents"] if e["ph"] == "X"]
    assert names == ["late"]  # default: the last run


def test_svg_needs_dot(log: Path, tmp_path: Path) -> None:
    out = tmp_path / "g.svg"
    done = subprocess.run(
        [CHIA, "viz-profile", str(log), "-o", str(out)], capture_output=True, text=True
    )
    if shutil.which("dot"):
        assert done.returncode == 0, done.stderr
        assert out.read_text().lstrip().startswith("<?xml") or "<svg" in out.read_text()
    else:
        assert done.returncode == 2 and "not installed" in done.stderr


def test_bad_input_is_one_line_and_exit_2(log: Path, tmp_path: Path) -> None:
    missing = subprocess.run(
        [CHIA, "viz-profile", str(tmp_path / "no.jsonl")], capture_output=True, text=True
    )
    assert missing.returncode == 2 and "not found" in missing.stderr
    assert "Traceback" not in missing.stderr
    out_of_range = subprocess.run(
        [CHIA, "viz-profile", str(log), "-f", "dot", "--run", "5"], capture_output=True, text=True
    )
    assert out_of_range.returncode == 2 and "out of range" in out_of_range.stderr


def test_viz_static_flow(tmp_path: Path) -> None:
    flow = tmp_path / "flow.py"
    flow.write_text(
        "from chia.base.ChiaFunction import ChiaFunction\n"
        "@ChiaFunction()\ndef a(x):\n    return x\n"
        "@ChiaFunction()\ndef b(x):\n    return x\n"
        "def main():\n    r = a.chia_remote(1)\n    b.chia_remote(r)\n"
        "def other():\n    b.chia_remote(2)\n"
    )
    done = runner.invoke(app, ["viz", str(flow), "-f", "dot", "--function", "main"])
    assert done.exit_code == 0, done.output
    assert '"a" -> "b" [style=bold, label="data"]' in done.stdout
    assert "other" not in done.stdout
    bad = subprocess.run(
        [CHIA, "viz", str(flow), "--function", "zzz", "-f", "dot"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "no function 'zzz'" in bad.stderr


def test_trace_export_writes_a_perfetto_file_of_a_run(tmp_path: Path) -> None:
    from chia.testing.sample_run import write_generated_run
    from chia.testing.trace_format import check_trace

    run = write_generated_run(tmp_path / "runs", "gen-7", events=400, sites=2, agents=2)
    out = tmp_path / "out.json"
    done = runner.invoke(app, ["trace", "export", str(run), "--format", "perfetto", "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert f"wrote {out} (" in done.stderr and "4 tracks in 2 sites" in done.stderr
    assert re.search(r"scanned ([\d,]+) events, sorted\nwrote \1 / \1 events \(100%\)", done.stderr)
    summary = check_trace(json.loads(out.read_text()))
    assert summary.problems == [] and summary.flows
    assert not list(tmp_path.glob("*.part"))

    by_id = runner.invoke(
        app, ["trace", "export", "gen-7", "--runs-dir", str(tmp_path / "runs"), "-o", "-", "-q"]
    )
    assert by_id.exit_code == 0 and by_id.stderr == ""
    assert json.loads(by_id.stdout)["traceEvents"] == json.loads(out.read_text())["traceEvents"]


def test_trace_export_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    def export(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [CHIA, "trace", "export", *args]
        return subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path)

    missing = export(str(tmp_path / "nope"))
    assert missing.returncode == 2 and "no run directory" in missing.stderr
    events = tmp_path / "run" / "aurora" / "events"
    events.mkdir(parents=True)
    (events / "a.jsonl").write_text('{"schema_version": 1, "kind": "note"\n')
    malformed = export(str(tmp_path / "run"))
    assert (
        malformed.returncode == 2
        and f"{events / 'a.jsonl'}:1: not a valid event" in malformed.stderr
    )
    assert not list(tmp_path.glob("*.json*"))  # nothing half-written
    unknown = export(str(tmp_path / "run"), "--format", "svg")
    assert unknown.returncode == 2 and "'svg' is not one of" in unknown.stderr
    for done in (missing, malformed, unknown):
        assert "Traceback" not in done.stderr
