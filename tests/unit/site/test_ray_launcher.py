from __future__ import annotations

import sys

import pytest

from chia.errors import ChiaUsageError
from chia.exchange import ExchangeSettings
from chia.profiles import SystemProfile
from chia.site.launch import SiteLaunch
from chia.site.launcher_registry import make_launcher
from chia.site.ray_launcher import RayLauncher, cluster_client_env

REDIS = ExchangeSettings(kind="redis", redis_host="127.0.0.1", redis_port=6379)


def _launch(tmp_path, exchange=REDIS, address="127.0.0.1:6390", resources=None):
    return SiteLaunch(
        run_id="r",
        site="s",
        profile="p",
        campaign_path=tmp_path / "c.jsonc",
        agents=["a", "b"],
        exchange=exchange,
        launcher="ray",
        site_dir=tmp_path,
        startup_timeout_s=5,
        bootstrap=False,
        ray_address=address,
        ray_resources=resources or {},
    )


def test_one_driver_process_with_the_address(tmp_path, monkeypatch):
    monkeypatch.setenv("CHIA_CLUSTERS_DIR", str(tmp_path / "none"))
    launcher = make_launcher(_launch(tmp_path), SystemProfile(name="p"), {"PATH": "/bin"})
    assert isinstance(launcher, RayLauncher) and launcher.kind == "ray"
    ((argv, log),) = launcher.commands()
    assert argv[:3] == [sys.executable, "-m", "chia.site.ray_driver"] and log == "ray"
    assert launcher.env["RAY_ADDRESS"] == "127.0.0.1:6390" and launcher.env["PATH"] == "/bin"


def test_needs_an_address_and_a_shared_exchange(tmp_path):
    with pytest.raises(ChiaUsageError, match="--ray-address"):
        RayLauncher(_launch(tmp_path, address=None), {})
    with pytest.raises(ChiaUsageError, match="in-process"):
        RayLauncher(_launch(tmp_path, exchange=ExchangeSettings(kind="local")), {})


def test_cluster_file_or_live_address_brings_its_auth_env(tmp_path, monkeypatch):
    from chia.cluster.state import ClusterState

    monkeypatch.setenv("CHIA_CLUSTERS_DIR", str(tmp_path))
    env = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": "/t"}
    ClusterState(
        cluster_name="lab", config_path="x", head_address="127.0.0.1:9", client_env=env
    ).save()
    file = tmp_path / "lab.yaml"
    file.write_text("cluster_name: lab\nprovider: {head_ip: 127.0.0.1}\n")
    assert cluster_client_env(str(file)) == ("127.0.0.1:9", env)
    assert cluster_client_env("127.0.0.1:9") == ("127.0.0.1:9", env)
    assert cluster_client_env("10.0.0.1:6379") == ("10.0.0.1:6379", {})
    file.write_text("cluster_name: other\nprovider: {head_ip: 127.0.0.1}\n")
    with pytest.raises(ChiaUsageError, match="not up"):
        cluster_client_env(str(file))
