"""An operator checks campaign files from the command line."""

from __future__ import annotations

import json

import pytest

from chia.config_files import load_jsonc


def test_packaged_campaign_validates(chia, federated_chat_dir):
    result = chia("campaign", "validate", str(federated_chat_dir))
    assert result.returncode == 0, result.stderr
    assert "ok:" in result.stdout


def test_plan_prints_sites_and_commands(chia):
    result = chia("campaign", "plan", "federated-chat", "--run-id", "demo-7")
    assert result.returncode == 0, result.stderr
    assert "aurora" in result.stdout and "crux" in result.stdout
    assert "chia spawn-site --system aurora --agents agent-aurora" in result.stdout
    assert "chia bootstrap" in result.stdout and "demo-7" in result.stdout


def _campaign_with(tmp_path, federated_chat_dir, mutate):
    data = load_jsonc(federated_chat_dir / "campaign.jsonc")
    mutate(data)
    directory = tmp_path / "c"
    directory.mkdir()
    (directory / "prompt_profiles").mkdir()
    (directory / "prompt_profiles" / "default.json").write_text(
        (federated_chat_dir / "prompt_profiles" / "default.json").read_text()
    )
    (directory / "campaign.jsonc").write_text(json.dumps(data))
    return directory


def test_self_peer_exits_2_naming_the_agent(chia, tmp_path, federated_chat_dir):
    directory = _campaign_with(
        tmp_path, federated_chat_dir, lambda d: d["agents"][1]["allowed_peers"].append("agent-crux")
    )
    result = chia("campaign", "validate", str(directory))
    assert result.returncode == 2
    assert "'agent-crux' lists itself in allowed_peers" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_key_exits_2_naming_key_and_file(chia, tmp_path, federated_chat_dir):
    directory = _campaign_with(tmp_path, federated_chat_dir, lambda d: d["lm"].update(temp=0))
    result = chia("campaign", "validate", str(directory))
    assert result.returncode == 2
    assert "unknown key 'lm.temp'" in result.stderr
    assert str(directory / "campaign.jsonc") in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["campaign", "validate", "no/such/campaign"], "no such campaign file"),
        (["campaign", "plan", "federated-chat", "--run-id", "bad id!"], "invalid run id 'bad id!'"),
        (["campaign", "validate", "federated-chat", "--agents", "agent-x"], "unknown agent"),
        (["profile", "show", "frontier"], "no such profile"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(chia, args, expected):
    result = chia(*args)
    assert result.returncode == 2, result.stdout
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_syntax_error_reports_line_and_column(chia, tmp_path):
    path = tmp_path / "broken.jsonc"
    path.write_text('{\n  "name": "x",\n  "agents": [,]\n}\n')
    result = chia("campaign", "validate", str(path))
    assert result.returncode == 2
    assert f"{path}:3:14: JSON syntax error" in result.stderr


def test_schema_and_version(chia):
    schema = json.loads(chia("campaign", "schema").stdout)
    assert "agents" in schema["properties"]
    profile_schema = json.loads(chia("profile", "schema").stdout)
    assert "launcher" in profile_schema["properties"]
    version = chia("--version")
    assert version.returncode == 0 and version.stdout.startswith("chia ")


def test_profile_show_expands_from_environment(chia):
    result = chia("profile", "show", "polaris", env={"ALCF_PROJECT": "p", "ALCF_USER": "u"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["remote_host"] == "u@polaris.alcf.anl.gov"
    listing = chia("profile", "list")
    assert all(name in listing.stdout for name in ("aurora", "polaris", "crux", "local"))
