"""PID tracking and cancellation for ChiaFunction remote tasks.

Tracks subprocess PIDs spawned during ``@ChiaFunction`` remote execution and provides
``chia_cancel()`` to kill those process trees before cancelling the Ray task. Ray's own
``ray.cancel`` cannot interrupt a task blocked waiting on a child process; killing the
child first lets the cancellation land.

The Popen hook is scoped per task via ``threading.local`` (the task context), so
concurrent Ray tasks on the same worker don't interfere with each other. Children are
also killed when the task raises, and when the driver receives SIGTERM.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
from types import FrameType
from typing import Any

import ray

from chia.base import _context
from chia.base._proc import ProcessRef, is_alive, process_ref, terminate
from chia.base._ray_util import (
    CHIA_NAMESPACE,
    current_node_id,
    get_named_actor,
    head_node_id,
    pinned_singleton,
    pinned_to,
)

__all__ = ["PidRegistryActor", "chia_cancel", "install_sigterm_handler", "kill_all"]

log = logging.getLogger(__name__)

REGISTRY_NAME = "chia_pid_registry"
_REGISTER_TIMEOUT_S = 30.0

_Entry = tuple[str, str, ProcessRef]  # (job id, node id, process)


@ray.remote(num_cpus=0)
def _kill_local(procs: list[ProcessRef], grace: float) -> int:
    """Kill process trees on the node this task was pinned to."""
    return terminate(procs, grace)


def _kill_grouped(entries: list[_Entry], grace: float) -> int:
    """Kill each entry's process tree on its own node; return how many were targeted."""
    by_node: dict[str, list[ProcessRef]] = {}
    for _job, node, proc in entries:
        by_node.setdefault(node, []).append(proc)
    refs = [
        _kill_local.options(scheduling_strategy=pinned_to(node)).remote(procs, grace)
        for node, procs in by_node.items()
    ]
    ray.get(refs)
    return sum(len(procs) for procs in by_node.values())


class PidRegistryActor:
    """Ray actor that maps task IDs to subprocess PIDs.

    Created lazily on first registration, looked up by workers and the driver via
    ``_get_registry()``.
    """

    def __init__(self) -> None:
        self._tasks: dict[str, list[_Entry]] = {}
        self._lock = threading.Lock()

    def register(self, task_id: str, job_id: str, node_id: str, proc: ProcessRef) -> None:
        """Record that ``task_id`` spawned ``proc`` on ``node_id``."""
        with self._lock:
            self._tasks.setdefault(task_id, []).append((job_id, node_id, proc))

    def settle(self, task_id: str, still_alive: list[ProcessRef]) -> None:
        """Keep only the processes that outlived their task (they stay killable)."""
        alive = {proc.pid for proc in still_alive}
        with self._lock:
            entries = [e for e in self._tasks.pop(task_id, []) if e[2].pid in alive]
            if entries:
                self._tasks[task_id] = entries

    def lookup(self, task_id: str) -> list[_Entry]:
        """Return the ``(job, node, process)`` entries recorded for ``task_id``."""
        with self._lock:
            return list(self._tasks.get(task_id, []))

    def pop(self, task_id: str) -> list[_Entry]:
        """Return and forget the entries of ``task_id``."""
        with self._lock:
            return self._tasks.pop(task_id, [])

    def tracked(self) -> dict[str, list[int]]:
        """Return ``{task_id: [pid, ...]}`` for every tracked task."""
        with self._lock:
            return {task: [e[2].pid for e in entries] for task, entries in self._tasks.items()}

    def kill_all(self, grace: float = 25.0, job_id: str | None = None) -> int:
        """Kill all tracked subprocess PIDs across all nodes.

        Dispatches remote kill tasks and waits for completion. Each kill sends SIGTERM,
        polls for the process to exit, and only escalates to SIGKILL if it is still alive
        after ``grace`` seconds. Returns the number of PIDs targeted.

        Args:
            grace: Seconds between SIGTERM and SIGKILL.
            job_id: Only kill processes spawned by this Ray job (default: every job).
        """
        with self._lock:
            chosen: list[_Entry] = []
            for task, entries in list(self._tasks.items()):
                mine = [e for e in entries if job_id is None or e[0] == job_id]
                others = [e for e in entries if e not in mine]
                chosen += mine
                if others:
                    self._tasks[task] = others
                else:
                    del self._tasks[task]
        return _kill_grouped(chosen, grace) if chosen else 0


def _get_registry(create: bool = True) -> Any | None:
    """Return the registry actor handle (creating it, pinned to the head, if asked)."""
    if not create:
        return get_named_actor(REGISTRY_NAME, CHIA_NAMESPACE)
    return pinned_singleton(
        PidRegistryActor,
        REGISTRY_NAME,
        CHIA_NAMESPACE,
        head_node_id(),
        soft=True,
        max_concurrency=8,
    )


