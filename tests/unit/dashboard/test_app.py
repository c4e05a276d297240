from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp.test_utils import TestClient, TestServer

from chia.assets import path as asset_path
from chia.dashboard.app import create_app
from chia.dashboard.store import RunStore
from chia.events import EventWriter, Note, events_path
from chia.testing.files import tree_digest
from chia.testing.trace_format import check_trace

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def client(two_site_run):
    app = create_app(RunStore(two_site_run, "run-1"), asset_path("dashboard"), 0.05)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


async def _json(client, path):
    response = await client.get(path)
    assert response.status == 200, await response.text()
    return await response.json()


async def test_run_lists_sites_with_tallies(client):
    run = await _json(client, "/api/run")
    assert run["run_id"] == "run-1" and run["federated"] is True
    assert [(s["site"], s["events"], s["agents"]) for s in run["sites"]] == [
        ("aurora", 3, ["agent-a"]),
        ("crux", 3, ["agent-c"]),
    ]


async def test_status_is_per_site_and_merged(client):
    status = await _json(client, "/api/status")
    assert set(status["sites"]) == {"aurora", "crux"}
    assert status["sites"]["crux"]["status"]["agents"][0]["agent"] == "agent-c"
    assert sorted(a["agent"] for a in status["status"]["agents"]) == ["agent-a", "agent-c"]
    assert {(a["agent"], a["site"]) for a in status["placement"]["agents"]} == {
        ("agent-a", "aurora"),
        ("agent-c", "crux"),
    }


async def test_events_merged_and_incremental(client, two_site_run):
    whole = await _json(client, "/api/events")
    assert whole["cursor"] == 6 and len(whole["events"]) == 6
    with EventWriter(
        events_path(two_site_run / "aurora", "agent-a"),
        run_id="run-1",
        site="aurora",
        writer="agent-a",
    ) as writer:
        writer.emit(Note, clock=50, message="fresh")
    await asyncio.sleep(0.2)  # the poller re-reads the files
    new = await _json(client, "/api/events?after=6")
    assert new["cursor"] == 7 and [e["message"] for e in new["events"]] == ["fresh"]
    assert (await _json(client, "/api/events?after=7"))["events"] == []


@pytest.mark.parametrize("after", ["x", "-1"])
async def test_bad_cursor_is_a_400(client, after):
    response = await client.get(f"/api/events?after={after}")
    assert response.status == 400


async def test_tail_serves_only_the_newest_events_and_counts_the_rest(client):
    whole = await _json(client, "/api/events")
    tail = await _json(client, "/api/events?tail=2")
    assert tail["events"] == whole["events"][-2:]
    assert tail["skipped"] == 4 and tail["total"] == 6 and tail["cursor"] == 6
    assert (await _json(client, "/api/events?tail=100"))["skipped"] == 0


@pytest.mark.parametrize("tail", ["0", "x", "-3", "100001", "9" * 400])
async def test_bad_tail_is_a_400_with_the_limit(client, tail):
    for path in ("/api/events", "/api/stream"):
        response = await client.get(f"{path}?tail={tail}")
        assert response.status == 400
        assert "tail must be 1 to 100000" in await response.text()


async def test_aggregates_and_a_filtered_timeline_page(client):
    await asyncio.sleep(0.2)  # the poller's first refresh
    totals = await _json(client, "/api/aggregates")
    assert {s["site"]: s["events"] for s in totals["sites"]} == {"aurora": 3, "crux": 3}
    assert totals["site_pairs"] == [{"from": "aurora", "to": "crux", "messages": 1}]
    page = await _json(client, "/api/timeline?site=crux&limit=2")
    assert [e["site"] for e in page["events"]] == ["crux", "crux"] and page["before"]
    rest = await _json(client, f"/api/timeline?site=crux&before={page['before']}")
    assert len(rest["events"]) == 1 and rest["before"] is None


@pytest.mark.parametrize(
    "query", ["site=nowhere", "limit=100000000", "before=%%%", "kind=x", "time_to=noon"]
)
async def test_bad_timeline_queries_are_a_400_with_the_reason(client, query):
    response = await client.get(f"/api/timeline?{query}")
    assert response.status == 400
    assert (await response.text()).startswith(query.split("=")[0])  # names the parameter


