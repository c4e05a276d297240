"""--resume over a corrupt events file: one clear line naming the file and line, no traceback.

A torn last line (a write cut short) is not corruption: it is dropped and the agent
resumes. A damaged line in the middle is: the agent's state cannot be rebuilt from it, so
the site stops and says where, and the supervisor does not restart it (bad input).
"""

from __future__ import annotations

from chia.testing.campaigns import write_campaign_dir

AGENTS = [
    {"name": "agent-aurora", "role": "r", "mission": "m", "allowed_peers": ["agent-crux"]},
    {"name": "agent-crux", "role": "r", "mission": "m", "allowed_peers": ["agent-aurora"]},
]


def test_a_corrupt_line_stops_the_resume_naming_file_and_line(sites, http_server, tmp_path):
    campaign = write_campaign_dir(
        tmp_path, "short-counter", AGENTS, policy={"kind": "counter", "target": 4}
    )
    common = ["--system", "local", "--campaign", str(campaign), "--run-id", "corrupt-1"]
    common += ["--exchange", "http", "--exchange-url", http_server.url]
    crux_args = [*common, "--site", "crux", "--agents", "agent-crux"]
    crux = sites.start(*crux_args, name="crux")
    aurora = sites.start(*common, "--site", "aurora", "--agents", "agent-aurora", name="aurora")
    assert crux.wait(120) == 0, crux.output
    assert aurora.wait(120) == 0, aurora.output

    events = sites.runs_dir / "corrupt-1" / "crux" / "events" / "agent-crux.jsonl"
    lines = events.read_text().splitlines(keepends=True)
    lines[2] = '{"schema_version": 1, "kind": "mystery"}\n'
    events.write_text("".join(lines))

    resumed = sites.start(*crux_args, "--resume", "--startup-timeout-s", "5", name="resumed")
    code = resumed.wait(120)
    assert code != 0, resumed.output
    assert f"{events}:3: not a valid event" in resumed.output.replace("\n", ""), resumed.output
    assert "Traceback" not in resumed.output
    assert "restart 1/" not in resumed.output  # bad input: not restarted to fail again
