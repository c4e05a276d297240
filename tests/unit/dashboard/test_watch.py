"""inotify wakes the dashboard: new events are served long before the poll interval."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp.test_utils import TestClient, TestServer

from chia.assets import path as asset_path
from chia.dashboard.app import create_app
from chia.dashboard.store import RunStore
from chia.dashboard.watch import RunWatch
from chia.events import EventWriter, Note, events_path

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _note(site_dir, agent, text, clock=50):
    with EventWriter(events_path(site_dir, agent), run_id="run-1", site=site_dir.name,
                     writer=agent) as writer:  # fmt: skip
        writer.emit(Note, clock=clock, message=text)


async def test_a_write_under_the_run_wakes_the_watch(two_site_run):
    watch = RunWatch.open(two_site_run)
    assert watch is not None, "inotify is available on Linux"
    loop = asyncio.get_running_loop()
    changed = asyncio.Event()
    watch.attach(loop, changed)
    try:
        await asyncio.sleep(0.05)
        assert not changed.is_set()
        _note(two_site_run / "aurora", "agent-a", "hello")
        await asyncio.wait_for(changed.wait(), 10)
        changed.clear()
        late = two_site_run / "late"  # a site that starts after the dashboard
        (late / "events").mkdir(parents=True)
        (late / "launch.json").write_text("{}")
        await asyncio.wait_for(changed.wait(), 10)  # the new folder itself is seen
        watch.update()
        changed.clear()
        _note(late, "agent-l", "late hello")
        await asyncio.wait_for(changed.wait(), 10)  # and what is written inside it
    finally:
        watch.close(loop)


async def test_new_events_are_served_without_waiting_out_a_long_poll(two_site_run):
    app = create_app(RunStore(two_site_run, "run-1"), asset_path("dashboard"), 60.0)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        assert len((await (await client.get("/api/events")).json())["events"]) == 6
        _note(two_site_run / "crux", "agent-c", "seen at once")
        for _ in range(200):  # 10 s at most, far below the 60 s poll interval
            doc = json.loads(await (await client.get("/api/events?after=6")).read())
            if doc["events"]:
                break
            await asyncio.sleep(0.05)
        assert [e["message"] for e in doc["events"]] == ["seen at once"]
