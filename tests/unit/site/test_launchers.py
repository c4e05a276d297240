from __future__ import annotations

import sys
from pathlib import Path

import pytest

from chia.errors import ChiaUsageError
from chia.exchange import ExchangeSettings
from chia.profiles import LauncherSettings, SystemProfile
from chia.site.launch import SiteLaunch
from chia.site.launchers import LocalLauncher, MpiexecLauncher, make_launcher

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
    assert argv[10:13] == [sys.executable, "-m", "chia.site.host"]


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
    import time

    log = tmp_path / "logs" / "a.log"
    deadline = time.monotonic() + 10
    while not (log.exists() and "hello" in log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert launcher.poll() is None
    launcher.terminate(grace_s=2)
    assert launcher.poll() is not None
    assert "hello" in capsys.readouterr().out