async def _read_sse(response, kind, timeout=3.0):
    async def read():
        block = b""
        while True:
            line = await response.content.readline()
            if line == b"\n":
                if f"event: {kind}".encode() in block:
                    return block
                block = b""
            else:
                block += line

    return await asyncio.wait_for(read(), timeout)


async def test_stream_pushes_status_then_new_events(client, two_site_run):
    response = await client.get("/api/stream?after=6")
    assert response.headers["Content-Type"].startswith("text/event-stream")
    status = await _read_sse(response, "status")
    assert b'"federated": true' in status
    with EventWriter(
        events_path(two_site_run / "crux", "agent-c"), run_id="run-1", site="crux", writer="agent-c"
    ) as writer:
        writer.emit(Note, clock=60, message="pushed")
    block = await _read_sse(response, "events")
    data = json.loads(block.split(b"data: ", 1)[1])
    assert [e["message"] for e in data["events"]] == ["pushed"]
    assert b"id: 7\n" in block
    response.close()


async def test_export_perfetto_streams_the_run_as_an_attachment(client):
    response = await client.get("/api/export/perfetto")
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("application/json")
    disposition = response.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="run-1.perfetto.json"'
    summary = check_trace(json.loads(await response.read()))
    assert summary.problems == []
    assert set(summary.processes.values()) == {"site aurora", "site crux"}
    ((start, finish),) = summary.flows  # agent-a's message to agent-c
    threads = summary.threads
    assert threads[start["pid"], start["tid"]] == "agent-a"
    assert threads[finish["pid"], finish["tid"]] == "agent-c"


async def test_export_perfetto_of_a_malformed_run_is_a_400_naming_the_line(client, two_site_run):
    bad = two_site_run / "crux" / "events" / "agent-c.jsonl"
    with bad.open("a") as handle:
        handle.write('{"kind": "note"}\n')
    response = await client.get("/api/export/perfetto")
    assert response.status == 400
    assert f"{bad}:3: not a valid event" in await response.text()  # after 2 good lines


async def test_ui_is_served(client):
    index = await client.get("/")
    assert index.status == 200 and "/ui/js/main.js" in await index.text()
    module = await client.get("/ui/js/main.js")
    assert module.status == 200 and "javascript" in module.headers["Content-Type"]
    assert (await client.get("/ui/../pyproject.toml")).status in (403, 404)


async def test_no_endpoint_writes_to_the_run_directory(client, two_site_run):
    (two_site_run / "crux" / "status" / "broken.json").write_text("{torn")
    with (two_site_run / "aurora" / "events" / "agent-a.jsonl").open("ab") as handle:
        handle.write(b'{"torn": ')
    before = tree_digest(two_site_run)
    for path in [
        "/",
        "/ui/js/main.js",
        "/api/run",
        "/api/status",
        "/api/events",
        "/api/events?after=3",
        "/api/export/perfetto",
        "/api/nope",
    ]:
        await client.get(path)
    stream = await client.get("/api/stream")
    await _read_sse(stream, "events")
    stream.close()
    await asyncio.sleep(0.2)
    assert tree_digest(two_site_run) == before


async def test_a_100_mb_line_is_skipped_counted_and_never_served(client, two_site_run):
    path = events_path(two_site_run / "crux", "agent-c")
    good = path.read_text().splitlines()[0]
    with path.open("a") as handle:  # a valid event, 100 MB long
        handle.write(good.replace('"agent-c"', '"agent-c","pad":"' + "x" * 100_000_000 + '"', 1))
        handle.write("\n")
    await asyncio.sleep(0.5)  # the poller re-reads the files
    run = await _json(client, "/api/run")
    assert run["bad_lines"] == 1
    response = await client.get("/api/events")
    assert response.status == 200 and len(await response.read()) < 100_000
    assert (await _json(client, "/api/timeline?limit=5000"))["events"][0]["agent"]
