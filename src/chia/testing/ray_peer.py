"""Ray's own actor restart, timed: the peer row of ``benchmarks/recovery.py``.

``python -m chia.testing.ray_peer`` connects to the cluster at ``RAY_ADDRESS`` as a
driver, creates a bare ``max_restarts=-1`` actor (Ray restarts it itself, at once, with
no backoff) and prints ``ray-peer ready``. Each line read from stdin then SIGKILLs the
actor's worker process and prints ``ray-peer restart <seconds>``, the time until a method
call returned from the new worker. At end of input the actor is killed and the driver
disconnects. Ray prints lines of its own on the same stdout (a raylet's note that a
worker died): a reader keeps only lines starting with :data:`PREFIX`.
:class:`RayPeerDriver` runs it and speaks that protocol.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import Any

from chia.processes import stop_process

__all__ = ["PREFIX", "Peer", "RayPeerDriver", "main", "time_restart"]

#: Starts every line of this driver's own protocol on stdout.
PREFIX = "ray-peer "

#: How often a call goes out while the actor is down; the figure's resolution.
CALL_EVERY_S = 0.05
#: Only keeps a broken cluster from hanging the benchmark.
HANG_S = 120.0


class Peer:
    """The bare actor: one method, answering with its worker's pid."""

    def pid(self) -> int:
        """The pid of the worker process hosting this actor."""
        return os.getpid()


def time_restart(ray: Any, actor: Any, pid: int) -> tuple[float, int]:
    """SIGKILL the actor's worker ``pid``; seconds until a call answers, and the new pid.

    Calls go out every ``CALL_EVERY_S`` while earlier ones wait: a call that reached the
    dead worker fails (``RayActorError``), later ones queue until the actor is back.

    Raises:
        TimeoutError: If no call came back from a new worker within ``HANG_S``.
    """
    since = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    refs: list[Any] = []
    while time.monotonic() - since < HANG_S:
        refs.append(actor.pid.remote())
        ready, refs = ray.wait(refs, num_returns=1, timeout=CALL_EVERY_S)
        for ref in ready:
            with contextlib.suppress(ray.exceptions.RayActorError):  # sent to the dead one
                new = int(ray.get(ref))
                if new != pid:
                    return time.monotonic() - since, new
    raise TimeoutError(f"the Ray actor did not come back within {HANG_S:g} s")


class RayPeerDriver:
    """Runs ``python -m chia.testing.ray_peer`` and collects one figure per restart.

    Args:
        env: The driver's environment: ``RAY_ADDRESS`` and the cluster's auth settings.

    Raises:
        RuntimeError: If the driver exits before its actor is up.
    """

    def __init__(self, env: Mapping[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chia.testing.ray_peer"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=dict(env),
            text=True,
        )
        #: Seconds of each restart, in order.
        self.samples: list[float] = []
        self._expect("ready")

    def _expect(self, what: str) -> str:
        """The next line of the driver's own protocol (Ray's lines are skipped)."""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(PREFIX):
                return line.removeprefix(PREFIX).strip()
        raise RuntimeError(f"the Ray peer driver exited before saying {what!r}")

    def restart_once(self) -> float:
        """SIGKILL the actor's worker; return (and keep) the seconds until it answered.

        Raises:
            RuntimeError: If the driver exited instead (its actor never came back).
        """
        assert self.proc.stdin is not None
        self.proc.stdin.write("kill\n")
        self.proc.stdin.flush()
        seconds = float(self._expect("restart").removeprefix("restart "))
        self.samples.append(seconds)
        return seconds

    def close(self) -> None:
        """End its input (it kills its actor and disconnects) and wait for it to exit."""
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=30)
        stop_process(self.proc)  # only if it did not exit by itself
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def main() -> int:
    """Drive the peer actor: one kill per line of stdin; one figure per line of stdout."""
    import ray

    ray.init(address=os.environ["RAY_ADDRESS"], log_to_driver=False, logging_level=logging.ERROR)
    actor: Any = ray.remote(max_restarts=-1, num_cpus=0)(Peer).remote()
    try:
        pid = int(ray.get(actor.pid.remote(), timeout=HANG_S))
        print(f"{PREFIX}ready", flush=True)
        for _ in sys.stdin:
            seconds, pid = time_restart(ray, actor, pid)
            print(f"{PREFIX}restart {seconds:.6f}", flush=True)
    finally:
        ray.kill(actor)
        ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
