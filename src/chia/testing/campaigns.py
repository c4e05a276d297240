"""Generated campaigns and start-up timing, for tests and benchmarks that need many agents."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chia.events import AgentState, AgentStatus, read_snapshot
from chia.processes import stop_processes

__all__ = ["time_until_running", "write_campaign_dir"]


def write_campaign_dir(root: Path, name: str, agents: list[dict[str, Any]], **fields: Any) -> Path:
    """Write ``<root>/<name>/campaign.jsonc`` (scripted counter policy) and a prompt profile.

    Args:
        root: Where the campaign directory goes.
        name: The campaign name (and directory name).
        agents: Agent entries as in a campaign file; the first is the initial agent.
        **fields: Other campaign keys (they override the defaults).

    Returns:
        The campaign directory, ready for ``--campaign``.
    """
    campaign: dict[str, Any] = {
        "name": name,
        "user_task": "start up",
        "initial_agent": agents[0]["name"],
        "policy": {"kind": "counter"},
        "limits": {"idle_timeout_s": 600},
        "agents": agents,
        **fields,
    }
    directory = root / name
    (directory / "prompt_profiles").mkdir(parents=True)
    (directory / "campaign.jsonc").write_text(json.dumps(campaign))
    (directory / "prompt_profiles" / "default.json").write_text(
        json.dumps({"system_prompt": "s", "protocol_prompt": "p"})
    )
    return directory


def time_until_running(
    argvs: Sequence[Sequence[str]],
    run_dir: Path,
    agents: int,
    *,
    env: dict[str, str] | None = None,
    timeout_s: float = 600.0,
) -> float:
    """Start the given ``chia spawn-site`` commands; seconds until all agents are RUNNING.

    Every agent's status reads RUNNING once all its peers answered pings. The sites are
    stopped (SIGTERM, then SIGKILL) before returning.

    Raises:
        RuntimeError: If an agent failed or a site exited first.
        TimeoutError: If the agents were not all running within ``timeout_s``.
    """
    started = time.perf_counter()
    procs = [
        subprocess.Popen(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, env=env)
        for argv in argvs
    ]
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            states = [
                getattr(read_snapshot(path, AgentStatus), "state", None)
                for path in run_dir.glob("*/status/*.json")
            ]
            if len(states) == agents and all(s is AgentState.RUNNING for s in states):
                return time.perf_counter() - started
            if AgentState.FAILED in states or any(p.poll() is not None for p in procs):
                raise RuntimeError(f"a site failed or exited; see {run_dir}")
            time.sleep(0.05)
        raise TimeoutError(f"agents did not come up within {timeout_s:g} s")
    finally:
        stop_processes(procs, 30.0)
