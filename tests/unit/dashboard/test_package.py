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


def test_the_ui_names_the_site_writer_as_the_event_model_does():
    import re

    from chia.assets import path as asset_path
    from chia.events import SITE_WRITER

    js = (asset_path("dashboard") / "js" / "topology.js").read_text()
    assert re.findall(r'export const SITE_WRITER = "([^"]+)";', js) == [SITE_WRITER]
    ui = "".join(p.read_text() for p in (asset_path("dashboard") / "js").glob("*.js"))
    assert f'"{SITE_WRITER}"' not in ui.replace(f'SITE_WRITER = "{SITE_WRITER}"', "")
