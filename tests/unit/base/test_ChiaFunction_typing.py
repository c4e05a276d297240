"""mypy infers values through ``@ChiaFunction``, ``chia_remote`` and ``get``."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

SNIPPET = """
from chia.base.ChiaFunction import ChiaCallRemote, ChiaFunction, get

@ChiaFunction(num_cpus=1)
def add(x: int, y: int) -> int:
    return x + y

class Tool:
    @ChiaFunction()
    def work(self, x: int) -> str:
        return str(x)

reveal_type(get(add.chia_remote(1, 2)))
reveal_type(get(ChiaCallRemote(add, 1, 2)))
reveal_type(add.chia_remote_blocking(1, 2))
reveal_type(get([add.chia_remote(1, 2)]))
reveal_type(add(1, 2))
tool = Tool()
reveal_type(get(tool.work.chia_remote(tool, 1)))
add.chia_remote("a", 2)
"""


@pytest.mark.timeout(120)
def test_mypy_infers_types_and_checks_arguments(tmp_path: Path) -> None:
    source = tmp_path / "flow.py"
    source.write_text(SNIPPET)
    stdout, _stderr, status = api.run(
        [str(source), "--strict", "--no-error-summary", "--follow-imports=silent"]
    )
    lines = stdout.splitlines()
    revealed = [line.split("Revealed type is ")[1] for line in lines if "Revealed type" in line]
    short = [r.strip('"').replace("builtins.", "") for r in revealed]
    assert short == ["int", "int", "int", "list[int]", "int", "str"]
    errors = [line for line in lines if ": error:" in line]
    assert len(errors) == 1 and '"chia_remote" of "ChiaWrapped"' in errors[0]
    assert status == 1
