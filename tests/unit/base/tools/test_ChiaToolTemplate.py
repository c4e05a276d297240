from __future__ import annotations

import os

import pytest

from chia.base.tools.ChiaToolTemplate import ChiaToolTemplate
from chia.base.tools.mcp_client import call_tool

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("ray_local")]


def test_template_serves_its_example_tool() -> None:
    with ChiaToolTemplate("template", greeting="howdy") as tool:
        out = call_tool(tool, "template_describe", {"who": "tester"})
    assert out["message"] == "howdy, tester"
    assert out["pid"] != os.getpid()
