"""``chia dashboard``: serve one run's merged, live, read-only view on this machine."""

from __future__ import annotations

from pathlib import Path

import typer

from chia.cli._output import console


def dashboard(
    run_id: str = typer.Argument(..., help="The run id (the same on every site)."),
    system: str | None = typer.Option(
        None, "--system", help="Sites to mirror over ssh: profile names or files, a,b."
    ),
    local: Path | None = typer.Option(
        None, "--local", help="Serve a local runs root (holds <run-id>/<site>/)."
    ),
    port: int = typer.Option(0, "--port", min=0, max=65535, help="HTTP port; 0 = a free one."),
    host: str = typer.Option(
        "127.0.0.1",
        "--host",
        help="Address to bind (loopback default). Any other address requires a token.",
    ),
    token: str | None = typer.Option(
        None,
        "--token",
        envvar="CHIA_DASHBOARD_TOKEN",
        show_envvar=True,
        help="Token API requests must carry (off loopback a fresh one is made if unset).",
    ),
    insecure: bool = typer.Option(
        False, "--insecure", help="Serve a non-loopback address with no token (trusted network)."
    ),
    mirror_dir: Path = typer.Option(
        Path("~/.cache/chia/mirror"), "--mirror-dir", help="Where --system mirrors go."
    ),
    interval_s: float = typer.Option(
        3.0, "--interval-s", min=0.2, help="Seconds between rsync passes per site."
    ),
    poll_s: float = typer.Option(
        0.5,
        "--poll-s",
        min=0.02,
        max=60.0,
        help="Longest wait between re-reads of the run's files (a change inotify reports "
        "is read at once; this is the fallback, e.g. on network file systems).",
    ),
    ssh_config: Path | None = typer.Option(
        None, "--ssh-config", envvar="CHIA_SSH_CONFIG", help="ssh -F file (default: ssh's)."
    ),
    control_dir: Path | None = typer.Option(
        None,
        "--control-dir",
        envvar="CHIA_SSH_CONTROL_DIR",
        help="Where ControlMaster sockets live (default ~/.cache/chia/ssh).",
    ),
    remote_host: str | None = typer.Option(
        None, "--remote-host", help="Override the profile's remote_host (one site only)."
    ),
    remote_run_root: str | None = typer.Option(
        None, "--remote-run-root", help="Override the profile's run_root (one site only)."
    ),
) -> None:
    """Serve the merged live view of RUN_ID at http://127.0.0.1:<port>/ until Ctrl-C.

    With --local DIR (default ./runs), serves DIR/RUN_ID. With --system aurora,crux,
    opens one ssh ControlMaster per site, mirrors each site's
    <run_root>/RUN_ID/<site>/ into <mirror-dir>/RUN_ID/<site>/ with rsync every
    --interval-s seconds, serves the mirror, and tears it all down on exit.

    Ctrl-C, SIGTERM or SIGHUP while serving is its normal end (exit 0, the signal named);
    one while logging in to the sites closes what was opened and exits 1.

    On a non-loopback --host the dashboard requires a token: --token, $CHIA_DASHBOARD_TOKEN
    or a fresh one; the printed URL carries it after '#', which the browser keeps to
    itself. --insecure serves without one.
    """
    from chia.cli._signals import exit_on_stop_signal
    from chia.dashboard import serve_in_foreground
    from chia.dashboard.access import bind_token
    from chia.errors import ChiaUsageError
    from chia.names import check_name

    check_name(run_id, "run id")
    token = bind_token(host, token, insecure)

    def say(text: str) -> None:
        console.print(text, markup=False)

    if system is None:
        if remote_host or remote_run_root:
            raise ChiaUsageError("--remote-host and --remote-run-root need --system")
        root = (local or Path("runs")).expanduser()
        if not (root / run_id).is_dir() and root.name == run_id:
            root = root.parent  # DIR was the run directory itself
        if not (root / run_id).is_dir():
            say(f"dashboard: {root / run_id} does not exist yet; waiting for it to appear")
        serve_in_foreground(
            root, run_id, port=port, host=host, say=say, token=token, poll_interval_s=poll_s
        )
        return
    if local is not None:
        raise ChiaUsageError("--local and --system exclude each other (see --mirror-dir)")
    from chia.dashboard.site_mirrors import MirrorSettings, mirrored_sites, site_remotes

    remotes = site_remotes(system, remote_host=remote_host, remote_run_root=remote_run_root)
    settings = MirrorSettings(
        mirror_root=mirror_dir.expanduser().resolve(),
        interval_s=interval_s,
        ssh_config=ssh_config,
        control_dir=control_dir,
    )
    with (
        exit_on_stop_signal("dashboard", "closed its ssh masters and mirrors"),
        mirrored_sites(run_id, remotes, settings, say=say),
    ):
        serve_in_foreground(
            settings.mirror_root,
            run_id,
            port=port,
            host=host,
            say=say,
            token=token,
            poll_interval_s=poll_s,
        )


def register(app: typer.Typer) -> None:
    """Attach ``chia dashboard``."""
    app.command("dashboard")(dashboard)
