"""Mirror one site's run directory to this machine with rsync, over the site's master.

A background thread runs ``rsync -a`` every ``interval_s`` seconds. Event files only
grow, and rsync replaces each file by renaming a complete copy, so the dashboard's
cursors (byte offsets) stay valid; a line still being written arrives torn and is read
once it completes. Nothing is ever deleted from the mirror, and the remote side is only
read.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import sh

from chia.dashboard.ssh import SshMaster
from chia.processes import die_with_parent

__all__ = ["RsyncMirror"]

log = logging.getLogger(__name__)

#: rsync exit codes meaning "the source is not there (yet)": 23 partial transfer (missing
#: source dir), 24 files vanished while copying.
_NOT_YET = (23, 24)


def _die_with_parent() -> None:
    """In rsync's child: a dashboard killed mid-pass takes the pass along."""
    die_with_parent()


class RsyncMirror:
    """Copies ``<host>:<remote_dir>/`` into ``<local_dir>/`` now and then, on a thread.

    Args:
        master: The site's ControlMaster (rsync's ssh rides on it).
        remote_dir: The site's run directory on the login node's filesystem.
        local_dir: Where the copy goes (``<mirror>/<run_id>/<site>``).
        interval_s: Seconds between passes.
        say: Landmark lines for the operator (first copy, waiting, errors).
        timeout_s: Longest one pass may take before it is abandoned.
    """

    def __init__(
        self,
        master: SshMaster,
        remote_dir: str,
        local_dir: Path,
        *,
        interval_s: float = 3.0,
        say: Callable[[str], None] = print,
        timeout_s: float = 300.0,
    ) -> None:
        self.master = master
        self.site = master.target.site
        self.remote_dir = remote_dir.rstrip("/")
        self.local_dir = local_dir
        self.interval_s = interval_s
        self.say = say
        self.timeout_s = timeout_s
        self.passes = 0
        self.copied = False
        self._waiting_said = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"rsync-{self.site}", daemon=True)

    def sync_once(self) -> bool:
        """Run one rsync pass; True when the remote directory was copied."""
        self.local_dir.mkdir(parents=True, exist_ok=True)
        source = f"{self.master.target.host}:{self.remote_dir}/"
        try:
            sh.rsync(
                "-a",
                "--partial",
                "-e",
                self.master.rsync_rsh(),
                source,
                f"{self.local_dir}/",
                _timeout=self.timeout_s,
                _preexec_fn=_die_with_parent,
            )
        except sh.ErrorReturnCode as exc:
            if exc.exit_code in _NOT_YET:
                if not self._waiting_said:
                    self.say(f"[{self.site}] waiting for {self.remote_dir} to appear")
                    self._waiting_said = True
                return False
            stderr = exc.stderr.decode(errors="replace").strip()
            self.say(f"[{self.site}] rsync failed (exit {exc.exit_code}): {stderr}")
            return False
        except sh.TimeoutException:
            self.say(f"[{self.site}] rsync pass took longer than {self.timeout_s:g}s")
            return False
        finally:
            self.passes += 1
        if not self.copied:
            self.say(f"[{self.site}] mirroring {source} -> {self.local_dir}")
            self.copied = True
        return True

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.sync_once()
            except Exception:  # keep mirroring: the next pass may succeed
                log.exception("%s: rsync pass failed", self.site)

    def start(self) -> RsyncMirror:
        """Copy once now, then keep copying on the background thread."""
        self.sync_once()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the loop and wait for a pass in progress to end."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.timeout_s)

    def __enter__(self) -> RsyncMirror:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
