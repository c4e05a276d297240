"""Run a process tree with its wall clock off by some seconds, as on a badly set machine.

:func:`clock_skew_prefix` builds ``clock_skew.c`` (next to this module) with the C
compiler into a small ``LD_PRELOAD`` library and returns the ``env ...`` prefix that
runs a command with it: ``clock_gettime(CLOCK_REALTIME)``, ``gettimeofday`` and
``time`` answer ``offset_s`` seconds off, in the command and in every child that
inherits its environment (mpiexec's ranks, MCP servers). Monotonic clocks are untouched.

Debian's libfaketime would be the usual tool; version 0.9.10 breaks Python 3.11's
``time.sleep`` (EINVAL) when the monotonic clock is excluded and makes its lock waits
last the whole offset when it is not (see the C file's comment).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

__all__ = ["SKEW_ENV", "build_clock_skew", "clock_skew_prefix"]

#: The variable the library reads its offset from (seconds, may be negative).
SKEW_ENV = "CHIA_CLOCK_SKEW_S"
SOURCE = Path(__file__).with_name("clock_skew.c")


def build_clock_skew(workdir: Path) -> Path:
    """Compile the library into ``workdir`` (once); return its path.

    Raises:
        RuntimeError: If there is no C compiler or the build fails (with its output).
    """
    library = workdir / "libchia_clock_skew.so"
    if library.exists():
        return library
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise RuntimeError("no C compiler (cc) to build the clock-skew library")
    workdir.mkdir(parents=True, exist_ok=True)
    argv = [compiler, "-O2", "-shared", "-fPIC", "-o", str(library), str(SOURCE), "-ldl"]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"building {SOURCE.name} failed: {done.stderr.strip()}")
    return library


def clock_skew_prefix(offset_s: float, workdir: Path) -> list[str]:
    """``env LD_PRELOAD=<library> CHIA_CLOCK_SKEW_S=<offset>``: prepend to a command line.

    Raises:
        RuntimeError: If the library cannot be built.
    """
    library = build_clock_skew(workdir)
    return ["env", f"LD_PRELOAD={library}", f"{SKEW_ENV}={offset_s:g}"]
