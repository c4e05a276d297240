"""A sandbox for ``chia up`` in tests and benchmarks: own state dir, own Ray temp root.

Every node of a sandboxed cluster has a command line naming the sandbox's temp root, so
:func:`processes_under` finds exactly this sandbox's Ray processes (never another
engineer's), and the sandbox kills any leftovers on exit (after the test has asserted
there are none).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ClusterSandbox", "cluster_sandbox", "processes_under"]

CHIA = str(Path(sys.executable).parent / "chia")


def processes_under(marker: str) -> dict[int, str]:
    """Processes whose command line contains ``marker`` (not this one): pid -> command line.

    The command line comes along so that a test asserting "nothing left" says what was.
    """
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if marker.encode() in cmdline:
            found[int(entry.name)] = cmdline.decode(errors="replace").strip()
    return found


@dataclass
class ClusterSandbox:
    """Where a test's clusters keep state, and how to run ``chia`` against them."""

    name: str
    state_dir: Path
    temp_root: str
    workdir: Path

    @property
    def env(self) -> dict[str, str]:
        """Environment for ``chia`` commands of this sandbox."""
        return {**os.environ, "CHIA_CLUSTERS_DIR": str(self.state_dir)}

    def write(self, text: str, filename: str = "cluster.yaml") -> Path:
        """Write a cluster file (``@NAME@`` and ``@TEMP_ROOT@`` are filled in)."""
        path = self.workdir / filename
        path.write_text(text.replace("@NAME@", self.name).replace("@TEMP_ROOT@", self.temp_root))
        return path

    def chia(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run ``chia`` with this sandbox's state dir."""
        return subprocess.run(
            [CHIA, *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    def processes(self) -> dict[int, str]:
        """This sandbox's Ray processes still running: pid -> command line."""
        return processes_under(self.temp_root + "/")

    def client_env(self) -> dict[str, str]:
        """Driver environment of the sandbox's (single) live cluster."""
        states = sorted(self.state_dir.glob("*.json"))
        data = json.loads(states[0].read_text())
        return {**os.environ, **data["client_env"]}

    def run_on_fpga(self) -> dict[str, Any]:
        """Run a ChiaFunction that needs the ``fpga`` resource on the live cluster.

        Returns:
            ``alive`` (how many nodes are alive), ``ran_on`` (the node id it ran on) and
            ``fpga`` (the sorted ids of the alive nodes that offer ``fpga``).
        """
        out = subprocess.run(
            [sys.executable, "-c", _FPGA_DRIVER],
            capture_output=True,
            text=True,
            env=self.client_env(),
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        # Ray may print warnings to stdout after the result line.
        (line,) = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
        result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
        return result


_FPGA_DRIVER = """
import json, os, ray
from chia.base.ChiaFunction import ChiaFunction

@ChiaFunction(resources={"fpga": 1})
def where():
    return ray.get_runtime_context().get_node_id()

ray.init(address=os.environ["RAY_ADDRESS"], log_to_driver=False, logging_level="ERROR")
alive = [n for n in ray.nodes() if n["Alive"]]
fpga = sorted(n["NodeID"] for n in alive if n["Resources"].get("fpga"))
ran_on = ray.get(where.chia_remote(), timeout=60)
print("RESULT " + json.dumps({"alive": len(alive), "ran_on": ran_on, "fpga": fpga}))
"""


@contextlib.contextmanager
def cluster_sandbox(workdir: Path, prefix: str = "t") -> Iterator[ClusterSandbox]:
    """A unique cluster name and short temp root; leftovers are killed on exit."""
    token = secrets.token_hex(3)
    sandbox = ClusterSandbox(
        name=f"{prefix}-{token}",
        state_dir=workdir / "clusters",
        temp_root=f"/tmp/chia-rt-{token}",
        workdir=workdir,
    )
    try:
        yield sandbox
    finally:
        for pid in sandbox.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
        shutil.rmtree(sandbox.temp_root, ignore_errors=True)
