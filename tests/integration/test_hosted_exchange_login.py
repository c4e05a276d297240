"""Academy's hosted and Globus exchanges without a cached login: fail at once, name the fix.

The hosted exchange cannot be reached from here; everything up to the network call is
real: the CLI, Academy's token file under $ACADEMY_HOME, and the login check.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chia.exchange.settings import HOSTED_EXCHANGE_URL
from chia.testing.globus import seed_login

PROJECT = "6a3b2c1d-0000-4000-8000-000000000042"
EXCHANGES = [
    ["--exchange", "http", "--exchange-url", HOSTED_EXCHANGE_URL],
    ["--exchange", "globus", "--exchange-url", f"globus://{PROJECT}"],
]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ACADEMY_GLOBUS_")}
    return {**base, "ACADEMY_HOME": str(tmp_path / "academy")}


@pytest.mark.parametrize("exchange", EXCHANGES, ids=["hosted", "globus"])
def test_spawn_site_without_login_starts_nothing(chia, tmp_path, env, exchange):
    runs = tmp_path / "runs"
    result = chia(
        "spawn-site", "--system", "local", "--campaign", "federated-chat",
        "--agents", "agent-aurora", "--run-id", "r1", "--runs-dir", str(runs), *exchange,
        env=env,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "run `chia exchange login` once on this machine" in result.stderr
    assert not runs.exists()  # refused before a run dir or a rank


@pytest.mark.parametrize("exchange", EXCHANGES, ids=["hosted", "globus"])
def test_bootstrap_without_login_fails_fast(chia, env, exchange):
    result = chia("bootstrap", "--campaign", "federated-chat", "--run-id", "r1", *exchange, env=env)
    assert result.returncode == 2, result.stderr
    assert "chia exchange login" in result.stderr and "Traceback" not in result.stderr


def test_login_status_reads_the_cache_and_login_needs_a_terminal(chia, tmp_path, env):
    missing = chia("exchange", "login", "--status", env=env)
    assert missing.returncode == 2 and "not logged in" in missing.stderr
    refused = chia("exchange", "login", env=env)  # stdin is not a terminal here
    assert refused.returncode == 2 and "interactive" in refused.stderr
    seed_login(tmp_path / "academy")
    cached = chia("exchange", "login", "--status", env=env)
    assert cached.returncode == 0 and "logged in" in cached.stdout


def test_a_bad_globus_address_is_named(chia, env):
    result = chia(
        "bootstrap", "--campaign", "federated-chat", "--run-id", "r1",
        "--exchange", "globus", "--exchange-url", "globus://nope", env=env,
    )  # fmt: skip
    assert result.returncode == 2
    assert "'nope' is not a project uuid" in result.stderr and "pydantic" not in result.stderr
