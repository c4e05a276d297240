"""The dashboard starts fast because it imports no heavy stack (measured in benchmarks/)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("ray", "academy", "langchain", "langchain_core", "langchain_openai", "openai", "mcp")
HEAVY += ("fastmcp", "redis", "mpi4py")

PROBE = """
import sys
import chia.cli.main, chia.cli.dashboard, chia.dashboard.serve, chia.dashboard.site_mirrors
from chia.dashboard.app import create_app
print(" ".join(sorted({m.split(".")[0] for m in sys.modules})))
"""


def test_serving_the_dashboard_imports_no_ray_academy_or_llm_stack():
    loaded = subprocess.run(
        [sys.executable, "-c", PROBE], check=True, capture_output=True, text=True, timeout=60
    ).stdout.split()
    assert "aiohttp" in loaded and "chia" in loaded  # the probe saw real imports
    assert sorted(set(HEAVY) & set(loaded)) == []
