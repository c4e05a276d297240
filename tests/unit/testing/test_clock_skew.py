"""chia.testing.clock_skew: a child's wall clock is off by the offset; its sleeps still work."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

import pytest

from chia.testing.clock_skew import clock_skew_prefix

pytestmark = pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")

CHILD = (
    "import datetime, threading, time; time.sleep(0.01); threading.Event().wait(0.01); "
    "print(time.time(), datetime.datetime.now(datetime.timezone.utc).timestamp())"
)


def test_the_wall_clock_is_moved_and_the_monotonic_one_is_not(tmp_path):
    prefix = clock_skew_prefix(-600, tmp_path)
    before = time.time()
    done = subprocess.run([*prefix, sys.executable, "-c", CHILD], capture_output=True, text=True)
    after = time.time()
    assert done.returncode == 0, done.stderr
    for seen in map(float, done.stdout.split()):
        assert before - 600 <= seen <= after - 600
    # Its children inherit it: `date` in a shell started by the skewed process.
    shell = subprocess.run([*prefix, "sh", "-c", "date +%s"], capture_output=True, text=True)
    assert int(shell.stdout) <= after - 599
