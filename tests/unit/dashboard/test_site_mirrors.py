from __future__ import annotations

import json

import pytest

from chia.dashboard.site_mirrors import MirrorSettings, SiteRemote, mirrored_sites, site_remotes
from chia.dashboard.ssh import SshError
from chia.errors import ChiaUsageError
from chia.testing import free_port
from chia.testing.sample_run import write_two_site_run


def _profile(path, name, host, run_root):
    path.write_text(json.dumps({"name": name, "remote_host": host, "run_root": str(run_root)}))
    return str(path)


def test_site_remotes_from_profile_files(tmp_path):
    a = _profile(tmp_path / "a.json", "aurora", "u@a", "/ra")
    c = _profile(tmp_path / "c.json", "crux", "u@c", "/rc")
    assert site_remotes(f"{a}, {c}") == [
        SiteRemote("aurora", "u@a", "/ra"),
        SiteRemote("crux", "u@c", "/rc"),
    ]
    assert site_remotes(a, remote_host="other", remote_run_root="/x") == [
        SiteRemote("aurora", "other", "/x")
    ]
    assert SiteRemote("aurora", "h", "/r/").run_dir("run") == "/r/run/aurora"


@pytest.mark.parametrize(
    ("systems", "kwargs", "message"),
    [
        ("{a},{c}", {"remote_host": "x"}, "--remote-host applies to one site"),
        ("{a},{c}", {"remote_run_root": "/x"}, "--remote-run-root applies to one site"),
        ("{a},", {}, "empty entry"),
        ("{a},{a}", {}, "twice"),
        ("local", {}, "no remote_host"),
    ],
)
def test_bad_system_lists_are_rejected(tmp_path, systems, kwargs, message):
    a = _profile(tmp_path / "a.json", "aurora", "u@a", "/ra")
    c = _profile(tmp_path / "c.json", "crux", "u@c", "/rc")
    with pytest.raises(ChiaUsageError, match=message):
        site_remotes(systems.format(a=a, c=c), **kwargs)


def test_two_sites_mirrored_then_torn_down(sshd, tmp_path, ssh_control_dir):
    remote = tmp_path / "remote"
    write_two_site_run(remote, "r")
    remotes = [
        SiteRemote("aurora", "aurora-login", str(remote)),
        SiteRemote("crux", "crux-login", str(remote)),
    ]
    settings = MirrorSettings(tmp_path / "m", 0.2, sshd.ssh_config, ssh_control_dir)
    with mirrored_sites("r", remotes, settings, say=lambda _: None) as mirrors:
        masters = [mirror.master for mirror in mirrors.values()]
        assert all(master.alive() for master in masters)
        assert (tmp_path / "m" / "r" / "crux" / "placement.json").is_file()
    assert not any(master.alive() for master in masters)
    assert list(ssh_control_dir.iterdir()) == []


def test_partial_failure_tears_down_the_sites_already_up(sshd, tmp_path, ssh_control_dir):
    config = tmp_path / "cfg"
    config.write_text(
        sshd.ssh_config.read_text() + f"\nHost dead\n  HostName 127.0.0.1\n  Port {free_port()}\n"
    )
    remotes = [SiteRemote("aurora", "aurora-login", str(tmp_path)), SiteRemote("crux", "dead", "/")]
    settings = MirrorSettings(tmp_path / "m", 0.2, config, ssh_control_dir, connect_timeout_s=10)
    with pytest.raises(SshError, match="crux"), mirrored_sites("r", remotes, settings, say=print):
        pass
    assert list(ssh_control_dir.iterdir()) == []
