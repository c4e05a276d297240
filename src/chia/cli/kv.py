"""``chia kv``: read and set keys of a live ``chia.base`` KV store on a Ray cluster."""

from __future__ import annotations

import json

import typer

app = typer.Typer(
    help="Read and set keys of a live KV store on a Ray cluster.", no_args_is_help=True
)

NAME = typer.Option(..., "--name", help="Actor name of the store.")
NAMESPACE = typer.Option(..., "--namespace", help="Ray namespace of the store.")
ADDRESS = typer.Option(None, "--address", help="Ray address (default: auto).")


@app.command("get")
def get_key(
    key: str = typer.Argument(..., help="The key to read."),
    name: str = NAME,
    namespace: str = NAMESPACE,
    address: str | None = ADDRESS,
) -> None:
    """Print one key's value as JSON."""
    from chia.base.chia_kv_store import kv_get

    print(json.dumps(kv_get(name, namespace, key, address)))


@app.command("set")
def set_key(
    key: str = typer.Argument(..., help="The key to set."),
    value: str = typer.Argument(..., help="The value (parsed as JSON when valid)."),
    name: str = NAME,
    namespace: str = NAMESPACE,
    address: str | None = ADDRESS,
) -> None:
    """Set one key (creating the store on this node if it does not exist)."""
    from chia.base.chia_kv_store import kv_set, parse_value

    kv_set(name, namespace, key, parse_value(value), address)
