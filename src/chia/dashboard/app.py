"""The dashboard's aiohttp application: the UI's static files and a read-only JSON API.

Routes (all ``GET``; nothing here writes):

* ``/`` and ``/ui/...``: the web UI from the ``dashboard/`` asset folder.
* ``/api/run``: run id, sites with their tallies, and whether the run spans several sites.
* ``/api/status``: per-site status and placement, plus a merged top-level view.
* ``/api/events?after=N&tail=K``: the merged timeline, or only what arrived after cursor
  ``N``; with ``tail``, only the newest ``K`` of those (``skipped`` counts the rest).
* ``/api/stream?after=N&tail=K``: Server-Sent Events; ``events`` (each message at most
  ``K`` events, the newest) and ``status`` messages as the files change.
* ``/api/aggregates`` and ``/api/timeline``: tallies and filtered pages for big runs
  (:mod:`chia.dashboard.query`).
* ``/api/export/perfetto``: the run as a Chrome/Perfetto trace (``chia trace export``),
  streamed as an attachment while it is written.

Every ``/api/`` route is behind the token when the dashboard has one (``access``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from pathlib import Path
from typing import Any

from aiohttp import web

from chia.dashboard.access import access_middleware
from chia.dashboard.query import QueryError, parse_timeline_query
from chia.dashboard.store import RunStore
from chia.dashboard.watch import RunWatch
from chia.errors import ChiaUsageError

__all__ = ["DashboardState", "create_app"]

log = logging.getLogger(__name__)

STATE_KEY: web.AppKey[DashboardState] = web.AppKey("dashboard_state")
UI_DIR_KEY: web.AppKey[Path] = web.AppKey("ui_dir")
_HEARTBEAT_S = 15.0
#: After a change is seen, how long to wait for more before re-reading.
_COALESCE_S = 0.005


class DashboardState:
    """The store, a poller that refreshes it, and a condition SSE streams wait on.

    The poller re-reads the run as soon as inotify reports a change under it
    (:mod:`chia.dashboard.watch`), and every ``poll_interval_s`` in any case.

    Args:
        store: The run's store.
        poll_interval_s: The longest wait between re-reads of the run's files.
    """

    def __init__(self, store: RunStore, poll_interval_s: float = 0.5) -> None:
        self.store = store
        self.poll_interval_s = poll_interval_s
        self.changed = asyncio.Condition()
        self.closing = False
        self._task: asyncio.Task[None] | None = None

    async def refresh(self) -> bool:
        """Re-read the run in a worker thread; True when events or snapshots changed."""
        loop = asyncio.get_running_loop()
        before = self.store.snapshot_version
        new = await loop.run_in_executor(None, self.store.refresh)
        await loop.run_in_executor(None, self.store.snapshots)
        return bool(new) or self.store.snapshot_version != before

    async def _poll(self) -> None:
        """Re-read the run when inotify says it changed, and every poll interval anyway."""
        loop = asyncio.get_running_loop()
        woke = asyncio.Event()
        watch = RunWatch.open(self.store.run_dir)
        if watch is not None:
            watch.attach(loop, woke)
        try:
            while not self.closing:
                try:
                    if await self.refresh():
                        async with self.changed:
                            self.changed.notify_all()
                    if watch is not None:
                        # a site or its events folder may have appeared
                        watch.update(self.store.site_dirs)
                except Exception:  # a transient read error must not stop the live view
                    log.exception("dashboard refresh failed")
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(woke.wait(), self.poll_interval_s)
                woke.clear()
                await asyncio.sleep(_COALESCE_S)  # a writer's burst: one re-read, not many
        finally:
            if watch is not None:
                watch.close(loop)

    async def start(self, _app: web.Application) -> None:
        """Read the run once, then keep polling (aiohttp on_startup hook)."""
        await self.refresh()
        self._task = asyncio.create_task(self._poll())

    async def stop(self, _app: web.Application) -> None:
        """Stop polling and release every SSE stream (aiohttp on_shutdown hook)."""
        self.closing = True
        async with self.changed:
            self.changed.notify_all()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _after(request: web.Request) -> int:
    raw = request.query.get("after", "0")
    try:
        value = int(raw)
    except ValueError:
        raise web.HTTPBadRequest(text=f"after must be an integer, got {raw!r}") from None
    if value < 0:
        raise web.HTTPBadRequest(text="after must be >= 0")
    return value


#: The largest ``tail`` a request may ask for (the UI keeps 20,000 events).
MAX_TAIL = 100_000
#: The most agents ``/api/aggregates?top_agents=`` may ask for.
MAX_TOP_AGENTS = 100_000


def _bounded_int(request: web.Request, name: str, limit: int) -> int | None:
    """The query parameter ``name`` as an integer from 1 to ``limit``; None when absent.

    Raises:
        web.HTTPBadRequest: If it is given and is not such an integer.
    """
    raw = request.query.get(name, "")
    if not raw:
        return None
    if not (raw.isdigit() and 0 < int(raw) <= limit):
        raise web.HTTPBadRequest(text=f"{name} must be 1 to {limit}, got {raw[:40]!r}\n")
    return int(raw)


def _tail(request: web.Request) -> int | None:
    return _bounded_int(request, "tail", MAX_TAIL)


def _merge_snapshots(snapshots: list[dict[str, Any]]) -> dict[str, Any]:
    agents: list[dict[str, Any]] = []
    placed: list[dict[str, Any]] = []
    for snap in snapshots:
        agents.extend(snap["status"]["agents"])
        if snap["placement"]:
            placed.extend({**a, "site": snap["site"]} for a in snap["placement"]["agents"])
    return {"status": {"agents": agents}, "placement": {"agents": placed}}


def status_payload(store: RunStore) -> dict[str, Any]:
    """The ``/api/status`` document: ``sites`` keyed by name plus merged top-level keys."""
    snapshots = store.snapshots()
    return {
        "run_id": store.run_id,
        "federated": len(snapshots) > 1,
        "sites": {snap["site"]: snap for snap in snapshots},
        **_merge_snapshots(snapshots),
    }


async def _run(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    sites = state.store.site_counts()
    return web.json_response(
        {
            "run_id": state.store.run_id,
            "run_dir": str(state.store.run_dir),
            "federated": len(sites) > 1,
            "sites": sites,
            "cursor": state.store.cursor,
            "bad_lines": state.store.bad_lines(),
        }
    )


async def _status(request: web.Request) -> web.Response:
    return web.json_response(status_payload(request.app[STATE_KEY].store))


async def _events(request: web.Request) -> web.Response:
    store = request.app[STATE_KEY].store
    _, body = store.events_json(_after(request), _tail(request))
    return web.Response(body=body, content_type="application/json")


async def _send(response: web.StreamResponse, kind: str, data: bytes, ident: int) -> None:
    await response.write(b"id: %d\nevent: %s\ndata: %s\n\n" % (ident, kind.encode(), data))


async def _stream(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    header = request.headers.get("Last-Event-ID")
    cursor = int(header) if header and header.isdigit() else _after(request)
    tail = _tail(request)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    seen_status = -1
    while not state.closing:
        if state.store.cursor > cursor:
            cursor, data = state.store.events_json(cursor, tail)
            await _send(response, "events", data, cursor)
        if state.store.snapshot_version != seen_status:
            seen_status = state.store.snapshot_version
            payload = json.dumps(status_payload(state.store)).encode()
            await _send(response, "status", payload, cursor)
        async with state.changed:
            try:
                await asyncio.wait_for(state.changed.wait(), _HEARTBEAT_S)
            except asyncio.TimeoutError:
                await response.write(b": keep-alive\n\n")
    return response


async def _export_perfetto(request: web.Request) -> web.StreamResponse:
    from chia.trace.perfetto import write_perfetto
    from chia.trace.timeline import scan_run

    store = request.app[STATE_KEY].store
    loop = asyncio.get_running_loop()
    try:  # every line is read and checked before the first byte goes out
        timeline = await loop.run_in_executor(None, scan_run, store.run_dir)
    except ChiaUsageError as exc:
        raise web.HTTPBadRequest(text=f"cannot export this run: {exc}\n") from None
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", store.run_id) or "run"
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/json",
            "Content-Disposition": f'attachment; filename="{name}.perfetto.json"',
            "Cache-Control": "no-store",
        }
    )
    await response.prepare(request)

    def write(chunk: bytes) -> None:  # in the worker thread: waits for the socket
        asyncio.run_coroutine_threadsafe(response.write(chunk), loop).result()

    try:
        await loop.run_in_executor(None, write_perfetto, timeline, write)
    except (ConnectionResetError, ChiaUsageError):  # gone, or a file changed under us
        log.warning("perfetto export of %s ended early", store.run_dir, exc_info=True)
        return response
    await response.write_eof()
    return response


async def _aggregates(request: web.Request) -> web.Response:
    top = _bounded_int(request, "top_agents", MAX_TOP_AGENTS)
    store = request.app[STATE_KEY].store
    doc = await asyncio.get_running_loop().run_in_executor(None, store.aggregates_json, top)
    return web.json_response(doc)


async def _timeline(request: web.Request) -> web.Response:
    store = request.app[STATE_KEY].store
    try:
        query = parse_timeline_query(request.query, **store.known_values())
    except QueryError as exc:
        raise web.HTTPBadRequest(text=f"{exc}\n") from None
    body = await asyncio.get_running_loop().run_in_executor(None, store.timeline_json, query)
    return web.Response(body=body, content_type="application/json")


async def _index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(request.app[UI_DIR_KEY] / "index.html")


def create_app(
    store: RunStore, ui_dir: Path, poll_interval_s: float = 0.5, token: str | None = None
) -> web.Application:
    """Build the application for one run.

    Args:
        store: The run's store (it is refreshed by a poller while the app runs).
        ui_dir: The folder holding ``index.html``, ``js/`` and ``css/``.
        poll_interval_s: How often the run's files are re-read.
        token: When set, every ``/api/`` request must carry it (see
            :mod:`chia.dashboard.access`).
    """
    app = web.Application(middlewares=[access_middleware(token)] if token else [])
    state = DashboardState(store, poll_interval_s)
    app[STATE_KEY] = state
    app[UI_DIR_KEY] = ui_dir
    app.on_startup.append(state.start)
    app.on_shutdown.append(state.stop)
    app.router.add_get("/", _index)
    app.router.add_get("/api/run", _run)
    app.router.add_get("/api/status", _status)
    app.router.add_get("/api/events", _events)
    app.router.add_get("/api/aggregates", _aggregates)
    app.router.add_get("/api/timeline", _timeline)
    app.router.add_get("/api/stream", _stream)
    app.router.add_get("/api/export/perfetto", _export_perfetto)
    app.router.add_static("/ui/", ui_dir, follow_symlinks=False)
    return app
