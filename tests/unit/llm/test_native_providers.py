"""The native providers over their real HTTP paths, against our fake servers.

anthropic (Messages API), bedrock (Converse, SigV4) and vertex (generateContent, bearer
tokens from the fake server's OAuth endpoint): what goes on the wire (headers, tool
schemas, the reasoning-model parameter rules), what comes back, and the bad input that is
exit 2 at build time.
"""

from __future__ import annotations

import base64
import json
import sys

import pytest

from chia.errors import ChiaUsageError
from chia.llm import ChatMessage, LLMCallError, LLMConfigError, ToolSpec, make_llm
from chia.llm.errors import MissingAPIKeyError, MissingExtraError
from chia.testing.anthropic_server import anthropic_server
from chia.testing.bedrock_server import bedrock_server
from chia.testing.vertex_server import ServiceAccount, vertex_server, write_adc_file

KEY = "sk-ant-api03-unit-5f0c2d9e8b7a4c31"
AWS_ID, AWS_SECRET, REGION = "AKIAUNITTEST", "unit/secret+KEY0123456789abcdef", "ap-south-1"
PROJECT, LOCATION = "unit-project", "us-east5"
ADD = ToolSpec(
    name="add",
    description="Add one.",
    parameters={"type": "object", "properties": {"value": {"type": "integer"}}},
)
SCRIPT = [
    {"tool_calls": [{"name": "add", "arguments": {"value": 1}}],
     "usage": {"prompt_tokens": 11, "completion_tokens": 4}},
    {"content": "two", "usage": {"prompt_tokens": 20, "completion_tokens": 1}},
]  # fmt: skip


async def _two_turns(llm):
    messages = [ChatMessage.system("SYS"), ChatMessage.user("add one to 1")]
    first = await llm.complete(messages, [ADD])
    assert [(c.name, c.arguments) for c in first.tool_calls] == [("add", {"value": 1})]
    assert (first.tokens_in, first.tokens_out) == (11, 4)
    messages += [first.as_message(), ChatMessage.tool(first.tool_calls[0].id, "2")]
    second = await llm.complete(messages, [ADD])
    assert second.content == "two" and not second.tool_calls
    return first, second


@pytest.fixture
def anthropic_key(monkeypatch):
    monkeypatch.setenv("CHIA_UNIT_ANTHROPIC", KEY)
    return "CHIA_UNIT_ANTHROPIC"


@pytest.fixture
def aws(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
    monkeypatch.setenv("AWS_REGION", REGION)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))


@pytest.fixture
def google(monkeypatch, tmp_path):
    """A service account and a fake Vertex whose token endpoint it trusts."""
    account = ServiceAccount.generate()
    for name in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_CLOUD_LOCATION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", PROJECT)

    def serve(script):
        server = vertex_server(script, project=PROJECT, location=LOCATION, account=account)
        running = server.__enter__()
        adc = write_adc_file(tmp_path / "adc.json", account, f"{running.url}/token", PROJECT)
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
        return server, running

    return serve


# -- anthropic ---------------------------------------------------------------------------


async def test_anthropic_messages_api_headers_tools_and_usage(anthropic_key):
    with anthropic_server(SCRIPT, api_key=KEY) as server:
        llm = make_llm("anthropic", "claude-sonnet-4-5", base_url=server.url,
                       api_key_env=anthropic_key, temperature=0.3, top_p=0.9,
                       max_tokens=512)  # fmt: skip
        await _two_turns(llm)
    first = server.requests[0]
    assert first["path"] == "/v1/messages" and first["headers"]["anthropic-version"]
    headers = first["headers"]
    assert KEY in (headers.get("x-api-key"), headers.get("authorization", "")[7:])
    body = first["body"]
    assert body["tools"] == [{"name": "add", "description": "Add one.",
                              "input_schema": ADD.parameters}]  # fmt: skip
    assert body["system"] == "SYS" and body["temperature"] == 0.3 and body["max_tokens"] == 512
    assert "top_p" not in body  # refused together with temperature by recent Claude models
    results = server.requests[1]["body"]["messages"][-1]["content"]
    assert results[0]["type"] == "tool_result" and results[0]["content"] == "2"


async def test_anthropic_extended_thinking_drops_temperature_and_keeps_thinking_blocks(
    anthropic_key,
):
    with anthropic_server(SCRIPT, api_key=KEY) as server:
        llm = make_llm("anthropic", "claude-opus-4-1", base_url=server.url,
                       api_key_env=anthropic_key, temperature=0.3, top_k=5,
                       thinking_budget=2048)  # fmt: skip
        await _two_turns(llm)  # the server refuses a tool loop without the thinking block
    body = server.requests[0]["body"]
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert "temperature" not in body and "top_k" not in body
    assert body["max_tokens"] == 2048 + 4096
    assistant = server.requests[1]["body"]["messages"][1]["content"]
    assert assistant[0]["type"] == "thinking" and assistant[0]["signature"] == "sig-1"


