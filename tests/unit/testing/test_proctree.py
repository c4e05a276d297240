from __future__ import annotations

import os
import signal
import subprocess
import sys

from chia.testing.proctree import leftovers, snapshot, wait_for_no_leftovers

# A parent in its own session whose child listens on a free port and prints it.
TREE = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", '''
import socket, sys, time
server = socket.create_server(("127.0.0.1", 0))
print(server.getsockname()[1], flush=True)
time.sleep(60)
'''], stdout=sys.stdout)
time.sleep(60)
"""


def test_snapshot_finds_descendants_and_their_ports_and_leftovers_see_them_go():
    parent = subprocess.Popen(
        [sys.executable, "-c", TREE], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert parent.stdout is not None
    port = int(parent.stdout.readline())
    try:
        before = snapshot(parent.pid)
        assert len(before.processes) == 2, before.describe()
        assert port in before.ports
        parent.kill()  # the listening child is orphaned, still in the session
        parent.wait()
        left = leftovers(before)
        assert [p.pid for p in left.processes] != [] and port in left.ports, left.describe()
        for info in left.processes:
            os.kill(info.pid, signal.SIGKILL)
        assert not wait_for_no_leftovers(before, timeout_s=10)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
