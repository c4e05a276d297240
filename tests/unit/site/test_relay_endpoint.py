"""The model endpoint behind a site's relay, read from the relay's host file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chia.campaign.model import LMSettings
from chia.errors import ChiaUsageError
from chia.site.relay_endpoint import RELAY, read_relay_host, resolve_relay, uses_relay
from chia.site.spawn import SpawnRequest, prepare_site

LM = LMSettings(provider="openai_compatible", model="m", base_url=RELAY, api_key_env="KEY")


def test_the_relay_url_is_read_from_the_host_file_and_exempted_from_the_proxy(
    tmp_path: Path,
) -> None:
    host_file = tmp_path / "relay-host-aurora"
    host_file.write_text("aurora-login 18185\n")
    env = {"NO_PROXY": "site.local", "http_proxy": "http://proxy:3128"}
    resolved = resolve_relay(LM, str(host_file), "aurora", env=env)
    assert resolved.base_url == "http://aurora-login:18185/v1"
    assert resolved.api_key_env == "KEY" and resolved.model == "m"
    assert env["no_proxy"] == env["NO_PROXY"] == "site.local,aurora-login"
    assert env["http_proxy"] == "http://proxy:3128"


def test_a_relay_moved_to_another_port_is_found_again(tmp_path: Path) -> None:
    host_file = tmp_path / "relay-host"
    host_file.write_text("uan-0004 18185\n")
    assert resolve_relay(LM, host_file, "crux", env={}).base_url == "http://uan-0004:18185/v1"
    host_file.write_text("uan-0004 40111\n")
    assert resolve_relay(LM, host_file, "crux", env={}).base_url == "http://uan-0004:40111/v1"


def test_settings_without_the_relay_are_left_alone(tmp_path: Path) -> None:
    direct = LM.model_copy(update={"base_url": "http://127.0.0.1:8000/v1"})
    env: dict[str, str] = {}
    assert resolve_relay(direct, None, "aurora", env=env) is direct
    assert env == {} and not uses_relay(direct) and not uses_relay(None) and uses_relay(LM)


def test_a_missing_host_file_names_the_site_and_the_command(tmp_path: Path) -> None:
    with pytest.raises(ChiaUsageError) as caught:
        resolve_relay(LM, tmp_path / "absent", "aurora", env={})
    assert "site aurora" in str(caught.value)
    assert "chia relay start --system aurora" in str(caught.value)


def test_a_profile_without_a_host_file_is_told_to_set_one() -> None:
    with pytest.raises(ChiaUsageError, match=r"site crux: .*relay_host_file"):
        resolve_relay(LM, None, "crux", env={})


@pytest.mark.parametrize("text", ["", "uan-0004", "uan-0004 port", "uan-0004 70000", "a b c"])
def test_a_malformed_host_file_is_refused(tmp_path: Path, text: str) -> None:
    host_file = tmp_path / "relay-host"
    host_file.write_text(text)
    with pytest.raises(ChiaUsageError, match="should hold '<host> <port>'"):
        read_relay_host(host_file, "aurora")


def _relay_request(tmp_path: Path, host_file: Path) -> SpawnRequest:
    profile = tmp_path / "crux.json"
    profile.write_text(json.dumps({"name": "crux", "relay_host_file": str(host_file)}))
    return SpawnRequest(
        system=str(profile),
        campaign="federated-chat",
        agents="agent-crux",
        exchange="local",
        runs_dir=tmp_path / "runs",
        run_id="relay-1",
        model="openai_compatible:m",
        llm_base_url=RELAY,
        llm_api_key_env="CHIA_RELAY_TEST_KEY",
    )


def test_spawn_site_checks_the_host_file_and_leaves_the_rank_to_read_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHIA_RELAY_TEST_KEY", "k")
    host_file = tmp_path / "relay-host-crux"
    with pytest.raises(ChiaUsageError, match="chia relay start --system crux"):
        prepare_site(_relay_request(tmp_path, host_file))
    host_file.write_text("crux-login 18187\n")
    launch, _, _ = prepare_site(_relay_request(tmp_path, host_file))
    assert launch.lm is not None and launch.lm.base_url == RELAY
    assert launch.relay_host_file == str(host_file)
