"""The price table: layers, lookups, the arithmetic of one call, and bad price files."""

from __future__ import annotations

import json

import pytest

from chia.errors import ChiaUsageError
from chia.llm.prices import (
    PRICES_ENV,
    ModelPrice,
    PriceTable,
    load_price_file,
    package_prices,
    user_prices,
)


def test_package_table_loads_and_is_dated():
    shipped = package_prices()
    assert shipped.as_of
    assert shipped.prices["openai"]["gpt-4o-mini"].input > 0
    for provider in ("openai", "anthropic", "bedrock", "vertex"):
        assert shipped.prices[provider], provider


def test_cost_counts_input_cached_and_output_tokens():
    table = PriceTable([("t", {"p": {"m": ModelPrice(input=2.0, output=10.0, cached_input=0.5)}})])
    cost = table.cost("p", "m", tokens_in=1_000_000, tokens_out=200_000, tokens_cached=400_000)
    # 600k uncached at $2, 400k cached at $0.5, 200k out at $10 per million
    assert cost.usd == pytest.approx(1.2 + 0.2 + 2.0)
    assert cost.note == "t for p:m"


def test_cached_price_defaults_to_input_and_cannot_exceed_the_prompt():
    table = PriceTable([("t", {"p": {"m": ModelPrice(input=1.0, output=0.0)}})])
    assert table.cost("p", "m", 1000, 0, 5000).usd == pytest.approx(0.001)


def test_later_layers_win_per_model():
    campaign = {"openai": {"gpt-4o-mini": ModelPrice(input=9.0, output=9.0)}}
    user = {"openai": {"gpt-4o-mini": ModelPrice(input=1.0, output=1.0)}}
    assert PriceTable.build(campaign).cost("openai", "gpt-4o-mini", 10**6, 0).usd == 9.0
    both = PriceTable.build(campaign, user).cost("openai", "gpt-4o-mini", 10**6, 0)
    assert both.usd == 1.0 and both.note.startswith("user prices")
    # models the layers above do not name keep the package's price
    assert PriceTable.build(campaign, user).find("openai", "gpt-4o") is not None


def test_dated_model_names_fall_back_to_their_base_name():
    table = PriceTable([("t", {"anthropic": {"claude-x": ModelPrice(input=3, output=15)}})])
    assert table.cost("anthropic", "claude-x-20250929", 10**6, 0).usd == 3.0
    assert table.cost("anthropic", "claude-x-2025-09-29", 0, 10**6).usd == 15.0


def test_the_model_asked_for_prices_an_answer_from_an_unknown_alias():
    table = PriceTable([("t", {"p": {"m": ModelPrice(input=1, output=1)}})])
    assert table.cost("p", "m-served-as-this", 10**6, 0, asked="m").usd == 1.0


def test_unpriced_model_costs_none_and_says_why():
    cost = PriceTable.build().cost("ollama", "llama3", 100, 100)
    assert cost.usd is None
    assert "no price for ollama:llama3" in cost.note


def test_user_price_files_env_then_flag(tmp_path):
    env_file = tmp_path / "env.json"
    env_file.write_text(json.dumps({"prices": {"p": {"m": {"input": 1, "output": 1}}}}))
    flag_file = tmp_path / "flag.yaml"
    flag_file.write_text("as_of: '2026-01'\nprices:\n  p:\n    m: {input: 2, output: 2}\n")
    assert user_prices(None, {PRICES_ENV: str(env_file)})["p"]["m"].input == 1
    assert user_prices(flag_file, {PRICES_ENV: str(env_file)})["p"]["m"].input == 2
    assert user_prices(None, {}) == {}


@pytest.mark.parametrize(
    ("text", "suffix", "says"),
    [
        ("{not json", ".json", ":1:6: JSON syntax error"),
        ("prices: [", ".yaml", ":1:10: YAML syntax error"),
        ('{"prices": {"p": {"m": {"input": -1, "output": 1}}}}', ".json", "prices.p.m.input"),
        (
            '{"prices": {"p": {"m": {"input": 1}}}}',
            ".json",
            "missing required key 'prices.p.m.output'",
        ),
        (
            '{"prices": {"p": {"m": {"input": 1, "output": 1, "x": 1}}}}',
            ".json",
            "unknown key 'prices.p.m.x'",
        ),
        ('{"price": {}}', ".json", "unknown key 'price'"),
    ],
)
def test_bad_price_files_name_the_file_and_the_field(tmp_path, text, suffix, says):
    path = tmp_path / f"prices{suffix}"
    path.write_text(text)
    with pytest.raises(ChiaUsageError, match=str(path)) as caught:
        load_price_file(path)
    assert says in str(caught.value)
    assert caught.value.exit_code == 2


def test_missing_price_file_is_a_usage_error(tmp_path):
    with pytest.raises(ChiaUsageError, match=r"absent\.json: no such file"):
        load_price_file(tmp_path / "absent.json")
