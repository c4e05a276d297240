"""Model errors, scripted on each fake server and met by each provider's real HTTP path.

429 with Retry-After (waited out as told, announced), 5xx and timeouts (bounded retries
with backoff), 401/403 (final, naming what to set), 402/quota (final) and context too
long (classified for the policy to trim). Waits are short; nothing asserts on time.
"""

from __future__ import annotations

import contextlib

import pytest

from chia.llm import ChatMessage, LLMCallError, make_llm
from chia.llm.model_errors import RetryNotice, parse_retry_after
from chia.testing.anthropic_server import anthropic_server
from chia.testing.bedrock_server import bedrock_server
from chia.testing.openai_server import openai_server
from chia.testing.vertex_server import ServiceAccount, vertex_server, write_adc_file

KEY = "sk-errors-unit-0b9c8d7e6f5a4b3c"
AWS_ID, AWS_SECRET, REGION = "AKIAERRORS", "errors/secret+KEY0123456789", "us-east-2"
PROJECT, LOCATION = "errors-project", "us-central1"
PROVIDERS = ["anthropic", "bedrock", "openai", "vertex"]
CONTEXT_TEXT = {
    "anthropic": "prompt is too long: 210000 tokens > 200000 maximum",
    "bedrock": "Input is too long for requested model.",
    "openai": "This model's maximum context length is 128000 tokens.",
    "vertex": "The input token count (1100000) exceeds the maximum number of tokens allowed.",
}


@pytest.fixture
def provider_env(monkeypatch, tmp_path):
    monkeypatch.setenv("CHIA_ERRORS_KEY", KEY)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", PROJECT)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "GOOGLE_API_KEY", "GOOGLE_CLOUD_LOCATION"):
        monkeypatch.delenv(name, raising=False)
    account = ServiceAccount.generate()

    @contextlib.contextmanager
    def serve(provider, script, **settings):
        if provider == "anthropic":
            with anthropic_server(script, api_key=KEY) as server:
                yield server, make_llm("anthropic", "claude-haiku-4-5", base_url=server.url,
                                       api_key_env="CHIA_ERRORS_KEY", **settings)  # fmt: skip
        elif provider == "bedrock":
            with bedrock_server(script, credentials={AWS_ID: AWS_SECRET}, region=REGION) as server:
                yield server, make_llm("bedrock", "amazon.nova-lite-v1:0", base_url=server.url,
                                       **settings)  # fmt: skip
        elif provider == "openai":
            with openai_server(script, api_key=KEY) as server:
                yield server, make_llm("openai", "gpt-4.1-mini", base_url=server.url,
                                       api_key_env="CHIA_ERRORS_KEY", **settings)  # fmt: skip
        else:
            with vertex_server(script, project=PROJECT, location=LOCATION,
                               account=account) as server:  # fmt: skip
                adc = write_adc_file(tmp_path / "adc.json", account, f"{server.url}/token", PROJECT)
                monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
                yield server, make_llm("vertex", "gemini-2.5-flash", base_url=server.url,
                                       **settings)  # fmt: skip

    return serve


async def _ask(llm, notices=None):
    if notices is not None:
        llm.retry_listener = notices.append
    return await llm.complete([ChatMessage.user("hello")])


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_429_waits_as_retry_after_says_and_announces_it(provider, provider_env):
    script = [{"status": 429, "error": "slow down", "retry_after_s": 0.3}, {"content": "ok"}]
    notices: list[RetryNotice] = []
    with provider_env(provider, script) as (server, llm):
        reply = await _ask(llm, notices)
    assert reply.content == "ok" and len(server.requests) == 2
    [notice] = notices
    assert (notice.kind, notice.status, notice.retry_after_s, notice.wait_s) == (
        "rate_limit", 429, 0.3, 0.3
    )  # fmt: skip
    assert notice.line() == (
        f"model {provider} rate limited (HTTP 429): waiting 0.3 s as Retry-After says, retry 1 of 5"
    )


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_5xx_is_retried_with_backoff_up_to_max_retries(provider, provider_env):
    error = {"status": 503, "error": "overloaded"}
    settings = {"max_retries": 2, "retry_backoff_s": 0.05}
    notices: list[RetryNotice] = []
    with provider_env(provider, [error, error, {"content": "ok"}], **settings) as (server, llm):
        assert (await _ask(llm, notices)).content == "ok"
    assert [(n.kind, n.attempt, n.limit) for n in notices] == [("server", 1, 2), ("server", 2, 2)]
    assert 0 < notices[0].wait_s <= 0.05 < notices[1].wait_s <= 0.1  # doubled (with jitter)
    failing = provider_env(provider, [error] * 3, **settings)
    with failing as (server, llm), pytest.raises(LLMCallError) as info:
        await _ask(llm)
    assert info.value.kind == "server" and info.value.status == 503
    assert len(server.requests) == 3  # one call and two retries, then it gives up


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_timeout_is_retried_then_reported(provider, provider_env):
    slow = {"content": "late", "delay_s": 1.5}  # three times the timeout
    settings = {"timeout_s": 0.5, "max_retries": 1, "retry_backoff_s": 0.05}
    notices: list[RetryNotice] = []
    with provider_env(provider, [slow, {"content": "ok"}], **settings) as (_, llm):
        assert (await _ask(llm, notices)).content == "ok"
    assert [n.kind for n in notices] == ["timeout"]
    with (
        provider_env(provider, [slow, slow], **settings) as (_, llm),
        pytest.raises(LLMCallError) as info,
    ):
        await _ask(llm)
    assert info.value.kind == "timeout"


@pytest.mark.parametrize("status", [401, 403])
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_401_403_are_final_and_name_what_to_set(provider, status, provider_env):
    secret = {"bedrock": AWS_SECRET}.get(provider, KEY)  # echoed, as some gateways do
    script = [{"status": status, "error": f"denied {secret}"}, {"content": "never"}]
    with provider_env(provider, script) as (server, llm), pytest.raises(LLMCallError) as info:
        await _ask(llm)
    assert len(server.requests) == 1  # no retry
    assert info.value.kind == "auth" and info.value.fatal and info.value.status == status
    expected = {
        "anthropic": "set CHIA_ERRORS_KEY to a valid Anthropic API key",
        "bedrock": "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)",
        "openai": "set CHIA_ERRORS_KEY to a valid key for openai",
        "vertex": "set GOOGLE_APPLICATION_CREDENTIALS to credentials",
    }[provider]
    assert expected in (info.value.hint or "")
    if provider != "vertex":  # its secret is a token the server makes
        assert secret not in str(info.value) and "***" in str(info.value)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_402_and_exhausted_quota_are_final(provider, provider_env):
    for step in (
        {"status": 402, "error": "payment required"},
        {"status": 429, "error": "You exceeded your current quota, check your billing"},
    ):
        serving = provider_env(provider, [step, {"content": "never"}])
        with serving as (server, llm), pytest.raises(LLMCallError) as info:
            await _ask(llm)
        assert len(server.requests) == 1
        assert info.value.kind == "quota" and info.value.fatal
        assert "no quota or credit left" in (info.value.hint or "")


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_context_too_long_is_classified_not_retried(provider, provider_env):
    script = [{"status": 400, "error": CONTEXT_TEXT[provider]}, {"content": "never"}]
    with provider_env(provider, script) as (server, llm), pytest.raises(LLMCallError) as info:
        await _ask(llm)
    assert len(server.requests) == 1
    assert info.value.kind == "context_length" and not info.value.fatal


def test_retry_after_takes_seconds_and_http_dates():
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:30 GMT", now=0) == 30
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
