"""federated-chat-mcp on two sites against each native provider's fake server.

Each provider (anthropic, bedrock, vertex) runs its real LangChain integration over HTTP
against our fake server for its wire format, on a free loopback port: the Messages API
(key and anthropic-version checked), Bedrock Converse (SigV4 verified with botocore for
service bedrock and the configured region) and Vertex generateContent (bearer tokens the
server's own OAuth endpoint issued for a made-up service account). The first reply is a
429 with Retry-After: the sites wait as told and say so. The test then reads the captured
requests (headers, tool schemas) and greps the run dir for every secret.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chia.testing.anthropic_server import anthropic_server
from chia.testing.bedrock_server import bedrock_server
from chia.testing.replay import SITES, mcp_counter_script
from chia.testing.vertex_server import ServiceAccount, vertex_server, write_adc_file

pytestmark = pytest.mark.slow

ANTHROPIC_KEY = "sk-ant-api03-campaign-7d1e9c0b4a2f48e6"
AWS_KEY_ID = "AKIACHIATESTCAMPAIGN"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYCHIATESTKEY"
REGION = "eu-west-3"
PROJECT, LOCATION = "chia-test-project", "europe-west4"
BUILTINS = {"send_message", "finish_turn", "submit_result", "counter__increment"}


def _script() -> dict[str, Any]:
    script = mcp_counter_script()
    throttled = {"status": 429, "error": "slow down", "retry_after_s": 0.2}
    script["responses"] = [throttled, *script["responses"]]
    return script


@contextlib.contextmanager
def _anthropic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("CHIA_TEST_ANTHROPIC_KEY", ANTHROPIC_KEY)
    with anthropic_server(_script(), api_key=ANTHROPIC_KEY) as server:
        yield {
            "server": server,
            "args": ["--model", "anthropic:claude-sonnet-4-5", "--llm-base-url", server.url,
                     "--llm-api-key-env", "CHIA_TEST_ANTHROPIC_KEY"],
            "secrets": [ANTHROPIC_KEY],
        }  # fmt: skip


@contextlib.contextmanager
def _bedrock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
    monkeypatch.setenv("AWS_REGION", REGION)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_BEARER_TOKEN_BEDROCK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    credentials = {AWS_KEY_ID: AWS_SECRET}
    with bedrock_server(_script(), credentials=credentials, region=REGION) as server:
        model = "bedrock:us.anthropic.claude-sonnet-4-5-20250929-v1:0"
        yield {
            "server": server,
            "args": ["--model", model, "--llm-base-url", server.url],
            "secrets": [AWS_SECRET],
        }


@contextlib.contextmanager
def _vertex(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    account = ServiceAccount.generate()
    for name in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", PROJECT)
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", LOCATION)
    with vertex_server(_script(), project=PROJECT, location=LOCATION, account=account) as server:
        adc = write_adc_file(tmp_path / "adc.json", account, f"{server.url}/token", PROJECT)
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
        key_lines = [x for x in account.private_key_pem.splitlines() if "PRIVATE" not in x]
        yield {
            "server": server,
            "args": ["--model", "vertex:gemini-2.5-flash", "--llm-base-url", server.url],
            "secrets": [key_lines[1], key_lines[-1]],  # pieces of the private key
        }


PROVIDERS = {"anthropic": _anthropic, "bedrock": _bedrock, "vertex": _vertex}


def _tool_names(provider: str, body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Tool name -> its JSON schema, as the provider's wire format carries them."""
    if provider == "anthropic":
        return {t["name"]: t["input_schema"] for t in body["tools"]}
    if provider == "bedrock":
        specs = [t["toolSpec"] for t in body["toolConfig"]["tools"]]
        return {s["name"]: s["inputSchema"]["json"] for s in specs}
    declarations = body["tools"][0]["functionDeclarations"]
    return {d["name"]: d.get("parameters") or d.get("parametersJsonSchema") for d in declarations}


