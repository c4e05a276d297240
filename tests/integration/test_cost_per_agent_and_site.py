"""What a two-site LLM campaign cost, per agent, per site and in total, with real numbers.

Both sites ask ``openai:gpt-5-mini`` (langchain-openai's real HTTP path) at our fake
OpenAI server, whose scripted replies report prompt, cached and completion tokens. Site
aurora prices the calls with the package's table; site crux is given a user price file
(``spawn-site --prices``) that wins over it. Each ``llm_call`` event must carry its cost
and where the price came from, and ``chia runs show`` must print the sums.
"""

from __future__ import annotations

import json
import re

import pytest

from chia.llm.prices import package_prices
from chia.testing.openai_server import openai_server

KEY_VAR = "CHIA_TEST_COST_KEY"
KEY = "sk-test-cost-4b8e1d"
PEERS = {"agent-aurora": "agent-crux", "agent-crux": "agent-aurora"}
TURN = {"prompt_tokens": 1000, "completion_tokens": 100, "cached_tokens": 400}
LAST = {"prompt_tokens": 2000, "completion_tokens": 50, "cached_tokens": 0}
CRUX_PRICE = {"input": 1.0, "output": 4.0}  # no cached_input: cached tokens cost input


def _script() -> dict:
    """Turns alternate aurora, crux, ... crux sends 10 and submits; aurora's 6th call ends."""
    steps = []
    for counter in range(1, 11):
        sender = "agent-aurora" if counter % 2 else "agent-crux"
        text = f"counter = {counter}"
        send = {"recipient": PEERS[sender], "content": text, "tldr": text}
        last = {"name": "submit_result", "arguments": {"result": text}}
        calls = [{"name": "send_message", "arguments": send}]
        calls.append(last if counter == 10 else {"name": "finish_turn", "arguments": {}})
        steps.append({"tool_calls": calls, "usage": TURN})
    done = {"name": "submit_result", "arguments": {"result": "counter = 10"}}
    steps.append({"tool_calls": [done], "usage": LAST})
    default = {"tool_calls": [{"name": "finish_turn", "arguments": {"reason": "idle"}}]}
    return {"responses": steps, "default": default}


def _usd(usage: dict, price: dict) -> float:
    cached = usage["cached_tokens"]
    cached_price = price.get("cached_input", price["input"])
    uncached = usage["prompt_tokens"] - cached
    return (
        uncached * price["input"]
        + cached * cached_price
        + usage["completion_tokens"] * price["output"]
    ) / 1e6


@pytest.mark.timeout(300)
def test_cost_per_agent_site_and_run(sites, chia, http_server, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_VAR, KEY)
    prices = tmp_path / "crux-prices.yaml"
    prices.write_text(f"as_of: '2026-12'\nprices:\n  openai:\n    gpt-5-mini: {CRUX_PRICE}\n")
    with openai_server(_script(), api_key=KEY) as server:
        common = ["--system", "local", "--campaign", "federated-chat", "--run-id", "cost"]
        common += ["--exchange", "http", "--exchange-url", http_server.url]
        common += ["--model", "openai:gpt-5-mini", "--llm-base-url", server.url]
        common += ["--llm-api-key-env", KEY_VAR]
        aurora = sites.start(*common, "--site", "aurora", "--agents", "agent-aurora", name="a")
        crux = sites.start(
            *common, "--site", "crux", "--agents", "agent-crux", "--prices", str(prices), name="c"
        )
        assert aurora.wait(180) == 0, aurora.output
        assert crux.wait(180) == 0, crux.output
        assert len(server.requests) == 11

    package = package_prices().prices["openai"]["gpt-5-mini"].model_dump()
    expected = {
        "aurora": 5 * _usd(TURN, package) + _usd(LAST, package),
        "crux": 5 * _usd(TURN, CRUX_PRICE),
    }
    run = sites.runs_dir / "cost"
    notes = {"aurora": "package prices as of", "crux": "user prices for openai:gpt-5-mini"}
    for site, agent in (("aurora", "agent-aurora"), ("crux", "agent-crux")):
        lines = (run / site / "events" / f"{agent}.jsonl").read_text().splitlines()
        calls = [e for e in map(json.loads, lines) if e["kind"] == "llm_call"]
        assert len(calls) == (6 if site == "aurora" else 5)
        assert all(notes[site] in call["cost_note"] for call in calls), calls[0]
        assert {c["tokens_cached"] for c in calls} <= {400, 0}
        assert sum(c["cost_usd"] for c in calls) == pytest.approx(expected[site])

    shown = chia("runs", "show", "cost", "--runs-dir", str(sites.runs_dir))
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    total = expected["aurora"] + expected["crux"]
    for site, agent in (("aurora", "agent-aurora"), ("crux", "agent-crux")):
        cost = f"${expected[site]:,.6f}"
        assert re.search(rf"^{site}: .*cost {re.escape(cost)}$", text, re.M), text
        assert re.search(rf"^ *{agent} .*{re.escape(cost)}", text, re.M), text
    assert re.search(rf"^total: 11 model calls, .*cost \${total:,.6f}$", text, re.M), text
    listed = chia("runs", "list", "--runs-dir", str(sites.runs_dir))
    assert f"${total:,.6f}" in listed.stdout
