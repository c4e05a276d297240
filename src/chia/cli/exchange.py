"""``chia exchange serve``: self-host Academy's HTTP exchange or chia's push exchange."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

import typer

from chia.cli._output import console

app = typer.Typer(help="Self-host the message exchange agents meet on.", no_args_is_help=True)


@app.command()
def serve(
    transport: str = typer.Option(
        "http",
        "--transport",
        help=(
            "http (Academy's HTTP exchange; clients use --exchange http) or push (one "
            "WebSocket per client, messages pushed as they arrive; --exchange push)."
        ),
    ),
    max_message_bytes: int = typer.Option(
        512 * 1024, "--max-message-bytes", min=1024, help="Largest message (push only)."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback default)."),
    port: int = typer.Option(0, "--port", min=0, max=65535, help="Port to bind; 0 = a free one."),
    backend: str = typer.Option(
        "memory",
        "--backend",
        help=(
            "Mailbox store: memory (in-process: a restart of this server loses every "
            "mailbox and queued message, so running agents must be restarted too) or "
            "redis (mailboxes kept across server restarts; give redis-server "
            "`appendonly yes` to keep them across its own restarts too). With push, "
            "several servers over one Redis share the mailboxes: a client may use any."
        ),
    ),
    redis_url: str | None = typer.Option(
        None, "--redis-url", help="redis://host:port/db for --backend redis."
    ),
    redis_prefix: str | None = typer.Option(
        None, "--redis-prefix", help="Key prefix of the push mailboxes (default chia:push)."
    ),
    tls_cert: Path | None = typer.Option(
        None, "--tls-cert", help="PEM certificate: serve TLS, wss:// (push only)."
    ),
    tls_key: Path | None = typer.Option(None, "--tls-key", help="Its PEM private key."),
    url_file: Path | None = typer.Option(
        None, "--url-file", help="Also write the bound URL to this file (for scripts)."
    ),
    insecure: bool = typer.Option(
        False,
        "--insecure",
        help="Allow a non-loopback bind without $CHIA_EXCHANGE_TOKEN (trusted networks only).",
    ),
) -> None:
    """Run the exchange until Ctrl-C, SIGTERM or SIGHUP; print the URL it bound.

    Clients reach it with `--exchange http --exchange-url URL` (with --transport push:
    `--exchange push --exchange-url ws://...`). When $CHIA_EXCHANGE_TOKEN
    is set, every request must carry it (clients send it from the same variable); a
    non-loopback --host requires it unless --insecure. A stop signal is its normal end:
    it closes every connection, frees the port, says which signal, and exits 0.

    Restarting it on the same --port is safe with --backend redis: agents and bootstrap
    reconnect with backoff and find their mailboxes again. The memory backend cannot
    keep mailboxes across its own restart (docs/durability.md, "Exchange restarts").
    """
    from chia.errors import ChiaUsageError
    from chia.exchange.server import check_bind, write_config
    from chia.exchange.server import serve as serve_exchange
    from chia.exchange.settings import TOKEN_ENV
    from chia.interrupts import signal_name

    if backend not in ("memory", "redis"):
        raise ChiaUsageError(f"unknown --backend {backend!r}: use memory or redis")
    if transport not in ("http", "push"):
        raise ChiaUsageError(f"unknown --transport {transport!r}: use http or push")
    if transport == "http" and (tls_cert or tls_key or redis_prefix):
        raise ChiaUsageError("--tls-cert, --tls-key and --redis-prefix are for --transport push")
    token = os.environ.get(TOKEN_ENV) or None
    check_bind(host, token, insecure)

    def ready(url: str) -> None:
        console.print(f"exchange listening on {url}")
        console.print(f"  backend {backend}; token check {'on' if token else 'off'}")
        console.print(f"  use: --exchange {transport} --exchange-url {url}   (Ctrl-C to stop)")
        if url_file is not None:
            partial = url_file.with_name(url_file.name + ".partial")
            partial.write_text(url + "\n", encoding="utf-8")
            partial.replace(url_file)

    if transport == "push":
        from chia.exchange.push.server import make_store, serve_push, server_tls

        signum = asyncio.run(
            serve_push(
                host=host,
                port=port,
                token=token,
                insecure=insecure,
                max_message_bytes=max_message_bytes,
                store=make_store(backend, redis_url, redis_prefix),
                tls=server_tls(tls_cert, tls_key),
                on_ready=ready,
            )
        )
        console.print(f"exchange stopped ({signal_name(signum)})" if signum else "exchange stopped")
        return
    with tempfile.TemporaryDirectory(prefix="chia-exchange-") as tmp:
        config = write_config(
            Path(tmp) / "exchange.toml",
            host=host,
            port=port,
            backend="redis" if backend == "redis" else "memory",
            redis_url=redis_url,
        )
        signum = asyncio.run(serve_exchange(config, token=token, insecure=insecure, on_ready=ready))
    console.print(f"exchange stopped ({signal_name(signum)})" if signum else "exchange stopped")


@app.command()
def login(
    status: bool = typer.Option(
        False, "--status", help="Only say whether a usable login is cached (never prompts)."
    ),
    force: bool = typer.Option(False, "--force", help="Log in again even if one is cached."),
) -> None:
    """Log in to Globus once per machine, for Academy's hosted and Globus exchanges.

    Runs Academy's own login flow (the same client, scopes and token file as Academy's
    tools: $ACADEMY_HOME/storage.db, default ~/.local/share/academy): it prints a URL,
    you open it, and paste back the code. Sites then use the cached tokens with
    `--exchange http --exchange-url https://exchange.academy-agents.org/v1` or
    `--exchange globus --exchange-url globus://<project-uuid>`; a site without a cached
    login stops at once naming this command, never prompting inside a rank. With
    ACADEMY_GLOBUS_CLIENT_ID and ACADEMY_GLOBUS_CLIENT_SECRET set (a client identity)
    no login is needed.
    """
    from chia.errors import ChiaUsageError
    from chia.exchange.globus_login import LOGIN_COMMAND, interactive_login, login_status

    if status:
        state = login_status()
        if state.identity == "client":
            console.print("globus: client identity from ACADEMY_GLOBUS_CLIENT_ID/SECRET")
        elif state.logged_in:
            console.print(f"globus: logged in (tokens in {state.where})")
        else:
            raise ChiaUsageError(
                f"globus: not logged in (no usable tokens in {state.where}): run `{LOGIN_COMMAND}`"
            )
        return
    interactive_login(force=force)
    console.print(f"globus: logged in (tokens in {login_status().where})")
