"""Two sites play federated-chat on the LLM policy, against `chia llm fake-server`.

The model is a reasoning model (gpt-5-mini) behind an OpenAI-compatible endpoint that
replays a script of tool calls; langchain-openai runs its real HTTP path. The requests
it records must be real chat messages with tool schemas and no temperature, the counter
must reach 10, and the API key must never land in the run directory or any log.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from tests.conftest import CHIA

KEY_VAR = "CHIA_TEST_LLM_KEY"
KEY = "sk-test-7f3a9c1e5b2d4f6a8c0e"
PEERS = {"agent-aurora": "agent-crux", "agent-crux": "agent-aurora"}


def _counter_script() -> dict:
    """One reply per turn: aurora sends 1, crux 2, ... crux sends 10 and submits."""
    steps = []
    for counter in range(1, 11):
        sender = "agent-aurora" if counter % 2 else "agent-crux"
        text = f"counter = {counter}"
        calls = [
            {
                "name": "send_message",
                "arguments": {"recipient": PEERS[sender], "content": text, "tldr": text},
            }
        ]
        last = {"name": "submit_result", "arguments": {"result": text}}
        calls.append(last if counter == 10 else {"name": "finish_turn", "arguments": {}})
        steps.append(
            {"tool_calls": calls, "usage": {"prompt_tokens": 200, "completion_tokens": 20}}
        )
    steps.append(
        {
            "tool_calls": [{"name": "submit_result", "arguments": {"result": "counter = 10"}}],
            "usage": {"prompt_tokens": 210, "completion_tokens": 12},
        }
    )
    default = {"tool_calls": [{"name": "finish_turn", "arguments": {"reason": "idle"}}]}
    return {"responses": steps, "default": default}


def _start_fake_server(tmp_path: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str, Path]:
    script = tmp_path / "script.json"
    script.write_text(json.dumps(_counter_script()))
    url_file, record = tmp_path / "url", tmp_path / "requests.jsonl"
    log = (tmp_path / "fake-server.out").open("w")
    proc = subprocess.Popen(
        [
            CHIA,
            "llm",
            "fake-server",
            "--script",
            str(script),
            "--url-file",
            str(url_file),
            "--record",
            str(record),
            "--api-key-env",
            KEY_VAR,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while not (url_file.is_file() and url_file.read_text().strip()):
        assert proc.poll() is None and time.monotonic() < deadline, "fake server did not start"
        time.sleep(0.05)
    return proc, url_file.read_text().strip(), record


def test_two_sites_on_the_llm_policy(sites, chia, http_server, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_VAR, KEY)
    env = {**os.environ, KEY_VAR: KEY}
    server, url, record = _start_fake_server(tmp_path, env)
    try:
        common = ["--system", "local", "--campaign", "federated-chat", "--run-id", "chat-llm"]
        common += ["--exchange", "http", "--exchange-url", http_server.url, "--no-bootstrap"]
        common += ["--model", "openai_compatible:gpt-5-mini", "--llm-base-url", url]
        common += ["--llm-api-key-env", KEY_VAR]
        aurora = sites.start(*common, "--site", "aurora", "--agents", "agent-aurora", name="a")
        crux = sites.start(*common, "--site", "crux", "--agents", "agent-crux", name="c")
        kickoff = chia(
            "bootstrap", "--run-id", "chat-llm", "--campaign", "federated-chat",
            "--exchange", "http", "--exchange-url", http_server.url, "--timeout-s", "60",
        )  # fmt: skip
        assert kickoff.returncode == 0, kickoff.stderr
        assert aurora.wait(120) == 0, aurora.output
        assert crux.wait(120) == 0, crux.output
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(10) == 0
    assert "policy llm:openai_compatible:gpt-5-mini" in aurora.output

    requests = [json.loads(line) for line in record.read_text().splitlines()]
    assert len(requests) == 11, [r["body"]["messages"][-1] for r in requests]
    for request in requests:
        body = request["body"]
        assert request["authorized"] and body["model"] == "gpt-5-mini"
        assert "temperature" not in body and "top_p" not in body
        assert {t["function"]["name"] for t in body["tools"]} == {
            "send_message", "finish_turn", "submit_result",
        }  # fmt: skip
        system, user = body["messages"]
        assert system["role"] == "system" and "send_message" in system["content"]
        assert user["role"] == "user"
        state = json.loads(user["content"])  # real JSON, not a repr of a message list
        assert state["allowed_peers"] in (["agent-crux"], ["agent-aurora"])
        assert {"task", "mission", "round", "new_messages", "peer_status"} <= set(state)
    first = json.loads(requests[0]["body"]["messages"][1]["content"])
    assert first["agent"] == "agent-aurora" and first["new_messages"][0]["kind"] == "kickoff"
    last = json.loads(requests[-1]["body"]["messages"][1]["content"])
    assert last["new_messages"][-1]["content"] == "counter = 10"

    run = sites.runs_dir / "chat-llm"
    for site, agent in (("aurora", "agent-aurora"), ("crux", "agent-crux")):
        status = json.loads((run / site / "status" / f"{agent}.json").read_text())
        assert status["state"] == "finished" and status["result"] == "counter = 10"
        assert status["tokens_in"] >= 1000 and status["tokens_out"] > 0
        events = [json.loads(x) for x in (run / site / "events" / f"{agent}.jsonl").open()]
        kinds = [e["kind"] for e in events]
        assert {"llm_call", "tool_call", "tool_result", "decision"} <= set(kinds)
        calls = [e for e in events if e["kind"] == "llm_call"]
        assert all(c["model"] == "gpt-5-mini" and c["latency_s"] > 0 for c in calls)
        assert all(c["tokens_in"] >= 200 for c in calls)
        launch = json.loads((run / site / "launch.json").read_text())
        assert launch["lm"]["api_key_env"] == KEY_VAR

    _assert_key_nowhere([run, tmp_path], KEY)


def _assert_key_nowhere(roots: list[Path], key: str) -> None:
    """No file under ``roots`` (run dirs, logs, site output) holds the key or a slice of it."""
    scanned = 0
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                scanned += 1
                for piece in (key, key[:12], key[-10:]):
                    assert piece.encode() not in data, f"API key material in {path}"
    assert scanned > 10
