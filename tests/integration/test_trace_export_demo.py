"""`chia trace export` of a real `chia demo` run is a trace Perfetto's importer accepts."""

from __future__ import annotations

import json

from chia.testing.trace_format import check_trace


def test_the_demo_run_exports_as_a_valid_perfetto_trace(chia, tmp_path):
    demo = chia("demo", "--runs-dir", str(tmp_path), "--run-id", "demo-x", timeout=180)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    out = tmp_path / "demo-x.json"
    done = chia(
        "trace",
        "export",
        "demo-x",
        "--runs-dir",
        str(tmp_path),
        "--format",
        "perfetto",
        "-o",
        str(out),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "on 4 tracks in 2 sites" in done.stderr and "open it in ui.perfetto.dev" in done.stderr

    doc = json.loads(out.read_text())
    summary = check_trace(doc)
    assert summary.problems == []
    assert summary.processes == {1: "site aurora", 2: "site crux"}
    assert set(summary.threads.values()) == {"site (launcher)", "agent-aurora", "agent-crux"}
    # The counter goes back and forth: every arrow joins the two agents' threads.
    ends = {
        (summary.threads[s["pid"], s["tid"]], summary.threads[f["pid"], f["tid"]])
        for s, f in summary.flows
    }
    assert ends == {("agent-aurora", "agent-crux"), ("agent-crux", "agent-aurora")}
    assert len(summary.flows) >= 10
    events = [e for e in doc["traceEvents"] if e["ph"] in "Xi"]
    clocks = [e["args"]["clock"] for e in events]
    assert clocks == sorted(clocks)  # written in causal order
    names = [e["name"] for e in events]
    assert names.count("site_started") == 2 and names.count("site_finished") == 2
    assert any(n.startswith("decision r") for n in names)
    assert any(e["args"].get("tldr") == "counter = 10" for e in events)
