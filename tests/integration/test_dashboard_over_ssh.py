"""An operator watches a two-site run from a laptop: `chia dashboard RUN --system a,b`.

The two "HPC login nodes" are one real sshd on 127.0.0.1 reached under two aliases; each
site's run root is its own directory. Mirrors are real rsync over one ControlMaster per
site; Ctrl-C tears everything down.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from chia.events import EventWriter, Note, events_path
from chia.testing import free_port
from chia.testing.processes import background_command
from chia.testing.sample_run import write_two_site_run
from chia.testing.sshd import sshd_server

CHIA = str(Path(sys.executable).parent / "chia")
URL = r"dashboard: (http://127\.0\.0\.1:\d+/)"


@pytest.fixture(scope="module")
def sshd():
    with sshd_server(["aurora-login", "crux-login"]) as server:
        yield server


def _profiles(tmp_path: Path, hosts: dict[str, str]) -> tuple[str, dict[str, Path]]:
    roots = {}
    files = []
    for site, host in hosts.items():
        roots[site] = tmp_path / f"{site}-fs" / "runs"
        profile = tmp_path / f"{site}.json"
        profile.write_text(
            json.dumps({"name": site, "remote_host": host, "run_root": str(roots[site])})
        )
        files.append(str(profile))
    return ",".join(files), roots


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def test_two_sites_mirrored_live_and_torn_down_on_ctrl_c(sshd, tmp_path, ssh_control_dir):
    systems, roots = _profiles(tmp_path, {"aurora": "aurora-login", "crux": "crux-login"})
    both = write_two_site_run(tmp_path / "written", "fed-1")
    for site in ("aurora", "crux"):  # each site holds only its own directory
        roots[site].joinpath("fed-1").mkdir(parents=True)
        both.joinpath(site).rename(roots[site] / "fed-1" / site)
    control = ssh_control_dir
    argv = [CHIA, "dashboard", "fed-1", "--system", systems, "--port", "0"]
    argv += ["--mirror-dir", str(tmp_path / "mirror"), "--interval-s", "0.3"]
    argv += ["--ssh-config", str(sshd.ssh_config), "--control-dir", str(control)]
    with background_command(argv, URL) as dashboard:
        url = dashboard.match.group(1)
        assert "[aurora] mirroring" in dashboard.output and "[crux] mirroring" in dashboard.output
        run = _get(url + "api/run")
        assert [(s["site"], s["events"]) for s in run["sites"]] == [("aurora", 3), ("crux", 3)]
        assert len(list(control.iterdir())) == 2  # one ControlMaster per site

        with EventWriter(
            events_path(roots["crux"] / "fed-1" / "crux", "agent-c"),
            run_id="fed-1",
            site="crux",
            writer="agent-c",
        ) as writer:
            writer.emit(Note, message="written on crux")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            new = _get(url + "api/events?after=6")["events"]
            if new:
                break
            time.sleep(0.1)
        assert [e.get("message") for e in new] == ["written on crux"]
        assert dashboard.interrupt() == 0
    assert "[crux] closed the ssh master" in dashboard.output
    assert list(control.iterdir()) == []
    left = subprocess.run(["pgrep", "-f", str(control)], capture_output=True, text=True)
    assert left.stdout == "", "ssh or rsync left running: " + left.stdout


def test_a_site_that_cannot_be_reached_fails_cleanly(sshd, tmp_path, ssh_control_dir):
    config = tmp_path / "ssh_config"
    dead = f"\nHost dead-login\n  HostName 127.0.0.1\n  Port {free_port()}\n"
    config.write_text(sshd.ssh_config.read_text() + dead)
    systems, _ = _profiles(tmp_path, {"aurora": "aurora-login", "crux": "dead-login"})
    control = ssh_control_dir
    argv = [CHIA, "dashboard", "r", "--system", systems, "--ssh-config", str(config)]
    argv += ["--control-dir", str(control), "--mirror-dir", str(tmp_path / "m")]
    result = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "crux: ssh to dead-login failed" in result.stderr
    assert "[aurora] closed the ssh master" in result.stdout
    assert list(control.iterdir()) == []


def test_per_site_override_with_several_sites_is_rejected(tmp_path):
    systems, _ = _profiles(tmp_path, {"aurora": "a", "crux": "c"})
    result = subprocess.run(
        [CHIA, "dashboard", "r", "--system", systems, "--remote-host", "x"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "--remote-host applies to one site" in result.stderr
