"""Self-hosted Academy HTTP exchange: ``chia exchange serve`` and a managed subprocess.

The server is Academy's own HTTP exchange application (``academy.exchange.cloud.app.
create_app``, configured by Academy's TOML format: ``host``, ``port``, ``[backend] kind =
"python"`` for in-memory or ``"redis"``, no ``[auth]`` table, so no Globus). chia runs it
through :func:`serve` instead of ``python -m academy.exchange.cloud`` for three reasons:

* Port 0 works: the socket is bound before serving and the bound URL is reported (the
  Academy entry point cannot tell anyone which port it picked). No bind-then-close race.
* Loopback by default. Academy's own spawn helper binds ``0.0.0.0``.
* A shared-token check. Academy's server authenticates only through Globus, so chia adds
  one aiohttp middleware in front of Academy's routes: every request must carry
  ``Authorization: Bearer <token>`` (constant-time comparison; 401 otherwise). The token
  comes from ``$CHIA_EXCHANGE_TOKEN`` on both sides (``open_factory`` sends it), never
  from argv or files in the run dir. Binding a non-loopback address *requires* a token
  unless ``insecure=True`` (``--insecure``) says the network is trusted.

:class:`ExchangeServer` runs :func:`serve` in a child process (``python -m
chia.exchange.server --config x.toml --url-file f``), waits for its URL, and stops it on
exit (SIGTERM, then SIGKILL after a grace period), leaving no port bound. The child also
dies with its parent (``--parent-pid``: :func:`chia.processes.die_with_parent`), so a
parent killed with SIGKILL does not leave the server holding its port.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Literal

from chia.errors import ChiaError, ChiaUsageError
from chia.exchange.settings import TOKEN_ENV, ExchangeSettings, parse_redis_url
from chia.interrupts import note_signal
from chia.netaddr import is_loopback
from chia.processes import die_with_parent, stop_process

if TYPE_CHECKING:
    from aiohttp.typedefs import Handler, Middleware

__all__ = ["ExchangeServer", "ServerBackend", "check_bind", "serve", "write_config"]

ServerBackend = Literal["memory", "redis"]

#: Signals that stop the server cleanly: Ctrl-C, kill or a walltime, a closed terminal.
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def check_bind(host: str, token: str | None, insecure: bool) -> None:
    """Refuse a non-loopback bind without a shared token, unless ``insecure``.

    Raises:
        ChiaUsageError: If ``host`` is not loopback, no token is set and not ``insecure``.
    """
    if not is_loopback(host) and not token and not insecure:
        raise ChiaUsageError(
            f"refusing to serve the exchange on non-loopback address {host!r} without a "
            f"shared token: set ${TOKEN_ENV} (clients send it too), or pass --insecure "
            "if the network is trusted"
        )


def write_config(
    path: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    backend: ServerBackend = "memory",
    redis_url: str | None = None,
) -> Path:
    """Write an Academy exchange-server TOML config (no ``[auth]``: no Globus).

    Args:
        path: Where to write it.
        host: Address to bind.
        port: Port to bind (0: a free one).
        backend: ``memory`` (Academy's ``python`` backend) or ``redis``.
        redis_url: ``redis://host:port/db`` for the redis backend.

    Returns:
        ``path``.

    Raises:
        ChiaUsageError: If the redis backend has no usable ``redis_url``.
    """
    lines = [f"host = {_toml_str(host)}", f"port = {int(port)}", "", "[backend]"]
    if backend == "memory":
        lines.append('kind = "python"')
    else:
        if not redis_url:
            raise ChiaUsageError("--backend redis needs --redis-url redis://host:port/db")
        rhost, rport, rdb = parse_redis_url(redis_url)
        lines += [
            'kind = "redis"',
            f"hostname = {_toml_str(rhost)}",
            f"port = {rport}",
            "",
            "[backend.kwargs]",
            f"db = {rdb}",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _token_middleware(token: str) -> Middleware:
    """Return a middleware that answers 401 unless ``Authorization: Bearer <token>``."""
    from aiohttp import web

    expected = f"Bearer {token}".encode()

    @web.middleware
    async def check_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return web.Response(status=401, text="missing or wrong exchange token")
        return await handler(request)

    return check_token


async def serve(
    config_path: Path,
    *,
    token: str | None = None,
    insecure: bool = False,
    on_ready: Callable[[str], None] | None = None,
    stop: asyncio.Event | None = None,
) -> int | None:
    """Serve Academy's HTTP exchange until ``stop`` is set or SIGINT/SIGTERM/SIGHUP arrives.

    Args:
        config_path: Academy exchange TOML (see :func:`write_config`).
        token: Shared token every request must carry; ``None`` disables the check.
        insecure: Allow a non-loopback bind without a token.
        on_ready: Called with the bound URL once the server accepts connections.
        stop: Event that stops the server when set (signals set it too).

    Returns:
        The signal that stopped the server, or None when ``stop`` was set.

    Raises:
        ChiaUsageError: For a non-loopback bind without a token (see :func:`check_bind`).
    """
    from academy.exchange.cloud.app import create_app
    from academy.exchange.cloud.config import ExchangeServingConfig
    from aiohttp import web

    from chia.exchange.held_backend import hold_backend

    config = ExchangeServingConfig.from_toml(config_path)
    check_bind(config.host, token, insecure)
    config.logger.init_logger()
    app = create_app(config)
    hold_backend(app, config)  # requests wait out a redis-server restart instead of failing
    if token:
        app.middlewares.insert(0, _token_middleware(token))
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.create_server((config.host, config.port), family=family)
    stop = stop if stop is not None else asyncio.Event()
    loop = asyncio.get_running_loop()
    stopped_by: list[int] = []

    def on_signal(signum: int) -> None:
        note_signal(signum)  # a caller cleaning up after us ignores a second one
        stopped_by.append(signum)
        stop.set()

    # Python-level handlers are put back afterwards (asyncio would leave SIG_DFL), so a
    # caller's own handling of a later signal still holds.
    previous = {signum: signal.getsignal(signum) for signum in _STOP_SIGNALS}
    for signum in _STOP_SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, on_signal, signum)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        bound_host, bound_port = sock.getsockname()[:2]
        host = f"[{bound_host}]" if family == socket.AF_INET6 else bound_host
        if on_ready is not None:
            on_ready(f"http://{host}:{bound_port}")
        await stop.wait()
    finally:
        await runner.cleanup()
        sock.close()
        for signum, handler in previous.items():
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                if loop.remove_signal_handler(signum) and handler is not None:
                    signal.signal(signum, handler)
    return stopped_by[0] if stopped_by else None


class ExchangeServer:
    """A self-hosted HTTP exchange in a managed child process.

    Example:
        ```python
        with ExchangeServer() as server:          # 127.0.0.1, free port, in-memory
            settings = ExchangeSettings(kind="http", url=server.url)
        ```

    Args:
        host: Address to bind (loopback by default).
        port: Port to bind; 0 picks a free one.
        backend: ``memory`` or ``redis``.
        redis_url: ``redis://host:port/db`` for the redis backend.
        token: Shared token (defaults to ``$CHIA_EXCHANGE_TOKEN``); passed to the child
            through its environment.
        insecure: Allow a non-loopback bind without a token.
        workdir: Where the config, URL file and ``exchange.log`` go (a temp dir if None).
        start_timeout_s: How long to wait for the child to report its URL.
        lifeline: The child dies with the thread that starts it (also under SIGKILL of
            this process); start it from a thread that lives as long as the server
            should, or pass False.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        backend: ServerBackend = "memory",
        redis_url: str | None = None,
        token: str | None = None,
        insecure: bool = False,
        workdir: Path | None = None,
        start_timeout_s: float = 30.0,
        lifeline: bool = True,
    ) -> None:
        self.token = token if token is not None else (os.environ.get(TOKEN_ENV) or None)
        check_bind(host, self.token, insecure)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="chia-exchange-")
            workdir = Path(self._tmp.name)
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.config_path = write_config(
            workdir / "exchange.toml", host=host, port=port, backend=backend, redis_url=redis_url
        )
        self.log_path = workdir / "exchange.log"
        self._url_file = workdir / "exchange.url"
        self._insecure = insecure
        self._start_timeout_s = start_timeout_s
        self._lifeline = lifeline
        self._proc: subprocess.Popen[bytes] | None = None
        self.url: str = ""

    @property
    def pid(self) -> int | None:
        """Process id of the server child, while it runs."""
        return self._proc.pid if self._proc is not None else None

    def settings(self) -> ExchangeSettings:
        """Exchange settings that reach this server."""
        return ExchangeSettings(kind="http", url=self.url)

    def start(self) -> str:
        """Start the child and wait for its URL.

        Returns:
            The bound URL, e.g. ``http://127.0.0.1:41234``.

        Raises:
            ChiaError: If the child exits or stays silent past ``start_timeout_s``.
        """
        self._url_file.unlink(missing_ok=True)
        env = dict(os.environ)
        env.pop(TOKEN_ENV, None)
        if self.token:
            env[TOKEN_ENV] = self.token
        argv = [sys.executable, "-m", "chia.exchange.server", "--config", str(self.config_path)]
        argv += ["--url-file", str(self._url_file)] + (["--insecure"] if self._insecure else [])
        argv += ["--parent-pid", str(os.getpid())] if self._lifeline else []
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env
            )
        try:
            url = self._wait_for_url(self._proc)
        except BaseException:  # e.g. Ctrl-C while starting: leave no server behind
            self.stop()
            raise
        if url is not None:
            self.url = url
            return url
        self.stop()
        tail = self.log_path.read_text(errors="replace")[-2000:]
        raise ChiaError(f"the exchange server did not start; its log ({self.log_path}):\n{tail}")

    def _wait_for_url(self, proc: subprocess.Popen[bytes]) -> str | None:
        deadline = time.monotonic() + self._start_timeout_s
        while time.monotonic() < deadline:
            if self._url_file.exists() and (url := self._url_file.read_text().strip()):
                return url
            if proc.poll() is not None:
                return None
            time.sleep(0.02)
        return None

    def stop(self, grace_s: float = 5.0) -> None:
        """Stop the child: SIGTERM, then SIGKILL after ``grace_s``. Idempotent."""
        proc, self._proc = self._proc, None
        if proc is not None:
            stop_process(proc, grace_s)

    def __enter__(self) -> ExchangeServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()


def _write_url_file(path: Path, url: str) -> None:
    partial = path.with_suffix(".partial")
    partial.write_text(url + "\n", encoding="utf-8")
    partial.replace(path)


def main(argv: Sequence[str] | None = None) -> int:
    """Child entry point: ``python -m chia.exchange.server --config x.toml``."""
    parser = argparse.ArgumentParser(prog="python -m chia.exchange.server")
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--url-file", type=Path, default=None)
    parser.add_argument("--insecure", action="store_true")
    parser.add_argument(
        "--parent-pid", type=int, default=None, help="Stop when this parent process dies."
    )
    args = parser.parse_args(argv)
    if args.parent_pid is not None:
        die_with_parent(signal.SIGTERM, parent=args.parent_pid)

    def ready(url: str) -> None:
        print(f"exchange listening on {url}", flush=True)
        if args.url_file is not None:
            _write_url_file(args.url_file, url)

    token = os.environ.get(TOKEN_ENV) or None
    try:
        asyncio.run(serve(args.config, token=token, insecure=args.insecure, on_ready=ready))
    except ChiaUsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
