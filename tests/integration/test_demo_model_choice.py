"""`chia demo --model`: without the key it stays offline and says so; a bad ref is exit 2."""

from __future__ import annotations

import os


def test_model_without_key_stays_offline(chia, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    result = chia(
        "demo",
        "--runs-dir",
        str(tmp_path),
        "--run-id",
        "demo-m",
        "--model",
        "openai:gpt-5-mini",
        env=env,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OPENAI_API_KEY" in result.stdout and "staying offline" in result.stdout
    assert "counter = 10" in result.stdout


def test_unknown_provider_is_a_usage_error_before_anything_starts(chia, tmp_path):
    result = chia("demo", "--runs-dir", str(tmp_path), "--model", "bogus:x")
    assert result.returncode == 2
    assert "unknown lm provider 'bogus'" in result.stderr
    assert list(tmp_path.iterdir()) == []
