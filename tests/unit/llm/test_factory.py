import pytest

from chia.llm import LLMConfigError, make_llm, parse_model_ref
from chia.llm.openai_compatible import OpenAICompatibleLLM
from chia.llm.scripted import ScriptedLLM


def test_parse_model_ref():
    assert parse_model_ref("openai:gpt-5-mini") == ("openai", "gpt-5-mini")
    assert parse_model_ref("ollama:llama3:8b") == ("ollama", "llama3:8b")
    for bad in ("gpt-5", "openai:", ":m"):
        with pytest.raises(LLMConfigError, match="expected provider:model"):
            parse_model_ref(bad)
    with pytest.raises(LLMConfigError, match="unknown lm provider 'x'"):
        parse_model_ref("x:m")


def test_builds_each_kind(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-unit")
    assert isinstance(make_llm("scripted", "s"), ScriptedLLM)
    llm = make_llm("openai", "gpt-4o", system_message="sys", temperature=None)
    assert isinstance(llm, OpenAICompatibleLLM) and llm.system_message == "sys"
    assert make_llm("ollama", "llama3").config.api_key_env is None


def test_errors_at_build_time(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(LLMConfigError, match="OPENAI_API_KEY"):
        make_llm("openai", "gpt-5-mini")
    with pytest.raises(LLMConfigError, match="unknown lm provider"):
        make_llm("anthropic-ish", "m")
    with pytest.raises(LLMConfigError, match="unknown setting"):
        make_llm("ollama", "m", frobnicate=1)
    with pytest.raises(LLMConfigError, match="unknown setting"):
        make_llm("scripted", "m", frobnicate=1)
