"""Prices that cannot be used stop chia before any process starts: exit 2.

The line names the file (with line and column for a syntax error) and the dotted field.

A user price file (``spawn-site --prices`` or ``$CHIA_PRICES``) that is not JSON/YAML,
holds a negative price or an unknown key, or does not exist; and a campaign whose
``prices`` section is wrong, caught by ``chia campaign validate`` with the field named.
"""

from __future__ import annotations

import json
import shutil

import pytest

SITE = ["spawn-site", "--system", "local", "--agents", "agent-aurora", "--exchange", "local"]
SITE += ["--campaign", "federated-chat"]


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("p.json", "{not json", ":1:6: JSON syntax error"),
        ("p.yaml", "prices: [", ":1:10: YAML syntax error"),
        ("p.json", '{"prices": {"openai": {"gpt-5": {"input": -1, "output": 1}}}}',
         "prices.openai.gpt-5.input: Input should be greater than or equal to 0"),
        ("p.json", '{"prices": {"openai": {"gpt-5": {"in": 1, "output": 1}}}}',
         "unknown key 'prices.openai.gpt-5.in'"),
        (None, "", "no such file"),
    ],
)  # fmt: skip
def test_bad_user_price_file_exits_2_naming_the_field(chia, tmp_path, name, text, expected):
    path = tmp_path / (name or "absent.json")
    if name is not None:
        path.write_text(text)
    runs = tmp_path / "runs"
    result = chia(*SITE, "--runs-dir", str(runs), "--prices", str(path))
    _check_refused(result, path, expected, runs)


def test_a_bad_price_file_named_by_the_environment_is_refused_the_same_way(chia, tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"prices": {"openai": {"gpt-5": {"input": -1, "output": 1}}}}')
    runs = tmp_path / "runs"
    result = chia(*SITE, "--runs-dir", str(runs), env={"CHIA_PRICES": str(path)})
    _check_refused(result, path, "prices.openai.gpt-5.input", runs)


def _check_refused(result, path, expected, runs):
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()  # one line per problem, each naming the file
    assert lines[0].startswith(f"error: {path}"), lines
    assert all(str(path) in line for line in lines), lines
    assert any(expected in line for line in lines), lines
    assert not runs.exists()  # nothing was launched or written


def test_bad_campaign_prices_name_the_field(chia, tmp_path, federated_chat_dir):
    target = tmp_path / "priced"
    shutil.copytree(federated_chat_dir, target)
    campaign = target / "campaign.jsonc"
    text = campaign.read_text()
    bad = {"anthropic": {"claude-sonnet-4-5": {"input": "three", "output": 15}}}
    campaign.write_text(text.replace('"agents":', f'"prices": {json.dumps(bad)},\n  "agents":', 1))
    result = chia("campaign", "validate", str(campaign))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "prices.anthropic.claude-sonnet-4-5.input" in result.stderr, result.stderr
