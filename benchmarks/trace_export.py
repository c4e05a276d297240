"""`chia trace export --format perfetto` on a generated run: time, output size, peak memory.

Usage: python benchmarks/trace_export.py [--events 1000000] [--sites 4] [--agents 8]
                                         [--skew-s 2] [--keep DIR]

Writes a run with ``chia.testing.sample_run.write_generated_run`` (every turn a receipt,
a model call, a send and a decision; site k's clock ``k * skew`` seconds behind), then
runs the real command in a child process and reports its wall time, the child's peak
RSS (``getrusage``) and the size of the trace.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from chia.testing.sample_run import write_generated_run

CHIA = str(Path(sys.executable).parent / "chia")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--sites", type=int, default=4)
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--skew-s", type=float, default=2.0)
    parser.add_argument("--keep", type=Path, default=None, help="Leave the run and trace here.")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="chia-trace-bench-") as tmp:
        root = opts.keep or Path(tmp)
        started = time.perf_counter()
        run = write_generated_run(
            root,
            "bench",
            events=opts.events,
            sites=opts.sites,
            agents=opts.agents,
            skew_s=opts.skew_s,
        )
        size_in = sum(p.stat().st_size for p in run.glob("*/events/*.jsonl"))
        print(
            f"generated {opts.events:,} events, {opts.sites} sites x {opts.agents} agents, "
            f"{size_in / 1e6:,.0f} MB ({time.perf_counter() - started:.0f} s)"
        )
        out = root / "bench.perfetto.json"
        started = time.perf_counter()
        done = subprocess.run(
            [CHIA, "trace", "export", str(run), "--format", "perfetto", "-o", str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"export failed ({done.returncode}): {done.stderr}")
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_kb, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
        print(done.stderr.strip().splitlines()[-1])
        print(
            f"export: {wall:.1f} s wall, {cpu:.1f} s CPU, peak RSS {peak_kb / 1024:,.0f} MB, "
            f"trace {out.stat().st_size / 1e6:,.0f} MB"
        )
        print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
