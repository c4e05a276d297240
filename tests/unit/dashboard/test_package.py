"""The dashboard imports only chia.events from chia: no Ray, Academy or LLM stack."""

from __future__ import annotations

import subprocess
import sys

import chia.dashboard

HEAVY = ("ray", "academy", "langchain", "langchain_openai", "fastmcp", "mcp", "chia.base")


def test_public_api():
    assert set(chia.dashboard.__all__) >= {"serve_in_foreground", "DashboardServer", "RunStore"}


def test_serving_imports_nothing_heavy():
    code = (
        "import sys, chia.dashboard, chia.cli.dashboard, chia.cli.main\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} "
        f"or m.startswith('chia.base')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
