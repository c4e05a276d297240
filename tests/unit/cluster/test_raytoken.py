from __future__ import annotations

import stat
import subprocess

from chia.cluster.loading import parse_cluster
from chia.cluster.raytoken import client_env, install_script, local_token, node_env

FILE = "cluster_name: k\nprovider: {head_ip: 127.0.0.1, temp_root: /tmp/r}\n"


def test_token_resolution_order(tmp_path, monkeypatch):
    config = parse_cluster(FILE)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("RAY_AUTH_TOKEN_PATH", raising=False)
    monkeypatch.setenv("RAY_AUTH_TOKEN", "from-env")
    assert local_token(config, tmp_path / "s") == "from-env"
    monkeypatch.delenv("RAY_AUTH_TOKEN")
    token = local_token(config, tmp_path / "s")
    assert len(token) == 64 and (tmp_path / "s").read_text() == token
    assert stat.S_IMODE((tmp_path / "s").stat().st_mode) == 0o600
    (tmp_path / ".ray").mkdir()
    (tmp_path / ".ray" / "auth_token").write_text("home\n")
    assert local_token(config, tmp_path / "s") == "home"
    off = parse_cluster(FILE.replace("}", ", ray_auth: disabled}"))
    assert local_token(off, tmp_path / "s") is None
    assert node_env(off) == {"RAY_AUTH_MODE": "disabled"}


def test_install_script_keeps_the_token_private(tmp_path):
    path = tmp_path / "d" / "auth_token"
    subprocess.run(["sh", "-c", install_script(str(path))], input="tok", text=True, check=True)
    assert path.read_text() == "tok" and stat.S_IMODE(path.stat().st_mode) == 0o600
    env = client_env(parse_cluster(FILE), "127.0.0.1:9", path)
    assert env == {
        "RAY_ADDRESS": "127.0.0.1:9",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN_PATH": str(path),
    }