# --- worker side: the Popen hook -------------------------------------------------------

_hook_lock = threading.Lock()
_hook_installed = False


def hook_installed() -> bool:
    """True once this process's ``subprocess.Popen`` is patched."""
    return _hook_installed


def _on_spawn(pid: int) -> None:
    """Register a child spawned inside a chia task (never breaks the caller's Popen)."""
    frame = _context.current_frame()
    if frame is None:
        return
    proc = process_ref(pid)
    frame.procs.append(proc)
    try:
        registry = _get_registry()
        job = ray.get_runtime_context().get_job_id()
        ref = registry.register.remote(frame.task_id, job, current_node_id(), proc)  # type: ignore[union-attr]
        ray.get(ref, timeout=_REGISTER_TIMEOUT_S)
    except Exception:  # registration is best effort: the child still runs
        log.warning("could not register subprocess %d with the PID registry", pid)


def install_popen_hook() -> None:
    """Patch ``subprocess.Popen`` in this process so children of chia tasks are tracked."""
    global _hook_installed
    with _hook_lock:
        if _hook_installed:
            return
        original = subprocess.Popen.__init__

        def tracked_init(self: subprocess.Popen[Any], *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            _on_spawn(self.pid)

        subprocess.Popen.__init__ = tracked_init  # type: ignore[method-assign]
        _hook_installed = True


def task_failed(task_id: str, procs: list[ProcessRef]) -> None:
    """The task raised: kill the children it spawned (on this node) and forget them."""
    terminate(procs, grace=5.0)
    _settle(task_id, [])


def task_finished(task_id: str, procs: list[ProcessRef]) -> None:
    """The task returned: keep tracking only children that outlived it."""
    _settle(task_id, [p for p in procs if is_alive(p)])


def _settle(task_id: str, still_alive: list[ProcessRef]) -> None:
    registry = _get_registry(create=False)
    if registry is not None:
        registry.settle.remote(task_id, still_alive)


# --- driver side: cancel and signal handling --------------------------------------------


def chia_cancel(ref: Any, force: bool = False, *, grace: float = 5.0) -> None:
    """Cancel a running ChiaFunction task, killing its subprocesses first.

    Looks up any subprocess PIDs spawned by the task, kills them on the correct remote
    nodes (using process group kill for ``start_new_session`` subprocesses), then calls
    ``ray.cancel()``. With ``force=False`` the cooperative cancel is also requested
    before the kill, so a task blocked on its child is cancelled rather than returning.

    Args:
        ref: The ``ObjectRef`` returned by ``chia_remote()`` (an ``ObjectRefCallback`` is
            accepted too).
        force: Passed through to ``ray.cancel()``. If ``True``, the Ray worker is killed;
            if ``False`` (default), a ``TaskCancelledError`` is raised cooperatively.
        grace: Seconds between SIGTERM and SIGKILL for each subprocess.
    """
    object_ref = getattr(ref, "ref", ref)
    if not force:
        # Request the cooperative cancel first: it lands as soon as the killed child lets
        # the task resume, instead of the task returning the child's exit status.
        ray.cancel(object_ref)
    registry = _get_registry(create=False)
    if registry is not None:
        entries = ray.get(registry.pop.remote(object_ref.task_id().hex()))
        if entries:
            _kill_grouped(entries, grace)
    ray.cancel(object_ref, force=force)


def kill_all(grace: float = 25.0, job_id: str | None = None) -> int:
    """Kill every tracked subprocess (of ``job_id`` only, when given); return the count."""
    registry = _get_registry(create=False)
    if registry is None:
        return 0
    return int(ray.get(registry.kill_all.remote(grace, job_id)))


_sigterm_installed = False


def install_sigterm_handler(grace: float = 5.0) -> bool:
    """On SIGTERM, kill this driver's tracked subprocesses, then let the signal proceed.

    Installed automatically by the first ``chia_remote`` made on a driver's main thread.
    The previous handler (Ray's own, or the default action) runs after the kill. Returns
    True if installed (False off the main thread).
    """
    global _sigterm_installed
    if _sigterm_installed:
        return True
    if threading.current_thread() is not threading.main_thread():
        return False
    job_id = ray.get_runtime_context().get_job_id()
    previous = signal.getsignal(signal.SIGTERM)

    def _on_sigterm(signum: int, frame: FrameType | None) -> None:
        try:
            kill_all(grace=grace, job_id=job_id)
        except Exception:  # never block the shutdown the signal asked for
            log.exception("could not kill tracked subprocesses on SIGTERM")
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    signal.signal(signal.SIGTERM, _on_sigterm)
    _sigterm_installed = True
    return True
