from __future__ import annotations

import subprocess
import sys


def test_settle_heap_freezes_what_start_up_left_alive():
    # In a fresh interpreter: freezing in the test process would outlive this test.
    code = (
        "import gc; from chia.site.host import settle_heap\n"
        "assert gc.get_freeze_count() == 0\n"
        "settle_heap()\n"
        "print(gc.get_freeze_count(), len(gc.get_objects()), int(gc.isenabled()))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    frozen, still_tracked, enabled = map(int, done.stdout.split())
    assert frozen > 10_000  # Academy, pydantic and chia's own modules
    assert still_tracked < frozen / 10
    assert enabled  # new objects are still collected
