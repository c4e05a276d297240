"""Agent CLIs as a campaign's model: settings, checks at launch, and the policy chosen."""

import os

import pytest

from chia.agent.cli_policy import AgentCLIPolicy
from chia.agent.factory import agent_lm, check_lm, lm_override, make_policy
from chia.agent.llm_policy import LLMPolicy
from chia.campaign import LMSettings, load_campaign
from chia.campaign.validation import CampaignError, lm_problems, validate_campaign
from chia.errors import ChiaUsageError
from chia.llm import LLMConfigError
from chia.llm.agent_cli import ClaudeCodeLLM, CodexLLM
from chia.testing.agent_cli_standin import install_standins


@pytest.fixture
def chat():
    return load_campaign("federated-chat")


@pytest.fixture
def on_path(tmp_path, monkeypatch):
    bin_dir = install_standins(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir


def test_settings_default_to_the_clis_model_and_a_turn_long_timeout():
    lm = LMSettings(provider="claude-code")
    assert (lm.model, lm.timeout_s) == ("default", 900.0)
    lm = LMSettings(provider="codex", model="gpt-5-codex", timeout_s=60)
    assert (lm.model, lm.timeout_s) == ("gpt-5-codex", 60)


def test_fields_a_cli_cannot_use_are_named():
    lm = LMSettings(provider="opencode", temperature=0.2, api_key_env="KEY", region="x")
    problems = lm_problems(lm)
    assert [p.split()[0] for p in problems] == ["lm.api_key_env", "lm.temperature", "lm.region"]
    assert "'opencode'" in problems[0] and "remove it" in problems[0]
    assert lm_problems(LMSettings(provider="claude-code", model="sonnet")) == []


def test_unknown_provider_lists_the_clis():
    (problem,) = lm_problems(LMSettings(provider="claude", model="x"))
    for name in ("claude-code", "codex", "opencode", "openai"):
        assert f"{name}," in problem or problem.endswith(name)


def test_per_agent_lm_is_validated_with_the_agent_named(chat):
    agents = [a.model_copy(update={"lm": LMSettings(provider="codex", max_tokens=5)})
              if a.name == chat.spec.agents[0].name else a for a in chat.spec.agents]  # fmt: skip
    with pytest.raises(CampaignError, match=r"agent '[\w-]+': lm.max_tokens does not apply"):
        validate_campaign(chat.spec.model_copy(update={"agents": agents}))


def test_a_cli_not_on_path_names_the_executable(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LLMConfigError, match=r"'claude-code' runs the 'claude' executable.*PATH"):
        check_lm(LMSettings(provider="claude-code"))
    with pytest.raises(LLMConfigError, match="'codex' executable"):
        check_lm(lm_override(LMSettings(), "codex:gpt-5-codex"))


def test_override_to_a_cli_drops_sampling_limits(on_path):
    base = LMSettings(provider="openai", model="gpt-5-mini", temperature=0.3, max_tokens=99)
    lm = lm_override(base, "claude-code:sonnet")
    assert (lm.provider, lm.model, lm.temperature, lm.max_tokens) == (
        "claude-code", "sonnet", None, None,
    )  # fmt: skip
    assert lm.timeout_s == 900.0 and lm_problems(lm) == []
    check_lm(lm)
    kept = lm_override(LMSettings(provider="openai", model="m", timeout_s=30), "codex:x")
    assert kept.timeout_s == 30


def test_make_policy_gives_a_cli_its_policy(chat, on_path, tmp_path):
    lm = lm_override(chat.spec.lm, "codex:gpt-5-codex")
    agent = chat.spec.agents[0]
    policy = make_policy(chat.spec, prompts=chat.prompts, agent=agent, lm=lm, run_dir=tmp_path)
    assert isinstance(policy, AgentCLIPolicy) and isinstance(policy.cli, CodexLLM)
    assert policy.name == "cli:codex:gpt-5-codex"
    assert policy.cli.timeout_s == 120  # the campaign set it; kept
    assert policy.session_file == tmp_path / "agent_cli" / f"{agent.name}.json"
    with pytest.raises(ChiaUsageError, match="cannot replay"):
        make_policy(chat.spec, prompts=chat.prompts, agent=agent, lm=lm, run_dir=tmp_path,
                    replay=tmp_path)  # fmt: skip


def test_an_agents_own_lm_wins(chat, on_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    first, second = chat.spec.agents[:2]
    pinned = first.model_copy(update={"lm": LMSettings(provider="claude-code")})
    override = lm_override(chat.spec.lm, "openai:gpt-5-mini")
    assert agent_lm(chat.spec, pinned, override).provider == "claude-code"
    assert agent_lm(chat.spec, second, override).provider == "openai"
    assert agent_lm(chat.spec, second, None) == chat.spec.lm
    cli = make_policy(chat.spec, prompts=chat.prompts, agent=pinned, lm=override)
    assert isinstance(cli, AgentCLIPolicy) and isinstance(cli.cli, ClaudeCodeLLM)
    assert cli.cli.model is None and cli.session_file is None  # the CLI's default model
    api = make_policy(chat.spec, prompts=chat.prompts, agent=second, lm=override)
    assert isinstance(api, LLMPolicy)
