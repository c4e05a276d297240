"""Run the dashboard server: in the foreground until Ctrl-C, or in a background thread.

The server binds ``127.0.0.1`` by default and a free port when ``port=0``; the URL it
prints carries the real port.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from aiohttp import web

from chia.assets import path as asset_path
from chia.dashboard.app import create_app
from chia.dashboard.store import RunStore
from chia.interrupts import note_signal

__all__ = ["DashboardServer", "serve_in_foreground", "serve_until"]

DEFAULT_HOST = "127.0.0.1"
#: Signals that stop a foreground dashboard: Ctrl-C, kill or a walltime, a closed terminal.
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


async def _start(
    run_dir: Path, run_id: str, host: str, port: int, poll_interval_s: float, token: str | None
) -> tuple[web.AppRunner, str]:
    app = create_app(RunStore(run_dir, run_id), asset_path("dashboard"), poll_interval_s, token)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0]
    shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
    fragment = f"#token={token}" if token else ""
    return runner, f"http://{shown}:{bound[1]}/{fragment}"


async def serve_until(
    stop: asyncio.Event,
    run_dir: Path,
    run_id: str,
    *,
    host: str = DEFAULT_HOST,
    port: int = 0,
    poll_interval_s: float = 0.5,
    on_ready: Callable[[str], None] = print,
    token: str | None = None,
) -> None:
    """Serve one run until ``stop`` is set.

    Args:
        stop: Set it to shut the server down.
        run_dir: ``<runs>/<run_id>`` (a federated run or a single site's directory).
        run_id: The run id shown in the UI.
        host: Address to bind; loopback unless you mean to expose the dashboard.
        port: TCP port; 0 picks a free one.
        poll_interval_s: How often the files are re-read.
        on_ready: Called with the URL once the server accepts connections.
        token: Required on every API request when set; the URL then ends in
            ``#token=...``.
    """
    runner, url = await _start(run_dir, run_id, host, port, poll_interval_s, token)
    try:
        on_ready(url)
        await stop.wait()
    finally:
        await runner.cleanup()


def serve_in_foreground(
    runs_root: Path,
    run_id: str,
    *,
    port: int = 0,
    host: str = DEFAULT_HOST,
    say: Callable[[str], None] = print,
    poll_interval_s: float = 0.5,
    token: str | None = None,
) -> int | None:
    """Serve ``<runs_root>/<run_id>``, print its URL, and block until a stop signal.

    Ctrl-C, SIGTERM and SIGHUP (a closed terminal) stop it: the port is freed before it
    returns. Python-level handlers installed before the call are restored afterwards, so
    a caller's own clean-up stays guarded. This is what ``chia demo`` calls at the end of
    a run.

    Args:
        runs_root: The directory holding run directories.
        run_id: The run to show.
        port: TCP port; 0 picks a free one.
        host: Address to bind (loopback by default).
        say: Prints the landmark lines (the URL, how to stop).
        poll_interval_s: How often the files are re-read.
        token: Required on every API request when set (see :mod:`chia.dashboard.access`).

    Returns:
        The signal that stopped it.
    """
    stopped_by: list[int] = []

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_signal(signum: int) -> None:
            note_signal(signum)  # the caller's clean-up then ignores a second one
            stopped_by.append(signum)
            stop.set()

        previous = {sig: signal.getsignal(sig) for sig in _STOP_SIGNALS}
        for sig in _STOP_SIGNALS:
            loop.add_signal_handler(sig, on_signal, sig)
        try:
            await serve_until(
                stop,
                runs_root / run_id,
                run_id,
                host=host,
                port=port,
                poll_interval_s=poll_interval_s,
                on_ready=lambda url: say(f"dashboard: {url}  (Ctrl-C to stop)"),
                token=token,
            )
        finally:
            for sig, handler in previous.items():
                # asyncio leaves SIG_DFL behind: put the caller's handler back.
                if loop.remove_signal_handler(sig) and handler is not None:
                    signal.signal(sig, handler)

    asyncio.run(main())
    signum = stopped_by[0] if stopped_by else None
    say(f"dashboard: stopped ({signal.Signals(signum).name})" if signum else "dashboard: stopped")
    return signum


class DashboardServer:
    """A dashboard server on a background thread, for embedding and tests.

    Use it as a context manager; ``url`` is set once it accepts connections.

    Args:
        run_dir: ``<runs>/<run_id>``.
        run_id: The run id shown in the UI.
        host: Address to bind.
        port: TCP port; 0 picks a free one.
        poll_interval_s: How often the files are re-read.
        token: Required on every API request when set.
    """

    def __init__(
        self,
        run_dir: Path,
        run_id: str,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        poll_interval_s: float = 0.2,
        token: str | None = None,
    ) -> None:
        self._args = (run_dir, run_id)
        self._token = token
        self._host, self._port, self._poll = host, port, poll_interval_s
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="chia-dashboard", daemon=True)
        self.url = ""

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()

            def ready(url: str) -> None:
                self.url = url
                self._ready.set()

            await serve_until(
                self._stop,
                *self._args,
                host=self._host,
                port=self._port,
                poll_interval_s=self._poll,
                on_ready=ready,
                token=self._token,
            )

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported to the thread that started us
            self._error = exc
            self._ready.set()

    def start(self, timeout_s: float = 10.0) -> str:
        """Start serving; return the URL."""
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise TimeoutError(f"the dashboard did not start within {timeout_s:g}s")
        if self._error is not None:
            raise RuntimeError(f"the dashboard failed to start: {self._error}") from self._error
        return self.url

    def stop(self) -> None:
        """Shut the server down and wait for its thread."""
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def __enter__(self) -> DashboardServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
