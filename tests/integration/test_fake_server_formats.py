"""`chia llm fake-server --format` serves each wire format for dry runs, in its own process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chia.llm import ChatMessage, make_llm

CHIA = str(Path(sys.executable).parent / "chia")
KEY = "sk-dry-run-4d3c2b1a00ff"


@pytest.mark.parametrize("wire", ["anthropic", "bedrock", "vertex", "openai"])
def test_fake_server_format_answers_its_provider(wire, tmp_path, monkeypatch):
    (tmp_path / "script.json").write_text(json.dumps([{"content": f"hello from {wire}"}]))
    env = {**os.environ, "DRY_KEY": KEY, "AWS_ACCESS_KEY_ID": "AKIADRY",
           "AWS_SECRET_ACCESS_KEY": KEY}  # fmt: skip
    url_file, record, adc = tmp_path / "url", tmp_path / "record.jsonl", tmp_path / "adc.json"
    argv = [CHIA, "llm", "fake-server", "--format", wire, "--script", str(tmp_path / "script.json"),
            "--url-file", str(url_file), "--record", str(record), "--region", "eu-north-1",
            "--project", "dry", "--location", "us-east4", "--adc-file", str(adc)]  # fmt: skip
    if wire in ("anthropic", "openai"):
        argv += ["--api-key-env", "DRY_KEY"]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not (url_file.is_file() and url_file.read_text().strip()):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read()
            time.sleep(0.05)
        url = url_file.read_text().strip()
        monkeypatch.setenv("DRY_KEY", KEY)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIADRY")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", KEY)
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
        model = {
            "anthropic": ("claude-haiku-4-5", {"api_key_env": "DRY_KEY"}),
            "bedrock": ("amazon.nova-micro-v1:0", {"region": "eu-north-1"}),
            "vertex": ("gemini-2.5-flash", {"project": "dry", "location": "us-east4"}),
            "openai": ("gpt-4.1-nano", {"api_key_env": "DRY_KEY"}),
        }[wire]
        llm = make_llm(wire, model[0], base_url=url, **model[1])
        assert llm.complete_sync([ChatMessage.user("hi")]).content == f"hello from {wire}"
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=10)[0].decode()
    assert proc.returncode == 0, output
    assert f"fake {wire} server on" in output and "served 1 request(s)" in output
    assert KEY not in record.read_text()  # credential headers are masked on disk
