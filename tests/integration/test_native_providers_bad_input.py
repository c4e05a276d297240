"""Bad model settings for the native providers: exit 2 naming the field, before any process.

``chia campaign validate`` catches what needs no key or network (an unknown provider, a
field for another provider); ``chia spawn-site`` also builds the model, so a missing
region, project, credentials or integration is caught there, before any rank starts.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLEAN = ("AWS_", "GOOGLE_", "ANTHROPIC_", "GEMINI_", "CLOUDSDK_")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(CLEAN)}
    env.update(AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_EC2_METADATA_DISABLED="true")
    env.update(AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"), HOME=str(tmp_path))
    env.update(NO_GCE_CHECK="true", **extra)
    return env


def _campaign(tmp_path: Path, lm: dict) -> Path:
    copy = tmp_path / "federated-chat-mcp"
    shutil.copytree(REPO / "campaigns" / "federated-chat-mcp", copy)
    path = copy / "campaign.jsonc"
    text = path.read_text()
    start = text.index('"lm": {')
    end = text.index("},", start) + 2
    path.write_text(text[:start] + f'"lm": {json.dumps(lm)},' + text[end:])
    return path


@pytest.mark.parametrize(
    ("lm", "expected"),
    [
        ({"provider": "claude", "model": "x"},
         "lm.provider 'claude' is unknown; known: anthropic, argo, bedrock"),
        ({"provider": "vertex", "model": "gemini-2.5-pro", "region": "us-east-1"},
         "lm.region applies to lm.provider bedrock, not 'vertex'"),
        ({"provider": "anthropic", "model": "claude-sonnet-4-5", "project": "p"},
         "lm.project applies to lm.provider vertex, not 'anthropic'"),
        ({"provider": "vertex", "model": "gpt-5-mini"},
         "lm.model 'gpt-5-mini' is not a model lm provider 'vertex' serves (e.g. gemini-2.5-pro)"),
    ],
)  # fmt: skip
def test_campaign_validate_names_the_lm_field(chia, tmp_path, lm, expected):
    result = chia("campaign", "validate", str(_campaign(tmp_path, lm)), env=_env(tmp_path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert expected in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("model", "env", "expected"),
    [
        ("bedrock:amazon.nova-pro-v1:0",
         {"AWS_ACCESS_KEY_ID": "AKIAX", "AWS_SECRET_ACCESS_KEY": "secret"},
         "lm provider 'bedrock' needs lm.region (or AWS_REGION)"),
        ("bedrock:amazon.nova-pro-v1:0", {"AWS_REGION": "us-east-1"},
         "found no AWS credentials: export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
        ("vertex:gemini-2.5-pro", {}, "found no application-default credentials: export "
         "GOOGLE_APPLICATION_CREDENTIALS"),
        ("anthropic:claude-sonnet-4-5", {},
         "lm.api_key_env names ANTHROPIC_API_KEY, which is not set"),
        ("mistral:large", {}, "unknown lm provider 'mistral'; known: anthropic, argo, bedrock"),
    ],
)  # fmt: skip
def test_spawn_site_refuses_before_any_process(chia, tmp_path, model, env, expected):
    runs = tmp_path / "runs"
    result = chia(
        "spawn-site", "--system", "local", "--campaign", "federated-chat-mcp", "--run-id",
        "bad-lm", "--site", "here", "--agents", "agent-aurora,agent-crux", "--exchange",
        "local", "--runs-dir", str(runs),
        "--model", model, env=_env(tmp_path, **env), timeout=120,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert expected in output and "Traceback" not in output
    assert not (runs / "bad-lm").exists()  # nothing was started or written


def test_spawn_site_vertex_without_a_project(chia, tmp_path):
    adc = tmp_path / "adc.json"
    adc.write_text(json.dumps({
        "type": "authorized_user", "client_id": "c", "client_secret": "s", "refresh_token": "r",
    }))  # fmt: skip
    result = chia(
        "spawn-site", "--system", "local", "--campaign", "federated-chat-mcp", "--run-id",
        "bad-lm", "--site", "here", "--agents", "agent-aurora,agent-crux", "--exchange",
        "local", "--runs-dir", str(tmp_path / "runs"),
        "--model", "vertex:gemini-2.5-pro",
        env=_env(tmp_path, GOOGLE_APPLICATION_CREDENTIALS=str(adc)), timeout=120,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "lm provider 'vertex' needs lm.project (or GOOGLE_CLOUD_PROJECT)" in output
