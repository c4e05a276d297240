"""The CLI attaches only the module a command line needs, and the table of commands is whole."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer.main

from chia.cli.main import COMMANDS, build_app


def _top_level_names() -> set[str]:
    group = typer.main.get_group(build_app())
    return set(group.commands)


def test_every_command_is_in_the_table_and_every_entry_is_a_command() -> None:
    assert _top_level_names() == set(COMMANDS)


@pytest.mark.parametrize("command", ["campaign", "up", "viz"])
def test_a_command_line_imports_only_its_own_command_module(command: str) -> None:
    others = sorted(
        {f"chia.cli.{m}" for m in COMMANDS.values()} - {f"chia.cli.{COMMANDS[command]}"}
    )
    code = (
        "import sys\n"
        "from chia.cli.main import build_app\n"
        f"build_app({command!r})\n"
        f"print([m for m in {others!r} if m in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_help_and_unknown_commands_see_every_command(chia) -> None:
    shown = chia("--help").stdout
    assert "campaign" in shown and "viz-profile" in shown and "kv" in shown
    unknown = chia("no-such-command")
    assert unknown.returncode == 2 and "No such command" in unknown.stderr
