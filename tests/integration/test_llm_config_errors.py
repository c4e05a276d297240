"""Model settings that cannot work stop `chia spawn-site` at launch: one line, exit 2.

An unknown provider (the known ones are listed), a missing API key variable, and a
template placeholder left in the campaign are all caught before any process starts.
"""

from __future__ import annotations

import shutil

import pytest

SITE = ["spawn-site", "--system", "local", "--agents", "agent-aurora", "--exchange", "local"]


def _placeholder_campaign(tmp_path, federated_chat_dir):
    target = tmp_path / "argo-chat"
    shutil.copytree(federated_chat_dir, target)
    text = (target / "campaign.jsonc").read_text()
    gateway = (
        '"provider": "argo", "model": "gpt5mini", '
        '"base_url": "https://gateway.example/argoapi/v1", "user": "<argo-user>",'
    )
    text = text.replace('"provider": "scripted",\n    "model": "scripted",', gateway)
    (target / "campaign.jsonc").write_text(text)
    return target


@pytest.mark.parametrize(
    ("extra", "env", "expected"),
    [
        (
            ["--model", "bogus:gpt-5-mini"],
            {},
            "unknown lm provider 'bogus'; known: anthropic, argo, bedrock, ",
        ),
        (["--model", "openai:gpt-5-mini"], {"OPENAI_API_KEY": ""}, "names OPENAI_API_KEY"),
        (["--model", "gpt-5-mini"], {}, "expected provider:model"),
        (["--model", "vllm:qwen3"], {}, "lm provider 'vllm' needs lm.base_url"),
        (["--llm-base-url", "http://127.0.0.1:1/v1"], {}, "need --model"),
    ],
)  # fmt: skip
def test_bad_model_flags_exit_2(chia, tmp_path, extra, env, expected):
    runs = tmp_path / "runs"
    result = chia(*SITE, "--campaign", "federated-chat", "--runs-dir", str(runs), *extra, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], lines
    assert not runs.exists()  # nothing was launched or written


def test_placeholder_in_campaign_exit_2(chia, tmp_path, federated_chat_dir):
    campaign = _placeholder_campaign(tmp_path, federated_chat_dir)
    runs = tmp_path / "runs"
    result = chia(*SITE, "--campaign", str(campaign), "--runs-dir", str(runs))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert (
        len(lines) == 1 and "lm.user still holds the template placeholder '<argo-user>'" in lines[0]
    )
    assert not runs.exists()
