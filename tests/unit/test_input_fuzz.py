"""Property-based fuzzing of every file and string a user hands chia.

Each property: a mutated or random input gives a clear ``ChiaUsageError`` (or a valid
result), never another exception. The example counts are printed at the end of the test.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chia.assets import path as asset_path
from chia.campaign import load_campaign
from chia.cluster.loading import load_cluster
from chia.dashboard.app import create_app
from chia.dashboard.store import RunStore
from chia.errors import ChiaUsageError
from chia.events.reader import EventFileCursor
from chia.profiles.loading import load_profile

EXAMPLES = 100
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# A cluster file with a little of everything: a provider, a node type, a variable.
CLUSTER = b"""\
cluster_name: fuzz
provider: {head_ip: 127.0.0.1}
available_node_types:
  sim: {resources: {CPU: 1}, num_workers: 1}
setup_commands: ["echo ${HOME}"]
"""


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` with a few bytes replaced, inserted or deleted; or random bytes."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=400))
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["replace", "insert", "delete"]))
        chunk = draw(st.binary(min_size=1, max_size=8))
        if action == "insert":
            data[at:at] = chunk
        elif action == "delete":
            del data[at : at + len(chunk)]
        else:
            data[at : at + len(chunk)] = chunk
    return bytes(data)


def _clear_or_valid(load: Any, path: Path) -> None:
    try:
        load(path)
    except ChiaUsageError as exc:
        assert str(exc).strip(), "an error with no message"


def _campaign_file(tmp_path: Path) -> tuple[Path, bytes, Callable[[Path], object]]:
    source = asset_path("campaigns") / "federated-chat"
    shutil.copytree(source, tmp_path / "c")
    return (
        tmp_path / "c" / "campaign.jsonc",
        (source / "campaign.jsonc").read_bytes(),
        load_campaign,
    )


def _profile_file(tmp_path: Path) -> tuple[Path, bytes, Callable[[Path], object]]:
    original = (asset_path("profiles") / "aurora.json").read_bytes()
    return tmp_path / "p.json", original, load_profile


def _cluster_file(tmp_path: Path) -> tuple[Path, bytes, Callable[[Path], object]]:
    return tmp_path / "cluster.yaml", CLUSTER, lambda p: load_cluster(p, env={"HOME": "/home/fuzz"})


@pytest.mark.parametrize(
    ("kind", "setup"),
    [("campaign", _campaign_file), ("profile", _profile_file), ("cluster", _cluster_file)],
)
def test_config_files(
    kind: str,
    setup: Callable[[Path], tuple[Path, bytes, Callable[[Path], object]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, original, load = setup(tmp_path)
    seen = []

    @FUZZ
    @given(mutated(original))
    def check(data: bytes) -> None:
        path.write_bytes(data)
        _clear_or_valid(load, path)
        seen.append(data)

    check()
    with capsys.disabled():
        print(f"\nfuzz: {len(seen)} {kind} files")


def test_event_lines_are_skipped_and_counted_never_raised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = (
        b'{"schema_version":1,"timestamp":"2026-01-01T00:00:00Z","site":"s","agent":"a",'
        b'"clock":1,"kind":"agent_started"}'
    )
    seen = []

    @FUZZ
    @given(st.lists(mutated(good), min_size=1, max_size=5))
    def check(lines: list[bytes]) -> None:
        path = tmp_path / f"events-{len(seen)}.jsonl"
        path.write_bytes(b"\n".join(line.replace(b"\n", b" ") for line in lines) + b"\n")
        cursor = EventFileCursor(path)
        events = cursor.read_new()
        keyed = EventFileCursor(path).read_new_keyed()
        nonblank = sum(1 for line in lines if line.replace(b"\n", b" ").strip())
        assert len(events) + cursor.bad_lines == nonblank
        assert len(keyed) <= nonblank
        seen.append(lines)

    check()
    with capsys.disabled():
        print(f"\nfuzz: {len(seen)} event files")


def test_dashboard_query_strings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    loop = asyncio.new_event_loop()
    app = create_app(RunStore(tmp_path / "run", "run-1"), asset_path("dashboard"), 0.05)
    client = TestClient(TestServer(app), loop=loop)
    loop.run_until_complete(client.start_server())
    seen = []
    try:

        @FUZZ
        @given(
            st.sampled_from(["/api/events", "/api/status", "/api/run"]),
            st.dictionaries(
                st.sampled_from(["after", "site", "agent", "x"]), st.text(max_size=40), max_size=3
            ),
        )
        def check(route: str, query: dict[str, str]) -> None:
            async def get() -> int:
                response = await client.get(route, params=query)
                await response.read()
                return response.status

            status = loop.run_until_complete(get())
            assert status in (200, 400), f"{route} {query!r} -> {status}"
            seen.append(query)

        check()
    finally:
        loop.run_until_complete(client.close())
        loop.close()
    with capsys.disabled():
        print(f"\nfuzz: {len(seen)} dashboard queries")
