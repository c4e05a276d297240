"""``chia relay start|stop|status --system S``: the LLM relay on a site's login node."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from chia.cli._output import console

app = typer.Typer(help="Drive the LLM relay on a site's login node.", no_args_is_help=True)

SYSTEM = typer.Option(..., "--system", help="The site's profile name or file (one site).")
SSH_CONFIG = typer.Option(
    None, "--ssh-config", envvar="CHIA_SSH_CONFIG", help="ssh -F file (default: ssh's)."
)
CONTROL_DIR = typer.Option(
    None, "--control-dir", envvar="CHIA_SSH_CONTROL_DIR", help="ControlMaster socket folder."
)
PORT = typer.Option(None, "--port", min=0, max=65535, help="Relay port (default: profile's).")


def _site(system: str, port: int | None) -> tuple[Any, Any]:
    from chia.dashboard.relay import RelaySite
    from chia.errors import ChiaUsageError
    from chia.profiles import load_profile

    if "," in system:
        raise ChiaUsageError("chia relay drives one site at a time: give one --system")
    profile = load_profile(system)
    if not profile.remote_host:
        raise ChiaUsageError(f"profile {profile.name!r} has no remote_host to ssh to")
    relay = RelaySite(
        site=profile.name,
        run_root=profile.run_root,
        python=profile.python,
        port=(profile.relay_port or 0) if port is None else port,
        host_file=profile.relay_host_file,
    )
    return profile, relay


def _master(profile: Any, ssh_config: Path | None, control_dir: Path | None) -> Any:
    from chia.dashboard.ssh import SshMaster, SshTarget

    target = SshTarget(profile.name, profile.remote_host, ssh_config)
    return SshMaster(target, control_dir=control_dir, reuse=True)


def _ask(
    verb: str, system: str, port: int | None, ssh_config: Path | None, control_dir: Path | None
) -> tuple[str, dict[str, Any]]:
    """Run one relay command (``stop``, ``status``) on the site; return the site and reply."""
    from chia.dashboard.relay import relay_command

    profile, relay = _site(system, port)
    with _master(profile, ssh_config, control_dir) as master:
        return profile.name, relay_command(master, relay, verb)


@app.command()
def start(
    system: str = SYSTEM,
    target_port: int = typer.Option(
        ..., "--target-port", min=1, max=65535, help="The model endpoint's port on this laptop."
    ),
    target_host: str = typer.Option("127.0.0.1", "--target-host", help="...and its host."),
    port: int | None = PORT,
    ssh_config: Path | None = SSH_CONFIG,
    control_dir: Path | None = CONTROL_DIR,
) -> None:
    """Start (or restart) the relay: login-node port -> reverse tunnel -> this laptop.

    Needs the site's ControlMaster from a running `chia dashboard RUN --system S`: the
    reverse tunnel lives on it. Replaces this login node's earlier relay for the port.
    """
    from chia.dashboard.relay import start_relay
    from chia.errors import ChiaUsageError

    profile, relay = _site(system, port)
    master = _master(profile, ssh_config, control_dir)
    if not master.alive():
        raise ChiaUsageError(
            f"no ssh master for site {profile.name}: run `chia dashboard RUN --system "
            f"{system}` first (the relay's tunnel lives on its ControlMaster)"
        )
    master.open()
    record = start_relay(master, relay, target_port, target_host)
    console.print(
        f"relay {profile.name}: {record['host']}:{record['port']} -> tunnel "
        f"127.0.0.1:{record['tunnel_port']} -> {target_host}:{target_port} "
        f"(pid {record['pid']}"
        + (", replaced an earlier relay" if record.get("replaced_earlier") else "")
        + ")",
        markup=False,
    )
    if relay.host_file:
        console.print(f"relay {profile.name}: compute nodes read {relay.host_file}", markup=False)


@app.command()
def stop(
    system: str = SYSTEM,
    port: int | None = PORT,
    ssh_config: Path | None = SSH_CONFIG,
    control_dir: Path | None = CONTROL_DIR,
) -> None:
    """Stop the relay on the site's login node (only chia's own relay for that port)."""
    site, doc = _ask("stop", system, port, ssh_config, control_dir)
    state = "stopped" if doc.get("stopped") else "was not running"
    console.print(f"relay {site}: {state} on {doc.get('host')}", markup=False)


@app.command()
def status(
    system: str = SYSTEM,
    port: int | None = PORT,
    ssh_config: Path | None = SSH_CONFIG,
    control_dir: Path | None = CONTROL_DIR,
) -> None:
    """Say whether the relay runs on the site's login node; exit 3 when it does not."""
    site, doc = _ask("status", system, port, ssh_config, control_dir)
    if doc.get("running"):
        console.print(
            f"relay {site}: running on {doc['host']}:{doc['port']} (pid {doc['pid']})",
            markup=False,
        )
        return
    console.print(f"relay {site}: not running on {doc.get('host')}", markup=False)
    raise typer.Exit(3)
