"""Dispatch overhead of @ChiaFunction.chia_remote versus raw ray.remote tasks.

Runs, in one Ray session (2 CPUs): N trivial tasks through ``ray.remote`` (the floor),
through ``ChiaFunction.chia_remote`` with bypass/cache/profiling off, with empty
setup/cleanup hooks configured (``.options(_chia_setup=..., _chia_cleanup=...)``), and with
profiling on; then the p50 latency of ``get`` on a cached value replayed through a bypass provider.
Prints a table with tasks/s and the ratio to raw Ray (targets: <= 1.10x with all off and
with empty hooks, < 1.15x with profiling).

    python benchmarks/chia_function_overhead.py [--tasks 5000] [--trials 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ray

from chia.base.bypass import Bypass
from chia.base.cache import get_active_cache, start_cache, stop_cache
from chia.base.ChiaFunction import ChiaFunction, get
from chia.trace.profiler import start_collector, stop_collector


def trivial() -> int:
    return 1


def noop() -> None:
    pass


raw_task = ray.remote(num_cpus=1)(trivial)
chia_task = ChiaFunction(num_cpus=1)(trivial)
hooked_task = chia_task.options(_chia_setup=noop, _chia_cleanup=noop)


@ChiaFunction(num_cpus=1)
def simulate(x: int) -> dict[str, int]:
    return {"x": x}


def cache_provider(tag: str | None, data_path: str | None, *args: Any, **kwargs: Any) -> Any:
    hit, value = ray.get(get_active_cache().read.remote(tag))  # type: ignore[union-attr]
    if not hit:
        raise KeyError(tag)
    return value


def run_batch(submit: Callable[[], Any], n: int) -> float:
    start = time.perf_counter()
    refs = [submit() for _ in range(n)]
    ray.get(refs)
    return time.perf_counter() - start


def best_rates(variants: dict[str, Callable[[], Any]], n: int, trials: int) -> dict[str, float]:
    """Best tasks/s of each variant, trials interleaved so machine noise hits all alike."""
    for submit in variants.values():
        run_batch(submit, min(n, 500))  # warm the worker pool
    best = dict.fromkeys(variants, 0.0)
    for _ in range(trials):
        for name, submit in variants.items():
            best[name] = max(best[name], n / run_batch(submit, n))
    return best


def cache_p50_ms(workdir: Path, samples: int) -> float:
    config = workdir / "flow.yaml"
    config.write_text("bypass:\n  simulate: true\ncache:\n  simulate: true\n")
    start_cache(64, str(workdir / "cache"), units="MB", yaml_path=str(config))
    get(simulate.chia_remote(1, _chia_tag="hot"))  # real run, written through on get
    bypass = Bypass(str(config))
    bypass.set_provider("simulate", cache_provider)
    latencies = []
    for _ in range(samples):
        start = time.perf_counter()
        value = get(simulate.chia_remote(1, _chia_tag="hot"))
        latencies.append((time.perf_counter() - start) * 1000)
        assert value == {"x": 1}
    stop_cache()
    return statistics.median(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--cache-samples", type=int, default=200)
    args = parser.parse_args()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    n, trials = args.tasks, args.trials
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        off = best_rates(
            {
                "raw": raw_task.remote,
                "chia": chia_task.chia_remote,
                "hooks": hooked_task.chia_remote,
            },
            n,
            trials,
        )
        floor, chia_off, chia_hooks = off["raw"], off["chia"], off["hooks"]
        start_collector(str(workdir / "profile.jsonl"))
        prof = best_rates({"raw": raw_task.remote, "chia": chia_task.chia_remote}, n, trials)
        stop_collector()
        # Profiling is compared with raw Ray measured in the same trials.
        chia_prof = prof["chia"] * floor / prof["raw"]
        p50 = cache_p50_ms(workdir, args.cache_samples)
    ray.shutdown()
    print(f"{n} trivial tasks, best of {trials} trials, 2 CPUs")
    print(f"{'variant':<38} {'tasks/s':>10} {'time ratio vs raw':>18}")
    rows = [
        ("ray.remote (floor)", floor),
        ("ChiaFunction.chia_remote, all off", chia_off),
        ("ChiaFunction.chia_remote, empty hooks", chia_hooks),
        ("ChiaFunction.chia_remote, profiling", chia_prof),
    ]
    for name, rate in rows:
        print(f"{name:<38} {rate:>10.0f} {floor / rate:>17.2f}x")
    print(f"cache replay via bypass provider: get p50 {p50:.2f} ms ({args.cache_samples} samples)")


if __name__ == "__main__":
    main()
