"""How long `chia campaign validate` takes on a large campaign file.

Generates a campaign of about 1 MB (many agents, each with a mission and its allowed
peers, with comments and trailing commas as people write them), then measures side by side
in one run: the floor (the stdlib ``json`` parser on the same document without its
comments: parsing only), ours in process (``load_campaign``: parse + schema + cross-checks),
ours as a user runs it (``chia campaign validate`` in a new process, interpreter start
included), the same command on the bundled two-agent campaign (the fixed start-up cost:
interpreter, typer, rich, pydantic and its schema build, which no file size changes), and
the pure-Python ``json5`` parser that chia used before, when it is installed.

    .venv/bin/python benchmarks/campaign_validate.py [--megabytes 1]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chia.assets import path as asset_path
from chia.campaign import load_campaign


def campaign_text(megabytes: float) -> tuple[str, dict[str, Any]]:
    """A valid JSONC campaign of about ``megabytes`` MB, and the same data as plain JSON."""
    agents = []
    per_agent = 430  # bytes per agent entry, about
    count = max(2, int(megabytes * 1_000_000 / per_agent))
    names = [f"agent-{i:05d}" for i in range(count)]
    for i, name in enumerate(names):
        agents.append(
            {
                "name": name,
                "role": "counter partner",
                "mission": "Each time a peer sends you the counter, add one and send it on, "
                "until it reaches the target; then submit the result. " * 2,
                "allowed_peers": [names[(i + 1) % count], names[(i - 1) % count]],
                "site": f"site-{i % 8}",
            }
        )
    data = {
        "name": "big",
        "run_id": "big-001",
        "user_task": "Play the counter game.",
        "initial_agent": names[0],
        "prompt_profile": "default",
        "lm": {"provider": "scripted", "model": "scripted"},
        "policy": {"kind": "counter", "start": 1, "target": 10, "message": "counter = {counter}"},
        "agents": agents,
    }
    lines = ["// a generated campaign", json.dumps(data, indent=2)]
    text = "\n".join(lines).replace('"site-0"\n', '"site-0", // first site\n')
    return text, data


def best_of(runs: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    text, data = campaign_text(args.megabytes)
    plain = json.dumps(data)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "big"
        shutil.copytree(
            asset_path("campaigns") / "federated-chat" / "prompt_profiles",
            directory / "prompt_profiles",
        )
        path = directory / "campaign.jsonc"
        path.write_text(text)
        size = path.stat().st_size / 1e6
        chia = Path(sys.executable).with_name("chia")
        small = asset_path("campaigns") / "federated-chat" / "campaign.jsonc"

        def validate(target: Path) -> Callable[[], object]:
            command = [str(chia), "campaign", "validate", str(target)]
            return lambda: subprocess.run(command, check=True, capture_output=True)

        rows = [
            ("floor: json.loads (parse only)", best_of(args.runs, lambda: json.loads(plain))),
            ("ours: load_campaign", best_of(args.runs, lambda: load_campaign(path))),
            ("ours: chia campaign validate (new process)", best_of(args.runs, validate(path))),
            ("  of which fixed start (2-agent file)", best_of(args.runs, validate(small))),
        ]
        try:
            import json5  # type: ignore[import-untyped]
        except ImportError:
            rows.append(("peer: pure-Python json5 (parse only)", float("nan")))
        else:
            rows.append(
                ("peer: pure-Python json5 (parse only)", best_of(1, lambda: json5.loads(text)))
            )
    print(f"campaign file: {size:.2f} MB, {len(data['agents'])} agents; median of {args.runs}")
    for label, seconds in rows:
        shown = "not installed" if seconds != seconds else f"{seconds * 1000:9.1f} ms"
        print(f"  {label:<45} {shown}")


if __name__ == "__main__":
    main()