def _check_headers(provider: str, server: Any, request: dict[str, Any]) -> None:
    headers = request["headers"]
    if provider == "anthropic":
        presented = headers.get("x-api-key") or headers["authorization"].removeprefix("Bearer ")
        assert presented == ANTHROPIC_KEY
        assert headers["anthropic-version"]
    elif provider == "bedrock":
        assert request["sigv4"] == {
            "ok": True, "reason": "", "key": AWS_KEY_ID, "region": REGION, "service": "bedrock"
        }  # fmt: skip
        assert headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={AWS_KEY_ID}/")
        assert f"/{REGION}/bedrock/aws4_request" in headers["authorization"]
    else:
        assert request["bearer_ok"]
        assert headers["authorization"].removeprefix("Bearer ") in server.access_tokens
        assert f"/projects/{PROJECT}/locations/{LOCATION}/" in request["path"]


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_two_site_mcp_campaign_on_each_native_provider(
    provider, sites, http_server, tmp_path, monkeypatch
):
    run_id = f"native-{provider}"
    with PROVIDERS[provider](tmp_path, monkeypatch) as setup:
        server = setup["server"]
        common = ["--system", "local", "--campaign", "federated-chat-mcp", "--run-id", run_id]
        common += ["--exchange", "http", "--exchange-url", http_server.url, *setup["args"]]
        started = {
            site: sites.start(*common, "--site", site, "--agents", agent, name=site)
            for site, agent in SITES.items()
        }
        for site in started.values():
            assert site.wait(180) == 0, site.output
        requests = list(server.requests)
        secrets = [*setup["secrets"], *getattr(server, "access_tokens", [])]

    assert len(requests) == 22  # the 429, then the 21 replies of the script
    output = "".join(site.output for site in started.values())
    assert f"model {provider} rate limited (HTTP 429): waiting 0.2 s as Retry-After says" in output
    for request in requests:
        _check_headers(provider, server, request)
        schemas = _tool_names(provider, request["body"])
        assert set(schemas) == BUILTINS  # counter__reached is not allowed
        assert all(isinstance(s, dict) and s for s in schemas.values())

    run = sites.runs_dir / run_id
    for site, agent in SITES.items():
        status = json.loads((run / site / "status" / f"{agent}.json").read_text())
        assert status["state"] == "finished" and status["result"] == "counter = 10"
        events = [json.loads(x) for x in (run / site / "events" / f"{agent}.jsonl").open()]
        calls = [e for e in events if e["kind"] == "llm_call" and e["success"]]
        assert calls and {c["provider"] for c in calls} == {provider}
        mcp = [e for e in events if e["kind"] == "tool_result" and e["tool"] == "counter.increment"]
        assert mcp and all(e["ok"] for e in mcp)
    retries = [
        json.loads(x)
        for path in run.glob("*/events/*.jsonl")
        for x in path.open()
        if '"model_retry"' in x
    ]
    assert len(retries) == 1 and retries[0]["retry_after_s"] == 0.2
    assert retries[0]["error_kind"] == "rate_limit" and retries[0]["status"] == 429
    for path in run.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in data, f"a secret reached {path}"


def test_a_refused_key_stops_the_agents_with_a_model_error(sites, monkeypatch):
    monkeypatch.setenv("CHIA_TEST_ANTHROPIC_KEY", "sk-ant-api03-wrong-key-0000000000")
    with anthropic_server(_script(), api_key=ANTHROPIC_KEY) as server:
        site = sites.start(
            "--system", "local", "--campaign", "federated-chat-mcp", "--run-id", "refused",
            "--exchange", "local", "--site", "here", "--agents", "agent-aurora,agent-crux",
            "--model", "anthropic:claude-sonnet-4-5", "--llm-base-url", server.url,
            "--llm-api-key-env", "CHIA_TEST_ANTHROPIC_KEY",
        )  # fmt: skip
        why = "model_error: anthropic credentials refused (HTTP 401): set CHIA_TEST_ANTHROPIC_KEY"
        site.wait_for_line(f"agent-aurora: failed: {why}", timeout=120)
        assert len(server.requests) == 1  # agent-aurora's first call; never retried
    # agent-crux waits for its idle timeout, as for any peer that stopped; the fixture ends it
    run = sites.runs_dir / "refused" / "here"
    events = [json.loads(x) for x in (run / "events" / "agent-aurora.jsonl").open()]
    [error] = [e for e in events if e["kind"] == "model_error"]
    assert error["action"] == "stopped_agent" and error["error_kind"] == "auth"
    assert error["hint"] == "set CHIA_TEST_ANTHROPIC_KEY to a valid Anthropic API key"
    status = json.loads((run / "status" / "agent-aurora.json").read_text())
    assert status["state"] == "failed" and why in status["last_error"]
