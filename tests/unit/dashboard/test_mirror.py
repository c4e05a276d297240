from __future__ import annotations

import time

from chia.dashboard.mirror import RsyncMirror
from chia.dashboard.ssh import SshMaster, SshTarget
from chia.testing.sample_run import write_two_site_run


def test_mirror_copies_then_follows_appends(sshd, tmp_path):
    run = write_two_site_run(tmp_path / "remote", "r")
    lines: list[str] = []
    with SshMaster(SshTarget("aurora", "aurora-login", sshd.ssh_config), control_dir=tmp_path) as m:
        local = tmp_path / "mirror" / "r" / "aurora"
        with RsyncMirror(m, str(run / "aurora"), local, interval_s=0.1, say=lines.append):
            assert (local / "events" / "agent-a.jsonl").read_bytes() == (
                run / "aurora" / "events" / "agent-a.jsonl"
            ).read_bytes()
            with (run / "aurora" / "events" / "agent-a.jsonl").open("ab") as handle:
                handle.write(b'{"partial": ')
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                if (local / "events" / "agent-a.jsonl").read_bytes().endswith(b'{"partial": '):
                    break
                time.sleep(0.05)
            else:
                raise AssertionError("the append never reached the mirror")
    assert any("mirroring" in line for line in lines)


def test_missing_remote_dir_is_waited_for(sshd, tmp_path):
    lines: list[str] = []
    with SshMaster(SshTarget("crux", "crux-login", sshd.ssh_config), control_dir=tmp_path) as m:
        mirror = RsyncMirror(m, str(tmp_path / "not-yet"), tmp_path / "mirror", say=lines.append)
        assert mirror.sync_once() is False and mirror.sync_once() is False
        (tmp_path / "not-yet").mkdir()
        (tmp_path / "not-yet" / "launch.json").write_text("{}")
        assert mirror.sync_once() is True
    assert lines.count(f"[crux] waiting for {tmp_path / 'not-yet'} to appear") == 1
