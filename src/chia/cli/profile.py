"""``chia profile``: list and show system profiles, and export their schema."""

from __future__ import annotations

import typer
from rich.table import Table

from chia.cli._output import console, print_json
from chia.profiles import SystemProfile, load_profile, packaged_profiles, read_profile_data

app = typer.Typer(help="Inspect system profiles (one per HPC machine).", no_args_is_help=True)


@app.command("list")
def list_profiles() -> None:
    """List packaged system profiles (placeholders are not expanded)."""
    table = Table("name", "launcher", "remote host", "description", box=None)
    for name in packaged_profiles():
        _, data = read_profile_data(name)
        launcher = data.get("launcher", {}).get("kind", "local")
        table.add_row(name, launcher, data.get("remote_host") or "-", data.get("description", ""))
    console.print(table)


@app.command()
def show(
    profile: str = typer.Argument(..., help="A packaged profile name or a profile JSON file."),
    raw: bool = typer.Option(False, "--raw", help="Show the file without expanding ${VAR}."),
) -> None:
    """Show a profile with its ${VAR} placeholders expanded from the environment."""
    if raw:
        print_json(read_profile_data(profile)[1])
        return
    print_json(load_profile(profile).model_dump(mode="json", exclude_none=True))


@app.command()
def schema() -> None:
    """Print the JSON Schema of system-profile files, for editors."""
    print_json(SystemProfile.model_json_schema(by_alias=True))