def test_anthropic_bad_input_is_exit_2(anthropic_key, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(MissingAPIKeyError, match="ANTHROPIC_API_KEY"):
        make_llm("anthropic", "claude-sonnet-4-5")
    with pytest.raises(LLMConfigError, match=r"max_tokens \(2000\) must be greater"):
        make_llm("anthropic", "claude-x", api_key_env=anthropic_key, thinking_budget=2048,
                 max_tokens=2000)  # fmt: skip
    with pytest.raises(LLMConfigError, match="at least 1024"):
        make_llm("anthropic", "claude-x", api_key_env=anthropic_key, thinking_budget=100)
    with pytest.raises(LLMConfigError, match=r"unknown setting.*region"):
        make_llm("anthropic", "claude-x", api_key_env=anthropic_key, region="us-east-1")
    with pytest.raises(LLMConfigError, match="placeholder '<model>'"):
        make_llm("anthropic", "<model>", api_key_env=anthropic_key)


@pytest.mark.parametrize(
    ("provider", "model"),
    [("anthropic", "gpt-4o"), ("bedrock", "claude-sonnet-4-5"), ("vertex", "claude-opus-4-1")],
)
def test_a_model_the_provider_does_not_serve_is_exit_2(provider, model, anthropic_key, aws):
    with pytest.raises(LLMConfigError, match=f"lm.model {model!r} is not a model") as info:
        make_llm(provider, model, api_key_env=anthropic_key if provider == "anthropic" else None)
    assert info.value.exit_code == 2


def test_a_missing_integration_names_the_extra(anthropic_key, monkeypatch):
    monkeypatch.setitem(sys.modules, "langchain_anthropic", None)
    monkeypatch.delitem(sys.modules, "chia.llm.providers.anthropic", raising=False)
    with pytest.raises(MissingExtraError, match=r"langchain-anthropic.*chia\[providers\]") as info:
        make_llm("anthropic", "claude-sonnet-4-5", api_key_env=anthropic_key)
    assert isinstance(info.value, ChiaUsageError) and info.value.exit_code == 2


def test_unknown_provider_lists_the_native_ones():
    with pytest.raises(LLMConfigError, match=r"known: anthropic, argo, bedrock, .*vertex"):
        make_llm("claude", "x")


# -- bedrock -----------------------------------------------------------------------------


async def test_bedrock_converse_is_sigv4_signed_for_bedrock_and_the_region(aws):
    credentials = {AWS_ID: AWS_SECRET}
    with bedrock_server(SCRIPT, credentials=credentials, region=REGION) as server:
        llm = make_llm("bedrock", "apac.anthropic.claude-sonnet-4-20250514-v1:0",
                       base_url=server.url, temperature=0.5, max_tokens=300)  # fmt: skip
        await _two_turns(llm)
    first = server.requests[0]
    assert first["sigv4"]["ok"] and first["sigv4"]["service"] == "bedrock"
    assert first["sigv4"]["region"] == REGION
    assert first["model_id"] == "apac.anthropic.claude-sonnet-4-20250514-v1:0"
    body = first["body"]
    assert body["toolConfig"]["tools"] == [
        {"toolSpec": {"name": "add", "description": "Add one.",
                      "inputSchema": {"json": ADD.parameters}}}
    ]  # fmt: skip
    assert body["inferenceConfig"] == {"maxTokens": 300, "temperature": 0.5}
    result = server.requests[1]["body"]["messages"][-1]["content"][0]["toolResult"]
    assert result["content"] == [{"text": "2"}]


async def test_bedrock_a_wrong_secret_or_region_is_refused_as_bedrock_does(aws, monkeypatch):
    for served_region, secret in ((REGION, "not-the-secret"), ("us-west-2", AWS_SECRET)):
        credentials = {AWS_ID: secret}
        with bedrock_server(SCRIPT, credentials=credentials, region=served_region) as server:
            llm = make_llm("bedrock", "amazon.nova-pro-v1:0", base_url=server.url)
            with pytest.raises(LLMCallError) as info:
                await llm.complete([ChatMessage.user("hi")])
        assert info.value.kind == "auth" and info.value.status == 403
        assert "AWS_ACCESS_KEY_ID" in (info.value.hint or "")
        assert AWS_SECRET not in str(info.value)
        assert not server.requests[0]["sigv4"]["ok"]


async def test_bedrock_thinking_on_claude_drops_sampling_knobs(aws):
    with bedrock_server(SCRIPT, credentials={AWS_ID: AWS_SECRET}, region=REGION) as server:
        llm = make_llm("bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                       base_url=server.url, temperature=0.5, thinking_budget=1024)  # fmt: skip
        await llm.complete([ChatMessage.user("hi")])
    body = server.requests[0]["body"]
    assert body["additionalModelRequestFields"]["thinking"]["budget_tokens"] == 1024
    assert body["inferenceConfig"] == {"maxTokens": 1024 + 4096}


def test_bedrock_bad_input_is_exit_2(aws, monkeypatch):
    with pytest.raises(LLMConfigError, match="Anthropic models only"):
        make_llm("bedrock", "amazon.nova-pro-v1:0", thinking_budget=2048)
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc"
    with pytest.raises(LLMConfigError, match=r"lm\.base_model"):
        make_llm("bedrock", arn)
    make_llm("bedrock", arn, base_model="anthropic.claude-sonnet-4-5-20250929-v1:0")
    with pytest.raises(LLMConfigError, match=r"no lm\.api_key_env"):
        make_llm("bedrock", "amazon.nova-pro-v1:0", api_key_env="AWS_SECRET_ACCESS_KEY")
    monkeypatch.delenv("AWS_REGION")
    with pytest.raises(LLMConfigError, match=r"needs lm.region \(or AWS_REGION\)"):
        make_llm("bedrock", "amazon.nova-pro-v1:0")
    make_llm("bedrock", "amazon.nova-pro-v1:0", region="eu-central-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(MissingAPIKeyError, match="AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"):
        make_llm("bedrock", "amazon.nova-pro-v1:0", region="eu-central-1")
    with pytest.raises(LLMConfigError, match=r"lm\.aws_profile 'nope'"):
        make_llm("bedrock", "amazon.nova-pro-v1:0", region="eu-central-1", aws_profile="nope")


# -- vertex ------------------------------------------------------------------------------


async def test_vertex_generate_content_with_a_bearer_token_from_adc(google):
    context, server = google(SCRIPT)
    try:
        llm = make_llm("vertex", "gemini-2.5-flash", base_url=server.url, location=LOCATION,
                       temperature=0.4, thinking_budget=0)  # fmt: skip
        await _two_turns(llm)
    finally:
        context.__exit__(None, None, None)
    assert server.token_requests >= 1 and server.access_tokens
    first = server.requests[0]
    assert first["bearer_ok"]
    assert first["headers"]["authorization"] == f"Bearer {server.access_tokens[-1]}"
    assert first["path"] == (
        f"/v1beta1/projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/"
        "gemini-2.5-flash:generateContent"
    )
    body = first["body"]
    [declaration] = body["tools"][0]["functionDeclarations"]
    assert declaration["name"] == "add" and declaration["description"] == "Add one."
    assert body["generationConfig"]["temperature"] == 0.4  # Gemini keeps it with thinking
    assert body["generationConfig"]["thinkingConfig"] == {"thinking_budget": 0}
    answer = server.requests[1]["body"]["contents"][-1]["parts"][0]["functionResponse"]
    assert answer["name"] == "add"


async def test_vertex_gemini_3_gets_its_thought_signatures_back(google):
    context, server = google(SCRIPT)
    try:
        llm = make_llm("vertex", "gemini-3-pro-preview", base_url=server.url, location=LOCATION)
        await _two_turns(llm)  # the server refuses a model turn without its signature
    finally:
        context.__exit__(None, None, None)
    model_turn = server.requests[1]["body"]["contents"][1]
    assert model_turn["role"] == "model"
    # the signature the server issued, not the integration's "skip" placeholder (the
    # integration sends the same bytes back in the URL-safe base64 alphabet)
    sent = model_turn["parts"][0]["thoughtSignature"]
    assert base64.urlsafe_b64decode(sent) == base64.b64decode(server.signatures[0])


def test_vertex_bad_input_is_exit_2(google, monkeypatch, tmp_path):
    context, _ = google(SCRIPT)
    try:
        with pytest.raises(LLMConfigError, match=r"no lm\.api_key_env"):
            make_llm("vertex", "gemini-2.5-pro", api_key_env="GOOGLE_API_KEY")
        info = json.loads((tmp_path / "adc.json").read_text())
        del info["project_id"]
        (tmp_path / "adc.json").write_text(json.dumps(info))
        monkeypatch.delenv("GOOGLE_CLOUD_PROJECT")
        with pytest.raises(LLMConfigError, match=r"needs lm.project \(or GOOGLE_CLOUD_PROJECT\)"):
            make_llm("vertex", "gemini-2.5-pro")
        make_llm("vertex", "gemini-2.5-pro", project="p")
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
        with pytest.raises(MissingAPIKeyError, match="GOOGLE_APPLICATION_CREDENTIALS"):
            make_llm("vertex", "gemini-2.5-pro", project="p")
    finally:
        context.__exit__(None, None, None)


async def test_bedrock_takes_keys_and_region_from_a_named_profile(aws, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"):
        monkeypatch.delenv(name)
    (tmp_path / "credentials").write_text(
        "[research]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = profile/secret1\n"
    )
    (tmp_path / "config").write_text("[profile research]\nregion = ca-central-1\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    credentials = {"AKIAPROFILE": "profile/secret1"}
    with bedrock_server(SCRIPT, credentials=credentials, region="ca-central-1") as server:
        llm = make_llm("bedrock", "amazon.nova-pro-v1:0", base_url=server.url,
                       aws_profile="research")  # fmt: skip
        await _two_turns(llm)
    assert server.requests[0]["sigv4"]["ok"] and server.requests[0]["sigv4"]["key"] == "AKIAPROFILE"
    assert llm.region == "ca-central-1"
