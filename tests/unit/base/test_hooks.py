"""Per-call setup/cleanup hooks (``_chia_setup``...), on a worker, locally and on actors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import ray

from chia.base._hooks import Hooks, pop_hooks, run_with_hooks
from chia.base.ChiaFunction import ChiaFunction, chia_actor, get

pytestmark = pytest.mark.timeout(60)


def note(path: str, text: str) -> str:
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)
    return "HOOK-RETURN"


def fail_setup() -> None:
    raise RuntimeError("setup failed")


def fail_cleanup(path: str) -> None:
    note(path, "cleanup\n")
    raise RuntimeError("cleanup failed")


@ChiaFunction(num_cpus=0.1, max_retries=0)
def record(path: str) -> str:
    note(path, "func\n")
    return Path(path).read_text(encoding="utf-8")


@ChiaFunction(num_cpus=0.1, max_retries=0)
def record_and_raise(path: str) -> None:
    note(path, "func\n")
    raise ValueError("func failed")


@ray.remote(num_cpus=0)
class Journal:
    def __init__(self, path: str) -> None:
        self.path = path

    def write(self, text: str) -> str:
        note(self.path, text)
        return Path(self.path).read_text(encoding="utf-8")


def both(path: str) -> dict[str, object]:
    return {
        "_chia_setup": note,
        "_chia_setup_args": (path, "setup\n"),
        "_chia_cleanup": note,
        "_chia_cleanup_args": (path, "cleanup\n"),
    }


def text(path: str) -> str:
    return Path(path).read_text(encoding="utf-8") if Path(path).exists() else ""


def test_setup_runs_before_and_cleanup_after_on_the_worker(ray_local: None, tmp_path: Path) -> None:
    log = str(tmp_path / "log")
    assert get(record.chia_remote(log, **both(log))) == "setup\nfunc\n"  # type: ignore[arg-type]
    assert text(log) == "setup\nfunc\ncleanup\n"


def test_cleanup_runs_when_func_raises_and_never_masks_it(ray_local: None, tmp_path: Path) -> None:
    log = str(tmp_path / "log")
    with pytest.raises(ValueError, match="func failed"):
        get(
            record_and_raise.chia_remote(log, _chia_cleanup=fail_cleanup, _chia_cleanup_args=(log,))
        )
    assert text(log) == "func\ncleanup\n"


def test_cleanup_error_is_swallowed_and_its_return_ignored(ray_local: None, tmp_path: Path) -> None:
    log = str(tmp_path / "log")
    assert get(record.chia_remote(log, _chia_cleanup=fail_cleanup, _chia_cleanup_args=(log,))) == (
        "func\n"
    )
    other = str(tmp_path / "other")
    assert get(
        record.chia_remote(other, _chia_cleanup=note, _chia_cleanup_args=(other, "c\n"))
    ) == ("func\n")


def test_setup_error_skips_func_and_cleanup(ray_local: None, tmp_path: Path) -> None:
    log = str(tmp_path / "log")
    with pytest.raises(RuntimeError, match="setup failed"):
        get(
            record.chia_remote(
                log, _chia_setup=fail_setup, _chia_cleanup=note, _chia_cleanup_args=(log, "c")
            )
        )
    assert not Path(log).exists()


def test_hooks_given_to_options_and_overridden_per_call(ray_local: None, tmp_path: Path) -> None:
    log = str(tmp_path / "log")
    handle = record.options(num_cpus=0.2, **both(log))
    assert get(handle.chia_remote(log)) == "setup\nfunc\n"
    assert get(handle.remote(log, _chia_setup=None)) == "setup\nfunc\ncleanup\nfunc\n"  # type: ignore[attr-defined]
    assert text(log).endswith("cleanup\nfunc\ncleanup\n")
    assert "_chia_setup" not in handle.ray_options  # type: ignore[attr-defined]


def test_local_call_runs_hooks_in_process(tmp_path: Path) -> None:
    log = str(tmp_path / "log")
    assert record(log, **both(log)) == "setup\nfunc\n"  # type: ignore[arg-type]
    assert text(log) == "setup\nfunc\ncleanup\n"


def test_actor_methods_take_hooks_through_chia_actor(ray_local: None, tmp_path: Path) -> None:
    log = str(tmp_path / "log")
    journal = chia_actor(Journal.remote(log))  # type: ignore[attr-defined]
    assert get(journal.write.chia_remote("a\n", **both(log))) == "setup\na\n"
    assert text(log) == "setup\na\ncleanup\n"
    method = journal.write.options(_chia_cleanup=note, _chia_cleanup_args=(log, "end\n"))
    assert get(method.remote("b\n")) == "setup\na\ncleanup\nb\n"
    assert get(journal.write.chia_remote("c\n")).endswith("end\nc\n")  # no hooks: plain call
    ray.kill(journal.actor)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("_chia_setup", "mount", "_chia_setup must be callable"),
        ("_chia_cleanup", 3, "_chia_cleanup must be callable"),
        ("_chia_setup_args", ["a"], "_chia_setup_args must be a tuple"),
        ("_chia_cleanup_args", "a", "_chia_cleanup_args must be a tuple"),
    ],
)
def test_bad_hook_options_fail_in_the_caller(option: str, value: object, message: str) -> None:
    hooks = {"_chia_setup": note, "_chia_cleanup": note, option: value}
    with pytest.raises(TypeError, match=message):
        record.chia_remote("unused", **hooks)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=message):
        record.options(**hooks)
    with pytest.raises(TypeError, match=message):
        ChiaFunction(**hooks)(note)
    with pytest.raises(TypeError, match=message):
        pop_hooks(dict(hooks))


def test_a_hook_set_to_none_means_no_hook() -> None:
    assert pop_hooks({"_chia_setup": None, "_chia_setup_args": (1,)}) is None
    assert pop_hooks({}) is None
    base = Hooks(setup=note, setup_args=("p", "x"))
    assert pop_hooks({"_chia_cleanup": None}, base) == base


def test_run_with_hooks_logs_a_failing_cleanup(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = str(tmp_path / "log")
    with caplog.at_level(logging.ERROR, logger="chia.base._hooks"):
        assert run_with_hooks(Hooks(cleanup=fail_cleanup, cleanup_args=(log,)), lambda: 5) == 5
    assert "cleanup hook raised" in caplog.text
