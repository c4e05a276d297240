from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from chia.errors import ChiaUsageError
from chia.exchange import ExchangeSettings
from chia.profiles import LauncherSettings, SystemProfile
from chia.site.launch import SiteLaunch
from chia.site.launcher_registry import make_launcher
from chia.site.launchers import LocalLauncher, MpiexecLauncher

HOSTED = ExchangeSettings(kind="http", url="https://exchange.example.org/v1")


def _launch(tmp_path, exchange, agents=("a", "b"), launcher="local"):
    return SiteLaunch(
        run_id="r",
        site="s",
        profile="p",
        campaign_path=tmp_path / "c.jsonc",
        agents=list(agents),
        exchange=exchange,
        launcher=launcher,
        site_dir=tmp_path,
        startup_timeout_s=5,
        bootstrap=False,
    )


def test_local_launcher_one_process_per_rank(tmp_path):
    launcher = LocalLauncher(_launch(tmp_path, HOSTED), {})
    commands = launcher.commands()
    assert [name for _, name in commands] == ["a", "b"]
    assert commands[1][0][-2:] == ["--rank", "1"]
    assert commands[0][0][:3] == [sys.executable, "-m", "chia.site.host"]


def test_local_exchange_hosts_everything_in_one_process(tmp_path):
    commands = LocalLauncher(_launch(tmp_path, ExchangeSettings(kind="local")), {}).commands()
    assert len(commands) == 1 and commands[0][0][-1] == "--all"


def test_mpiexec_command_line_forwards_proxies_with_genv(tmp_path):
    profile = SystemProfile(
        name="p", launcher=LauncherSettings(kind="mpiexec", ppn=4, flags=["--cpu-bind", "depth"])
    )
    env = {"https_proxy": "http://proxy:3128", "PATH": str(Path(sys.executable).parent)}
    launcher = MpiexecLauncher(_launch(tmp_path, HOSTED, launcher="mpiexec"), env, profile)
    ((argv, name),) = launcher.commands()
    assert name == "mpiexec"
    assert Path(argv[0]).name == "mpiexec" and argv[1:3] == ["-n", "2"]
    assert argv[3:7] == ["-ppn", "4", "--cpu-bind", "depth"]
    assert argv[7:10] == ["-genv", "https_proxy", "http://proxy:3128"]
    # Each rank is a supervisor that runs (and restarts) the host as its child.
    assert argv[10:] == [
        sys.executable,
        "-m",
        "chia.site.supervisor",
        str(tmp_path / "launch.json"),
    ]
    assert launcher.supervised(0) is None  # the ranks restart their hosts, not spawn-site


def test_mpiexec_refuses_the_in_process_exchange_and_missing_binary(tmp_path):
    profile = SystemProfile(name="p", launcher=LauncherSettings(kind="mpiexec", command="nope-mpi"))
    local = MpiexecLauncher(_launch(tmp_path, ExchangeSettings(kind="local")), {}, profile)
    with pytest.raises(ChiaUsageError, match="in-process"):
        local.commands()
    missing = MpiexecLauncher(_launch(tmp_path, HOSTED), {"PATH": "/nonexistent"}, profile)
    with pytest.raises(ChiaUsageError, match="'nope-mpi' not found"):
        missing.commands()


def test_ray_launcher_needs_a_cluster(tmp_path):
    with pytest.raises(ChiaUsageError, match="chia up"):
        make_launcher(_launch(tmp_path, HOSTED, launcher="ray"), SystemProfile(name="p"), {})


def test_launcher_start_echoes_logs_and_terminate_stops(tmp_path, capsys):
    launcher = LocalLauncher(_launch(tmp_path, HOSTED, agents=("a",)), {})
    launcher.commands = lambda: [  # type: ignore[method-assign]
        ([sys.executable, "-c", "print('hello', flush=True); import time; time.sleep(60)"], "a")
    ]
    launcher.start()
    log = tmp_path / "logs" / "a.log"
    deadline = time.monotonic() + 10
    while not (log.exists() and "hello" in log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert launcher.poll() is None and launcher.alive()
    launcher.terminate(grace_s=2)
    assert launcher.poll() is not None and not launcher.alive()
    assert "hello" in capsys.readouterr().out


def test_local_launcher_restarts_a_killed_host_into_the_same_log(tmp_path, capsys):
    launch = _launch(tmp_path, HOSTED, agents=("a", "b")).model_copy(update={"max_restarts": 1})
    launcher = LocalLauncher(launch, {})
    assert launcher.supervised(1) == (["b"], 1)
    script = (
        "import os, time; print('up', os.environ.get('CHIA_RESTART'), flush=True); time.sleep(60)"
    )
    launcher.commands = lambda: [([sys.executable, "-c", script], "b")]  # type: ignore[method-assign]
    launcher.start()
    log = tmp_path / "logs" / "b.log"
    first = launcher.pids()
    try:
        _wait_for(lambda: log.exists() and "up None" in log.read_text())
        os.kill(first[0], signal.SIGKILL)
        _wait_for(lambda: launcher.poll() is None and launcher.pids() not in ([], first))
        _wait_for(lambda: "up 1" in log.read_text())
        assert log.read_text().splitlines() == ["up None", "up 1"]  # appended, one log
        out = capsys.readouterr().out
        assert "[s] a (rank 0) died: signal 9; restart 1/1" in out  # command 0 is rank 0
    finally:
        launcher.terminate(grace_s=2)
    assert launcher.poll() == [1] and not launcher.alive()


def test_local_exchange_host_is_supervised_as_rank_0(tmp_path):
    launcher = LocalLauncher(_launch(tmp_path, ExchangeSettings(kind="local")), {})
    assert launcher.supervised(0) == (["a", "b"], 0)


def _wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.02)
