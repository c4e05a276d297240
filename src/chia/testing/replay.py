"""Record the federated-chat-mcp campaign on a model, for the replay tests.

Two sites (``aurora``, ``crux``) play the campaign against ``chia llm fake-server`` (our
OpenAI-compatible server, in its own process, requiring an API key) over a given
exchange; each agent computes every step with the example MCP server's tool. The run's
``llm/<agent>.jsonl`` files are what ``chia replay`` answers from once the server is
stopped and the key unset.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "CRUX_MISSION",
    "KEY",
    "KEY_VAR",
    "MCP_CAMPAIGN",
    "FakeServer",
    "edited_mcp_campaign",
    "fake_model_server",
    "mcp_counter_script",
    "record_mcp_campaign",
]

CHIA = str(Path(sys.executable).parent / "chia")
MCP_CAMPAIGN = "federated-chat-mcp"
KEY_VAR = "CHIA_REPLAY_TEST_KEY"
KEY = "sk-replay-3e8b1f6c2d9a4705be1c"
_PEER = {"agent-aurora": "agent-crux", "agent-crux": "agent-aurora"}
SITES = {"aurora": "agent-aurora", "crux": "agent-crux"}
_REPO = Path(__file__).resolve().parents[3]
#: The start of agent-crux's mission in federated-chat-mcp.
CRUX_MISSION = "Each time agent-aurora sends you the counter, compute the next value"


def edited_mcp_campaign(dest: Path, old: str, new: str) -> Path:
    """Copy federated-chat-mcp (from this checkout) to ``dest`` with ``old`` replaced.

    The copy's MCP server path is made absolute so that it still finds the example
    server from its new place.

    Raises:
        ValueError: If ``old`` is not in the campaign file.
    """
    copy = dest / MCP_CAMPAIGN
    shutil.copytree(_REPO / "campaigns" / MCP_CAMPAIGN, copy)
    path = copy / "campaign.jsonc"
    text = path.read_text()
    if old not in text:
        raise ValueError(f"{old!r} is not in {path}")
    tool = _REPO / "examples" / "mcp" / "counter_tools.py"
    text = text.replace('"../../examples/mcp/counter_tools.py"', json.dumps(str(tool)))
    path.write_text(text.replace(old, new))
    return copy


def mcp_counter_script() -> dict[str, Any]:
    """Two calls per turn: increment with the MCP tool, then send it on; 10 submits."""
    steps: list[dict[str, Any]] = []
    for counter in range(1, 11):
        sender = "agent-aurora" if counter % 2 else "agent-crux"
        text = f"counter = {counter}"
        increment = {"name": "counter__increment", "arguments": {"value": counter - 1}}
        send = {"name": "send_message", "arguments": {"recipient": _PEER[sender], "content": text}}
        end: dict[str, Any] = {"name": "submit_result", "arguments": {"result": text}}
        if counter < 10:
            end = {"name": "finish_turn", "arguments": {}}
        usage = {"prompt_tokens": 300 + counter, "completion_tokens": 20}
        steps += [{"tool_calls": [increment], "usage": usage}, {"tool_calls": [send, end]}]
    steps.append(
        {"tool_calls": [{"name": "submit_result", "arguments": {"result": "counter = 10"}}]}
    )
    return {"responses": steps, "default": {"tool_calls": [{"name": "finish_turn"}]}}


@dataclass
class FakeServer:
    """A running ``chia llm fake-server``: its process, base URL and request record."""

    proc: subprocess.Popen[bytes]
    url: str
    record: Path

    def stop(self) -> int:
        """SIGTERM it and wait; return its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(10)

    def requests(self) -> list[dict[str, Any]]:
        """The requests it received (body, path, whether a bearer token came)."""
        return [json.loads(line) for line in self.record.read_text().splitlines()]


@contextlib.contextmanager
def fake_model_server(tmp_path: Path, script: dict[str, Any]) -> Iterator[FakeServer]:
    """Run ``chia llm fake-server`` (key required: ``KEY_VAR`` must hold ``KEY``)."""
    (tmp_path / "script.json").write_text(json.dumps(script))
    url_file, record = tmp_path / "fake-url", tmp_path / "fake-requests.jsonl"
    argv = [CHIA, "llm", "fake-server", "--script", str(tmp_path / "script.json")]
    argv += ["--url-file", str(url_file), "--record", str(record), "--api-key-env", KEY_VAR]
    with (tmp_path / "fake-server.out").open("w") as log:
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, KEY_VAR: KEY},
            start_new_session=True,
        )
    server = FakeServer(proc, "", record)
    try:
        deadline = time.monotonic() + 30
        while not (url_file.is_file() and url_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the fake server did not start; see {tmp_path}")
            time.sleep(0.05)
        server.url = url_file.read_text().strip()
        yield server
    finally:
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.stop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


class _Site(Protocol):
    def wait(self, timeout: float = 60) -> int: ...

    @property
    def output(self) -> str: ...


class _Runner(Protocol):
    def start(self, *args: str, name: str = "site") -> Any: ...


def record_mcp_campaign(
    sites: _Runner, server: FakeServer, exchange_args: list[str], run_id: str
) -> dict[str, _Site]:
    """Play federated-chat-mcp on two sites against ``server``; return the sites.

    The caller's environment must hold the key (``KEY_VAR``); the sites inherit it.
    """
    common = ["--system", "local", "--campaign", MCP_CAMPAIGN, "--run-id", run_id]
    common += [*exchange_args, "--model", "openai_compatible:gpt-5-mini"]
    common += ["--llm-base-url", server.url, "--llm-api-key-env", KEY_VAR]
    started = {
        site: sites.start(*common, "--site", site, "--agents", agent, name=site)
        for site, agent in SITES.items()
    }
    for site in started.values():
        site.wait(180)
    return started
