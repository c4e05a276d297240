"""ChiaFunction's retry defaults are CHIA 2.0.1's (docs/chia-compat.md, defaults table).

CHIA's decorator sets no retry option, so a task takes Ray's defaults: a task whose
worker dies is retried 3 times (4 runs in all), an application exception is not retried.
These tests count real runs, so they fail if our default ever changes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import ray

from chia.base.ChiaFunction import ChiaFunction, get

pytestmark = pytest.mark.timeout(120)

CHIA_2_0_1_MAX_RETRIES = 3
"""CHIA 2.0.1's default: retries of a task whose worker died (Ray's ``max_retries``)."""


@ChiaFunction(num_cpus=0.1)
def die(log: str) -> None:
    with open(log, "a", encoding="utf-8") as handle:
        handle.write("run\n")
    os._exit(1)  # the worker dies: a system failure, retried by default


@ChiaFunction(num_cpus=0.1)
def fail(log: str) -> None:
    with open(log, "a", encoding="utf-8") as handle:
        handle.write("run\n")
    raise ValueError("application error")


def _runs(log: Path) -> int:
    return len(log.read_text(encoding="utf-8").splitlines()) if log.exists() else 0


def test_a_dead_worker_is_retried_chias_default_number_of_times(
    ray_local: None, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    assert "max_retries" not in die.ray_options  # type: ignore[attr-defined]
    with pytest.raises(ray.exceptions.WorkerCrashedError):
        get(die.chia_remote(str(log)))
    assert _runs(log) == 1 + CHIA_2_0_1_MAX_RETRIES


def test_an_application_exception_is_not_retried_by_default(
    ray_local: None, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    with pytest.raises(ValueError, match="application error"):
        get(fail.chia_remote(str(log)))
    assert _runs(log) == 1


def test_the_local_call_is_not_retried(tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    with pytest.raises(ValueError):
        fail(str(log))
    assert _runs(log) == 1
