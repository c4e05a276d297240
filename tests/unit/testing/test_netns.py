"""chia.testing.netns: a one-site topology is built, isolates compute, and leaves nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from chia.testing.netns import (
    ETC_NETNS,
    LAPTOP_ADDRESS,
    PREFIX,
    Topology,
    netns_available,
    sweep_stale,
)
from chia.testing.netprobe import probe_argv

pytestmark = pytest.mark.skipif(netns_available() is not None, reason=str(netns_available()))


def _listed() -> str:
    return subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout


def test_compute_reaches_only_its_login_and_everything_goes(tmp_path):
    with Topology(sites=("aurora",), workdir=tmp_path) as topo:
        assert all(topo.name(role) in _listed() for role in topo.roles())
        login_addr = topo.address("aurora-login", "aurora-compute")
        server = [sys.executable, "-m", "http.server", "--bind", LAPTOP_ADDRESS, "8765"]
        topo.popen("laptop", *server, log=tmp_path / "http.log")
        listener = [sys.executable, "-m", "http.server", "--bind", login_addr, "8766"]
        topo.popen("aurora-login", *listener, log=tmp_path / "login.log")

        def reaches(role: str, host: str, port: int) -> bool:
            deadline = time.monotonic() + 10
            while True:  # the servers take a moment to listen
                done = topo.run(role, *probe_argv("direct", host, port))
                if done.returncode == 0 or time.monotonic() > deadline:
                    return done.returncode == 0
                if "unreachable" in done.stdout:
                    return False  # no route: waiting will not change it
                time.sleep(0.1)

        assert reaches("aurora-login", LAPTOP_ADDRESS, 8765)
        assert reaches("aurora-compute", login_addr, 8766)
        assert not reaches("aurora-compute", LAPTOP_ADDRESS, 8765)
        assert topo.run("aurora-compute", "ip", "route", "show", "default").stdout == ""
        topo.set_link("laptop", "aurora-login", up=False)
        assert not reaches("aurora-login", LAPTOP_ADDRESS, 8765)
        topo.set_link("laptop", "aurora-login", up=True)
        assert reaches("aurora-login", LAPTOP_ADDRESS, 8765)
        left = topo.processes_left()
        assert left["laptop"] and left["aurora-login"]
        prefix = topo.prefix
    assert prefix not in _listed()


def test_an_exception_inside_removes_everything(tmp_path):
    with pytest.raises(RuntimeError, match="boom"), Topology(sites=("crux",)) as topo:
        prefix = topo.prefix
        topo.popen("crux-compute", "sleep", "600", log=tmp_path / "sleep.log")
        raise RuntimeError("boom")
    assert prefix not in _listed()


def test_the_namespaces_of_a_killed_run_are_swept(tmp_path):
    # A real run SIGKILLed while its topology is open (no cleanup of its own runs).
    code = (
        "import sys, time\n"
        "from chia.testing.netns import Topology\n"
        "t = Topology(sites=('crux',)).__enter__()\n"
        "t.popen('crux-login', 'sleep', '600', log=__import__('pathlib').Path(sys.argv[1]))\n"
        "print(t.prefix, flush=True)\n"
        "time.sleep(600)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path / "s.log")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        prefix = proc.stdout.readline().strip()
        assert prefix.startswith(PREFIX) and prefix in _listed()
        assert prefix not in sweep_stale() and prefix in _listed()  # its owner is alive
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    swept = sweep_stale()
    assert any(name.startswith(prefix) for name in swept)
    assert prefix not in _listed()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_removes_everything(tmp_path, signum):
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from chia.testing.netns import Topology\n"
        "with Topology(sites=('aurora',)) as t:\n"
        "    t.popen('aurora-compute', 'sleep', '600', log=Path(sys.argv[1]))\n"
        "    print(t.prefix, flush=True)\n"
        "    time.sleep(600)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path / "s.log")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        prefix = proc.stdout.readline().strip()
        assert prefix in _listed()
        proc.send_signal(signum)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert prefix not in _listed()


def test_a_named_host_resolves_only_in_its_namespace_and_goes_with_it(tmp_path):
    with Topology(sites=("aurora",), workdir=tmp_path) as topo:
        login = topo.address("aurora-login", "aurora-compute")
        topo.name_host("aurora-compute", "aurora-login", login)
        hosts_dir = ETC_NETNS / topo.name("aurora-compute")
        assert (hosts_dir / "hosts").is_file()
        found = topo.run("aurora-compute", "getent", "hosts", "aurora-login")
        assert found.returncode == 0 and found.stdout.split()[0] == login, found
        assert topo.run("aurora-login", "getent", "hosts", "aurora-login").returncode != 0
        assert topo.run("aurora-compute", "getent", "hosts", "localhost").returncode == 0
    assert not hosts_dir.exists()
