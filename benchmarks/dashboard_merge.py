"""Dashboard merge speed: initial load of a large run, and the cost of 100 new events.

Usage: python benchmarks/dashboard_merge.py [--events 1000000] [--sites 4] [--writers 8]
                                            [--batch 100] [--updates 20]

Generates ``--events`` valid events (a realistic mix of kinds, Lamport clocks interleaved
across sites) in ``--sites`` x ``--writers`` per-writer JSONL files, then measures:

* initial load: ``RunStore.refresh()`` plus the merged ``/api/events`` document, in
  events per second (target >= 200k/s);
* incremental: ``--batch`` events appended across the writers, then ``refresh()`` plus
  the ``/api/events?after=<cursor>`` document, in milliseconds (target <= 50 ms);

next to the naive way (re-read and re-parse every file, sort everything, serialize
everything, on every update) and the floor (only reading the bytes).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from chia.dashboard.store import RunStore
from chia.events import iter_events, merge_events, parse_event, site_event_files

RUN = "bench"
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _line(site: str, writer: str, clock: int, n: int, rng: random.Random) -> str:
    stamp = (T0 + timedelta(microseconds=clock * 1000 + rng.randrange(1000))).isoformat()
    head = (
        f'{{"schema_version":1,"event_id":"{site}-{writer}-{n:08d}","timestamp":"{stamp}",'
        f'"run_id":"{RUN}","site":"{site}","agent":"{writer}","clock":{clock},'
    )
    roll = n % 10
    if roll < 3:
        peer = f"agent-{rng.randrange(8)}"
        return head + (
            f'"kind":"message_sent","message_id":"m{site}{writer}{n}","sender":"{writer}",'
            f'"recipient":"{peer}","message_kind":"chat","round":{n % 50},'
            f'"tldr":"counter = {n}","content":"please add one to {n} and send it back",'
            f'"reply_requested":false,"recipient_site":"site-{rng.randrange(4)}"}}'
        )
    if roll < 5:
        return head + (
            f'"kind":"decision","round":{n % 50},"policy":"llm","actions":["send_message"]}}'
        )
    if roll < 8:
        return head + (
            '"kind":"llm_call","provider":"openai","model":"gpt-5-mini",'
            f'"tokens_in":{rng.randrange(2000)},"tokens_out":{rng.randrange(500)},'
            f'"latency_s":{rng.random():.3f},"success":true,"error":null}}'
        )
    return head + f'"kind":"note","level":"info","message":"step {n} done"}}'


class Generator:
    """Writes valid events into ``<root>/<run>/<site>/events/<writer>.jsonl``."""

    def __init__(self, root: Path, sites: int, writers: int) -> None:
        self.rng = random.Random(7)
        self.files: list[tuple[str, str, Path]] = []
        for s in range(sites):
            for w in range(writers):
                site, writer = f"site-{s}", f"agent-{w}"
                path = root / RUN / site / "events" / f"{writer}.jsonl"
                path.parent.mkdir(parents=True, exist_ok=True)
                self.files.append((site, writer, path))
        self.counts = [0] * len(self.files)
        self.clocks = [0] * len(self.files)

    def append(self, total: int) -> None:
        """Append ``total`` events spread evenly over the files."""
        per_file = [total // len(self.files)] * len(self.files)
        for i in range(total % len(self.files)):
            per_file[i] += 1
        for i, ((site, writer, path), count) in enumerate(zip(self.files, per_file, strict=True)):
            lines = []
            for _ in range(count):
                self.clocks[i] += 1 + self.rng.randrange(3)  # clocks interleave across writers
                self.counts[i] += 1
                lines.append(_line(site, writer, self.clocks[i], self.counts[i], self.rng))
            with path.open("a", encoding="utf-8") as handle:
                handle.write("\n".join(lines) + "\n" if lines else "")


def naive_reload(run_dir: Path) -> bytes:
    """What a dashboard without cursors does on every update."""
    files = [f for site in sorted(run_dir.iterdir()) for f in site_event_files(site)]
    events = merge_events(iter_events(files))
    return json.dumps([e.model_dump(mode="json") for e in events], default=str).encode()


def floor_read(run_dir: Path) -> int:
    """Only reading the bytes and splitting lines."""
    return sum(len(p.read_bytes().split(b"\n")) for p in run_dir.glob("*/events/*.jsonl"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--sites", type=int, default=4)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--updates", type=int, default=20)
    opts = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="chia-bench-") as tmp:
        root = Path(tmp)
        gen = Generator(root, opts.sites, opts.writers)
        started = time.perf_counter()
        gen.append(opts.events)
        print(
            f"generated {opts.events:,} events in {opts.sites} sites x {opts.writers} writers "
            f"({time.perf_counter() - started:.1f}s)"
        )
        parse_event(gen.files[0][2].read_bytes().split(b"\n", 1)[0])  # the lines are valid
        run_dir = root / RUN

        started = time.perf_counter()
        floor_read(run_dir)
        floor_s = time.perf_counter() - started

        store = RunStore(run_dir, RUN)
        started, cpu = time.perf_counter(), time.process_time()
        loaded = store.refresh()
        _, body = store.events_json(0)
        ours_s, ours_cpu = time.perf_counter() - started, time.process_time() - cpu
        assert loaded == opts.events and store.bad_lines() == 0, (loaded, store.bad_lines())
        del body

        started, cpu = time.perf_counter(), time.process_time()
        naive_reload(run_dir)
        naive_s, naive_cpu = time.perf_counter() - started, time.process_time() - cpu

        ours_ms: list[float] = []
        ours_cpu_ms: list[float] = []
        for _ in range(opts.updates):
            cursor = store.cursor
            gen.append(opts.batch)
            started, cpu = time.perf_counter(), time.process_time()
            new = store.refresh()
            _, doc = store.events_json(cursor)
            ours_ms.append((time.perf_counter() - started) * 1000)
            ours_cpu_ms.append((time.process_time() - cpu) * 1000)
            assert new == opts.batch and doc.count(b'"seq":') == opts.batch
        gen.append(opts.batch)
        started = time.perf_counter()
        naive_reload(run_dir)
        naive_inc_ms = (time.perf_counter() - started) * 1000

    ours_p50 = statistics.median(ours_ms)
    rows = [
        ("floor: read bytes only", f"{opts.events / floor_s:,.0f} ev/s", ""),
        (
            "chia RunStore (cursors, causal merge)",
            f"{opts.events / ours_s:,.0f} ev/s",
            f"{ours_p50:.1f} ms p50, {max(ours_ms):.1f} max",
        ),
        (
            "  same, per CPU second (machine load aside)",
            f"{opts.events / ours_cpu:,.0f} ev/s",
            f"{statistics.median(ours_cpu_ms):.1f} ms p50",
        ),
        (
            "naive: re-read + re-merge everything",
            f"{opts.events / naive_s:,.0f} ev/s",
            f"{naive_inc_ms:,.0f} ms",
        ),
        ("  same, per CPU second", f"{opts.events / naive_cpu:,.0f} ev/s", ""),
    ]
    print()
    print(f"{'path':<46}{'initial load':>18}  {'+' + str(opts.batch) + ' events':<26}")
    for name, initial, incremental in rows:
        print(f"{name:<46}{initial:>18}  {incremental:<26}")
    print()
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    initial_ok = opts.events / ours_s >= 200_000
    inc_ok = ours_p50 <= 50
    print(f"target initial >= 200,000 ev/s: {'met' if initial_ok else 'MISSED'} (wall clock)")
    print(f"target incremental <= 50 ms:    {'met' if inc_ok else 'MISSED'} (wall clock)")


if __name__ == "__main__":
    main()
