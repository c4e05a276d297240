from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from chia.events import AgentState, AgentStatus, parse_event, read_snapshot
from chia.exchange import ExchangeSettings
from chia.site.launch import SiteLaunch
from chia.site.supervisor import (
    RESTART_CAUSE_ENV,
    RESTART_ENV,
    ProcessSupervisor,
    RestartPolicy,
    exit_cause,
    last_clock,
    process_label,
    record_gave_up,
)

FAST = RestartPolicy(max_restarts=3, first_delay_s=0.01, max_delay_s=0.05)


def _launch(tmp_path, agents=("agent-crux",)):
    return SiteLaunch(
        run_id="r",
        site="crux",
        profile="p",
        campaign_path=tmp_path / "c.jsonc",
        agents=list(agents),
        exchange=ExchangeSettings(kind="http", url="http://127.0.0.1:9"),
        launcher="local",
        site_dir=tmp_path,
        startup_timeout_s=5,
        bootstrap=False,
    )


def _run(supervisor, timeout=30.0):
    deadline = time.monotonic() + timeout
    while (code := supervisor.check()) is None:
        assert time.monotonic() < deadline, "the supervised process never settled"
        time.sleep(0.01)
    return code


def _python(code):
    def spawn(extra):
        return subprocess.Popen([sys.executable, "-c", code], env={**os.environ, **extra})

    return spawn


def test_backoff_starts_fast_then_grows_to_a_cap():
    policy = RestartPolicy()
    delays = [policy.delay(n) for n in range(1, 6)]
    assert delays[0] <= 0.2
    assert delays == sorted(delays) and delays[1] > delays[0]
    assert delays[-1] == policy.max_delay_s <= 5.0


def test_verdicts_restart_within_budget_and_never_restart_verdicts():
    policy = RestartPolicy(max_restarts=2)
    assert policy.verdict(0, 0) == "final"  # the agent finished
    assert policy.verdict(2, 0) == "final"  # peers never answered: waiting again won't help
    assert policy.verdict(-9, 0) == policy.verdict(1, 1) == "restart"
    assert policy.verdict(-9, 2) == "give_up"
    assert RestartPolicy(max_restarts=0).verdict(1, 0) == "give_up"


def test_exit_causes_and_labels():
    assert exit_cause(-9) == "signal 9" and exit_cause(1) == "exit code 1"
    assert process_label("crux", ["agent-crux"], 1) == "[crux] agent-crux (rank 1)"


def test_last_clock_skips_a_torn_tail_and_malformed_lines(tmp_path):
    path = tmp_path / "a.jsonl"
    assert last_clock(path) == 0
    path.write_bytes(b"")
    assert last_clock(path) == 0
    path.write_bytes(b'{"clock": 3}\n{"clock": 5}\nnot json\n{"clock": 4}\n{"clock": 99, "ki')
    assert last_clock(path) == 5  # highest complete line; 99 is torn


def test_last_clock_reads_only_the_tail_of_a_large_file(tmp_path):
    path = tmp_path / "a.jsonl"
    lines = [json.dumps({"clock": n, "pad": "x" * 200}) for n in range(1, 2001)]
    path.write_text("\n".join(lines) + "\n")
    assert path.stat().st_size > 64 * 1024
    assert last_clock(path) == 2000


def test_gave_up_event_continues_the_clock_after_a_torn_line(tmp_path):
    launch = _launch(tmp_path)
    events = tmp_path / "events" / "agent-crux.jsonl"
    events.parent.mkdir()
    events.write_bytes(b'{"clock": 41}\n{"clock": 42}\n{"clock": 77, "kind": "mess')
    record_gave_up(launch, ["agent-crux"], 3, "signal 9")
    lines = events.read_bytes().split(b"\n")
    assert lines[-1] == b"" and lines[2] == b'{"clock": 77, "kind": "mess'  # closed, kept
    event = parse_event(lines[-2])
    assert event.kind == "agent_gave_up" and event.clock == 43
    assert (event.restarts, event.cause, event.agent) == (3, "signal 9", "agent-crux")
    status = read_snapshot(tmp_path / "status" / "agent-crux.json", AgentStatus)
    assert status is not None and status.state is AgentState.FAILED
    assert status.last_error == "gave up after 3 restarts (signal 9)" and status.restarts == 3


def test_restarts_a_failing_process_with_the_restart_env_until_it_succeeds(tmp_path):
    seen = tmp_path / "seen"
    code = (
        "import os, sys; "
        f"open({str(seen)!r}, 'a').write(os.environ.get({RESTART_ENV!r}, '-') + '|' + "
        f"os.environ.get({RESTART_CAUSE_ENV!r}, '-') + chr(10)); "
        f"sys.exit(0 if os.environ.get({RESTART_ENV!r}) == '2' else 1)"
    )
    lines: list[str] = []
    supervisor = ProcessSupervisor("[s] a (rank 0)", _python(code), FAST, say=lines.append)
    supervisor.start()
    assert _run(supervisor) == 0
    assert seen.read_text().splitlines() == ["-|-", "1|exit code 1", "2|exit code 1"]
    assert lines == [
        "[s] a (rank 0) died: exit code 1; restart 1/3",
        "[s] a (rank 0) died: exit code 1; restart 2/3",
    ]
    assert supervisor.restarts == 2 and not supervisor.gave_up


def test_sigkill_is_restarted_then_the_budget_runs_out(tmp_path):
    lines: list[str] = []
    gave_up: list[tuple[int, str]] = []
    policy = RestartPolicy(max_restarts=1, first_delay_s=0.01)
    supervisor = ProcessSupervisor(
        "[s] a (rank 1)",
        _python("import time; time.sleep(60)"),
        policy,
        say=lines.append,
        on_give_up=lambda n, cause: gave_up.append((n, cause)),
    )
    supervisor.start()
    for _ in range(2):
        proc = supervisor.proc
        assert proc is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while supervisor.check() is None and supervisor.proc is proc:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    assert _run(supervisor) == 1
    assert lines == [
        "[s] a (rank 1) died: signal 9; restart 1/1",
        "[s] a (rank 1) gave up after 1 restarts: signal 9",
    ]
    assert gave_up == [(1, "signal 9")] and supervisor.gave_up


def test_stop_means_no_restart(tmp_path):
    supervisor = ProcessSupervisor("[s] a (rank 0)", _python("import time; time.sleep(60)"), FAST)
    supervisor.start()
    assert supervisor.running and supervisor.check() is None
    supervisor.stop()
    assert supervisor.proc is not None
    supervisor.proc.terminate()
    assert _run(supervisor) == 1 and supervisor.restarts == 0


def test_without_a_policy_the_exit_code_is_passed_on():
    supervisor = ProcessSupervisor("[s] x", _python("import sys; sys.exit(3)"), None)
    supervisor.start()
    assert _run(supervisor) == 3 and supervisor.restarts == 0


def test_the_rank_supervisor_imports_no_academy_ray_or_model_stack():
    probe = (
        "import sys, chia.site.supervisor; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'academy', 'ray', 'langchain', 'langchain_core', 'openai', 'aiohttp'}))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
