"""make_policy for LLM providers, the --model override and launch-time checks."""

import pytest

from chia.agent.factory import check_lm, lm_override, make_policy, model_readiness
from chia.agent.llm_policy import LLMPolicy
from chia.agent.scripted import ScriptedPolicy
from chia.campaign import LMSettings, load_campaign
from chia.errors import ChiaUsageError
from chia.llm import LLMConfigError


@pytest.fixture
def chat():
    return load_campaign("federated-chat")


def test_override_replaces_provider_fields_keeps_limits():
    base = LMSettings(provider="argo", model="gpt4o", base_url="https://gw", user="me",
                      api_key_env="ARGO_KEY", timeout_s=9, max_tokens=99)  # fmt: skip
    lm = lm_override(base, "openai:gpt-5-mini")
    assert (lm.provider, lm.model, lm.base_url, lm.user, lm.api_key_env) == (
        "openai", "gpt-5-mini", None, None, None,
    )  # fmt: skip
    assert (lm.timeout_s, lm.max_tokens) == (9, 99)
    with pytest.raises(LLMConfigError):
        lm_override(base, "nope:m")


def test_scripted_stays_offline(chat):
    assert isinstance(make_policy(chat.spec), ScriptedPolicy)


def test_llm_policy_with_override(chat, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    lm = lm_override(chat.spec.lm, "openai:gpt-5-mini")
    policy = make_policy(chat.spec, prompts=chat.prompts, agent=chat.spec.agents[0], lm=lm)
    assert isinstance(policy, LLMPolicy) and policy.toolbox is None
    assert policy.name == "llm:openai:gpt-5-mini"
    with pytest.raises(ChiaUsageError, match="needs a prompt profile"):
        make_policy(chat.spec, lm=lm)


def test_mcp_agents_get_a_toolbox():
    loaded = load_campaign("federated-chat-mcp")
    lm = lm_override(loaded.spec.lm, "ollama:llama3")
    agent = loaded.spec.agents[0]
    policy = make_policy(loaded.spec, prompts=loaded.prompts, agent=agent, lm=lm)
    assert isinstance(policy, LLMPolicy) and policy.toolbox.servers == ["counter"]


def test_check_lm_and_readiness(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    check_lm(LMSettings())  # scripted: nothing to check
    with pytest.raises(LLMConfigError, match="OPENAI_API_KEY"):
        check_lm(LMSettings(provider="openai", model="gpt-5-mini"))
    assert "OPENAI_API_KEY" in model_readiness("openai:gpt-5-mini")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    assert model_readiness("openai:gpt-5-mini") is None
    assert model_readiness("ollama:llama3") is None
    with pytest.raises(LLMConfigError, match="unknown lm provider"):
        model_readiness("nope:x")
