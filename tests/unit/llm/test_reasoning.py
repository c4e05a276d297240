import pytest

from chia.llm.reasoning import SAMPLING_KNOBS, drop_sampling_knobs, is_reasoning_model


@pytest.mark.parametrize(
    "model",
    ["gpt-5", "gpt-5-mini", "GPT-5.1", "gpt5", "gpt5mini", "gpt5nano", "o1", "o1-mini",
     "o3-mini", "o4-mini", "gpto1preview", "gpto3mini", "gpto4mini", "openai/gpt-5-mini",
     "azure/o3"],
)  # fmt: skip
def test_reasoning_models(model):
    assert is_reasoning_model(model)


@pytest.mark.parametrize(
    "model",
    ["gpt-4o", "gpt-4.1-mini", "gpt4o", "gpt-5-chat-latest", "llama3:8b", "qwen3", "o10",
     "omni-moderation", "meta/llama-3.1-8b"],
)  # fmt: skip
def test_other_models(model):
    assert not is_reasoning_model(model)


def test_knobs_dropped_only_for_reasoning_models():
    settings = {"temperature": 0.2, "top_p": 0.9, "max_tokens": 50, "timeout_s": 5}
    assert drop_sampling_knobs("gpt-5-mini", settings) == {"max_tokens": 50, "timeout_s": 5}
    assert drop_sampling_knobs("gpt-4o", settings) == settings
    assert "temperature" in SAMPLING_KNOBS
