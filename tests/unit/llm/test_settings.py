import pytest

from chia.errors import ChiaUsageError
from chia.llm.errors import LLMConfigError, MissingAPIKeyError
from chia.llm.settings import (
    PRESETS,
    LLMConfig,
    find_placeholder,
    known_providers,
    read_api_key,
    redact,
)


def test_presets_fill_endpoint_and_key_variable():
    config = LLMConfig.resolve("groq", "llama-3.3-70b")
    assert config.base_url == PRESETS["groq"].base_url
    assert config.api_key_env == "GROQ_API_KEY"
    own = LLMConfig.resolve("groq", "m", base_url="http://h/v1", api_key_env="MY_KEY")
    assert (own.base_url, own.api_key_env) == ("http://h/v1", "MY_KEY")


def test_none_settings_are_left_out():
    config = LLMConfig.resolve("openai", "gpt-4o", settings={"temperature": None, "max_tokens": 9})
    assert config.settings == {"max_tokens": 9}


def test_unknown_provider_lists_known_ones():
    with pytest.raises(
        LLMConfigError, match="unknown lm provider 'nope'; known: anthropic, argo, bedrock, "
    ) as info:
        LLMConfig.resolve("nope", "m")
    assert isinstance(info.value, ChiaUsageError) and info.value.exit_code == 2
    assert "scripted" in known_providers() and "openai_compatible" in known_providers()
    assert {"anthropic", "bedrock", "vertex"} <= set(known_providers())


@pytest.mark.parametrize(
    ("provider", "kwargs", "message"),
    [
        ("vllm", {}, "needs lm.base_url"),
        ("argo", {"base_url": "https://gw/v1"}, "needs lm.user"),
        ("openai", {"model": " "}, "needs a model name"),
    ],
)
def test_missing_pieces(provider, kwargs, message):
    model = kwargs.pop("model", "m")
    with pytest.raises(LLMConfigError, match=message):
        LLMConfig.resolve(provider, model, **kwargs)


@pytest.mark.parametrize(
    ("field", "value"),
    [("user", "<argo-user>"), ("base_url", "https://${GATEWAY}/v1"), ("model", "{{model}}")],
)
def test_placeholders_rejected(field, value):
    kwargs = {"base_url": "https://gw/v1", "settings": {"user": "me"}}
    model = "gpt5"
    if field == "user":
        kwargs["settings"] = {"user": value}
    elif field == "base_url":
        kwargs["base_url"] = value
    else:
        model = value
    with pytest.raises(LLMConfigError, match=f"lm.{field} still holds the template placeholder"):
        LLMConfig.resolve("argo", model, **kwargs)


def test_find_placeholder():
    assert find_placeholder("hello <argo-user>!") == "<argo-user>"
    assert find_placeholder("a < b and c > d") is None
    assert find_placeholder("plain") is None


def test_read_api_key_names_the_variable_never_a_value():
    assert read_api_key("K", {"K": " sk-1 "}) == "sk-1"
    with pytest.raises(MissingAPIKeyError, match="names K, which is not set"):
        read_api_key("K", {"K": ""})
    with pytest.raises(LLMConfigError, match="not an environment variable name"):
        read_api_key("1-bad", {})


def test_redact_masks_the_key_and_its_ends():
    key = "sk-abcdefgh12345678wxyz90"
    text = f"Incorrect API key provided: {key}; or sk-abcdef...wxyz90"
    out = redact(text, key)
    assert key not in out and "wxyz90" not in out and "sk-abcde" not in out
    assert redact("x", None) == "x"
