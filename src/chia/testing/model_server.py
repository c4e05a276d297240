"""What every fake model server shares: a script, a request record, a loopback thread.

Each wire format (:mod:`chia.testing.anthropic_server`, :mod:`chia.testing.bedrock_server`,
:mod:`chia.testing.vertex_server`) subclasses :class:`FakeModelServer`: it adds its
routes, checks the request's credentials as the real service would, and turns the next
:class:`~chia.llm.script.ScriptStep` into that service's reply or error body. Requests are
recorded in memory with their headers (tests assert on them); with ``record_path`` they
are also appended to that file, credential headers masked. The server is a real aiohttp
server on a free loopback port, run in a background thread for the ``with`` block of
:func:`serving`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from chia.llm.script import Script, ScriptPlayer, ScriptStep

__all__ = ["FakeModelServer", "RecordedRequest", "as_script", "serving"]

RecordedRequest = dict[str, Any]
#: Headers that carry credentials: kept in memory for tests, masked in a record file.
_SECRET_HEADERS = frozenset({"authorization", "x-api-key", "x-amz-security-token"})
S = TypeVar("S", bound="FakeModelServer")


class FakeModelServer:
    """The common part of a fake model server.

    Args:
        script: The replies to replay, in order.
        record_path: If set, each request is also appended there as one JSON line.
    """

    name = "fake-model"

    def __init__(self, script: Script, *, record_path: Path | None = None) -> None:
        self.script = script
        self.player = ScriptPlayer(script)
        self.requests: list[RecordedRequest] = []
        self.record_path = record_path
        self.url = ""
        self._lock = threading.Lock()
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- for subclasses ----------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        """Add the wire format's routes."""
        raise NotImplementedError

    def error(self, step: ScriptStep) -> web.Response:
        """The wire format's error response for a scripted error step."""
        raise NotImplementedError

    def record(self, request: web.Request, body: Any, **checks: Any) -> int:
        """Record one request (path, headers, body, the server's checks); return its number."""
        entry = {
            "method": request.method,
            "path": request.path,
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "body": body,
            **checks,
        }
        with self._lock:
            self.requests.append(entry)
            number = len(self.requests)
            if self.record_path is not None:  # on disk, credentials are masked
                headers = {
                    k: "***" if k in _SECRET_HEADERS else v for k, v in entry["headers"].items()
                }
                with self.record_path.open("a") as out:
                    out.write(json.dumps({**entry, "headers": headers}) + "\n")
        return number

    async def next_step(self) -> ScriptStep | web.Response:
        """The next scripted step (after its delay), or the error response it scripts."""
        step = self.player.next_step()
        if step is None:
            exhausted = ScriptStep(
                status=500, error=f"the script ran out after {len(self.script.responses)} replies"
            )
            return self.error(exhausted)
        if step.delay_s:
            await asyncio.sleep(step.delay_s)
        if step.status != 200:
            return self.error(step)
        return step

    # -- serving -----------------------------------------------------------------------

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application()
        self.add_routes(app)
        return app

    def bodies(self) -> list[Any]:
        """The JSON bodies received so far."""
        with self._lock:
            return [r["body"] for r in self.requests]

    async def start_async(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving on this event loop; return the root URL (``http://h:p``)."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.url = f"http://{host}:{self._runner.addresses[0][1]}"
        return self.url

    async def stop_async(self) -> None:
        """Stop serving and release the port."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve from a background thread; return the root URL once it accepts."""
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._loop = loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self.start_async(host, port))
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop_async())
            loop.close()

        self._thread = threading.Thread(target=run, name=f"{self.name}-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError(f"the fake {self.name} server did not start within 10 s")
        return self.url

    def stop(self) -> None:
        """Stop the background server and join its thread."""
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = self._thread = None


def as_script(script: Script | list[Any] | dict[str, Any]) -> Script:
    """A :class:`Script`, or its JSON form parsed."""
    return script if isinstance(script, Script) else Script.parse(script)


@contextlib.contextmanager
def serving(server: S, host: str = "127.0.0.1", port: int = 0) -> Iterator[S]:
    """Run ``server`` in a background thread for the ``with`` block."""
    server.start(host, port)
    try:
        yield server
    finally:
        server.stop()
