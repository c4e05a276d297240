"""A profile's ``venv`` runs the site's processes and ``remote_root`` is their directory.

The venv is a real one made with ``python -m venv`` in tmp_path; chia reaches it through
a ``.pth`` file (as an install would), and a second ``.pth`` line records, for every
interpreter of that venv that starts, its pid, ``sys.prefix``, working directory and
command line: the proof that the venv's Python is the one that ran.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from chia.testing.sites import SiteRunner

RECORDER = (
    "import json, os, sys; d = os.environ.get('CHIA_TEST_VENV_MARKS'); "
    "d and open(os.path.join(d, str(os.getpid())), 'w').write(json.dumps({'prefix': "
    "sys.prefix, 'cwd': os.getcwd(), 'argv': open('/proc/self/cmdline').read().split('\\0')}))"
)


def _venv(root: Path) -> Path:
    """A real venv whose ``site-packages`` also load this checkout's environment."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    ours = sysconfig.get_paths()["purelib"]
    (site_packages,) = root.glob("lib/python*/site-packages")
    (site_packages / "chia_checkout.pth").write_text(
        f"import site; site.addsitedir({ours!r})\n{RECORDER}\n"
    )
    return root


def _marks(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(folder.iterdir())]


@pytest.mark.parametrize("launcher", ["local", "mpiexec"])
def test_the_profiles_venv_runs_every_process_in_remote_root(tmp_path, redis, launcher):
    venv = _venv(tmp_path / "site venv")
    root = tmp_path / "remote-root"
    root.mkdir()
    marks = tmp_path / "marks"
    marks.mkdir()
    profile = tmp_path / "hpc.json"
    profile.write_text(
        json.dumps(
            {
                "name": "hpc",
                "venv": str(venv),
                "remote_root": str(root),
                "launcher": {"kind": launcher},
            }
        )
    )
    sites = SiteRunner(tmp_path)
    try:
        site = sites.start(
            "--system",
            str(profile),
            "--campaign",
            "federated-chat",
            "--run-id",
            "venv-1",
            "--exchange",
            "redis",
            "--exchange-url",
            redis.url(9),
            "--agents",
            "agent-aurora,agent-crux",
            env={"CHIA_TEST_VENV_MARKS": str(marks)},
        )
        assert site.wait(timeout=90) == 0, site.output
    finally:
        sites.stop_all()
    ran = _marks(marks)
    module = "chia.site.supervisor" if launcher == "mpiexec" else "chia.site.host"
    hosts = [m for m in ran if "chia.site.host" in m["argv"]]
    assert len(hosts) == 2, ran  # one per agent, both from the profile's venv
    assert any(module in m["argv"] for m in ran)
    for mark in ran:
        assert mark["prefix"] == str(venv) and mark["cwd"] == str(root)
        assert mark["argv"][0] == str(venv / "bin" / "python")
    statuses = sites.runs_dir / "venv-1" / "hpc" / "status"
    assert {json.loads(p.read_text())["result"] for p in statuses.glob("*.json")} == {
        "counter = 10"
    }


def test_a_missing_venv_or_remote_root_is_refused_naming_the_field(tmp_path, chia):
    for field, value, fix in (
        ("venv", str(tmp_path / "nowhere"), "has no bin/python on this machine"),
        ("remote_root", str(tmp_path / "nowhere"), "is not a directory on this machine"),
    ):
        profile = tmp_path / f"{field}.json"
        profile.write_text(json.dumps({"name": "hpc", field: value}))
        done = chia(
            "spawn-site",
            "--system",
            str(profile),
            "--campaign",
            "federated-chat",
            "--run-id",
            "venv-2",
            "--exchange",
            "local",
            "--agents",
            "agent-aurora,agent-crux",
            "--runs-dir",
            str(tmp_path / "runs"),
        )
        assert done.returncode == 2, done.stdout + done.stderr
        error = " ".join(done.stderr.split())
        assert f"profile hpc: {field} {value} {fix}" in error
        assert f"remove {field} from the profile" in error
