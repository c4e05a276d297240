"""A push exchange server in a managed child process (tests, benchmarks, ``chia demo``).

:class:`PushServer` runs ``python -m chia.exchange.push.process``, waits for the URL it
bound (port 0 works), and stops it on exit (SIGTERM, then SIGKILL), leaving no port bound.
The child also dies with its parent (``--parent-pid``), as the HTTP exchange's does.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from chia.errors import ChiaError
from chia.exchange.push.protocol import DEFAULT_MAX_MESSAGE_BYTES
from chia.exchange.server import check_bind
from chia.exchange.settings import TOKEN_ENV, ExchangeSettings
from chia.processes import die_with_parent, stop_process

__all__ = ["PushServer"]


class PushServer:
    """A push exchange in a child process.

    Example:
        ```python
        with PushServer() as server:  # 127.0.0.1, free port, in memory
            settings = server.settings()
        with PushServer(backend="redis", redis_url="redis://127.0.0.1:6379/0") as server:
            ...
        ```

    Args:
        host: Address to bind (loopback by default).
        port: Port to bind; 0 picks a free one.
        token: Shared token (default ``$CHIA_EXCHANGE_TOKEN``), given through the env.
        insecure: Allow a non-loopback bind without a token.
        max_message_bytes: Largest message the server accepts.
        backend: ``memory`` or ``redis`` (then ``redis_url``, and ``redis_prefix``).
        redis_url: ``redis://host:port/db`` of the redis backend.
        redis_prefix: Key prefix in Redis (several exchanges may share one Redis).
        tls_cert: Certificate (PEM) for TLS; the URL is then ``wss://``.
        tls_key: Its private key (PEM).
        workdir: Where ``push.url`` and ``push.log`` go (a temp dir if None).
        start_timeout_s: How long to wait for the child's URL.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        insecure: bool = False,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        backend: str = "memory",
        redis_url: str | None = None,
        redis_prefix: str | None = None,
        tls_cert: Path | None = None,
        tls_key: Path | None = None,
        workdir: Path | None = None,
        start_timeout_s: float = 30.0,
    ) -> None:
        self.token = token if token is not None else (os.environ.get(TOKEN_ENV) or None)
        check_bind(host, self.token, insecure)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="chia-push-")
            workdir = Path(self._tmp.name)
        workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / "push.log"
        self._url_file = workdir / "push.url"
        self._argv = [sys.executable, "-m", "chia.exchange.push.process", "--host", host]
        self._argv += ["--port", str(port), "--max-message-bytes", str(max_message_bytes)]
        self._argv += ["--url-file", str(self._url_file)] + (["--insecure"] if insecure else [])
        self._argv += ["--backend", backend]
        for flag, value in [
            ("--redis-url", redis_url),
            ("--redis-prefix", redis_prefix),
            ("--tls-cert", tls_cert),
            ("--tls-key", tls_key),
        ]:
            self._argv += [flag, str(value)] if value is not None else []
        self._start_timeout_s = start_timeout_s
        self._proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    @property
    def pid(self) -> int | None:
        """Process id of the server child, while it runs."""
        return self._proc.pid if self._proc is not None else None

    def settings(self) -> ExchangeSettings:
        """Exchange settings that reach this server (its ``ws://`` or ``wss://`` URL)."""
        return ExchangeSettings(kind="push", url=self.url)

    def start(self) -> str:
        """Start the child and wait for its URL (``ws://127.0.0.1:PORT``).

        Raises:
            ChiaError: If the child exits or stays silent past the start timeout.
        """
        self._url_file.unlink(missing_ok=True)
        env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
        if self.token:
            env[TOKEN_ENV] = self.token
        argv = [*self._argv, "--parent-pid", str(os.getpid())]
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env
            )
        try:
            deadline = time.monotonic() + self._start_timeout_s
            while time.monotonic() < deadline and self._proc.poll() is None:
                if self._url_file.exists() and (url := self._url_file.read_text().strip()):
                    self.url = url
                    return url
                time.sleep(0.02)
        except BaseException:
            self.stop()
            raise
        self.stop()
        tail = self.log_path.read_text(errors="replace")[-2000:]
        raise ChiaError(f"the push exchange did not start; its log ({self.log_path}):\n{tail}")

    def stop(self, grace_s: float = 5.0) -> None:
        """Stop the child: SIGTERM, then SIGKILL after ``grace_s``. Idempotent."""
        proc, self._proc = self._proc, None
        if proc is not None:
            stop_process(proc, grace_s)

    def __enter__(self) -> PushServer:
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


def main(argv: Sequence[str] | None = None) -> int:
    """Child entry point: ``python -m chia.exchange.push.process --port 0 --url-file f``."""
    from chia.exchange.push.server import make_store, serve_push, server_tls

    parser = argparse.ArgumentParser(prog="python -m chia.exchange.push.process")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--max-message-bytes", type=int, default=DEFAULT_MAX_MESSAGE_BYTES)
    parser.add_argument("--url-file", type=Path, default=None)
    parser.add_argument("--insecure", action="store_true")
    parser.add_argument("--parent-pid", type=int, default=None)
    parser.add_argument("--backend", default="memory")
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--redis-prefix", default=None)
    parser.add_argument("--tls-cert", type=Path, default=None)
    parser.add_argument("--tls-key", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.parent_pid is not None:
        die_with_parent(signal.SIGTERM, parent=args.parent_pid)

    def ready(url: str) -> None:
        print(f"push exchange listening on {url}", flush=True)
        if args.url_file is not None:
            partial = args.url_file.with_suffix(".partial")
            partial.write_text(url + "\n", encoding="utf-8")
            partial.replace(args.url_file)

    try:
        asyncio.run(
            serve_push(
                host=args.host,
                port=args.port,
                token=os.environ.get(TOKEN_ENV) or None,
                insecure=args.insecure,
                max_message_bytes=args.max_message_bytes,
                store=make_store(args.backend, args.redis_url, args.redis_prefix),
                tls=server_tls(args.tls_cert, args.tls_key),
                on_ready=ready,
            )
        )
    except ChiaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
