"""A hardware-design node: build and run a Verilog testbench with Verilator, as a tool.

:func:`run_verilator_test` is a ``@ChiaFunction`` needing the ``verilator`` resource, so
it runs only on workers that advertise it (machines with Verilator installed). It writes
the design and testbench into a scratch directory, builds them with
``verilator --binary``, runs the simulation, and reports both steps. Each step runs in its
own process group with a timeout. :class:`VerilatorTool` exposes it to agents over MCP
(``<name>_run_test``) through ``chia_remote_blocking``: the tool server can live anywhere
while each test runs on a Verilator worker.

A testbench passes when the simulation exits 0 and prints no line containing ``FAIL``
(print ``PASS``/``FAIL`` lines, or end with ``$fatal`` on failure).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from chia.base.ChiaFunction import ChiaFunction
from chia.base.tools._shell import run_shell
from chia.base.tools.ChiaTool import ChiaTool

__all__ = ["VERILATOR_RESOURCE", "VerilatorTool", "run_verilator_test"]

#: The Ray resource a worker advertises when it can run Verilator.
VERILATOR_RESOURCE = "verilator"
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
# Unoptimised C++: a tiny testbench builds several times faster and runs just as well.
_BUILD_FLAGS = "-j 0 -Wno-fatal -MAKEFLAGS 'OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0'"


@ChiaFunction(resources={VERILATOR_RESOURCE: 1})
def run_verilator_test(
    design: str, testbench: str, top: str = "tb", timeout_seconds: int = 300
) -> dict[str, Any]:
    """Build a Verilog/SystemVerilog design and testbench with Verilator and simulate it.

    design is the source of the module(s) under test, testbench the source of the top
    testbench module named top. The testbench should print PASS or FAIL lines and call
    $finish. Returns built (did it compile), passed (simulation exited 0 and printed no
    FAIL line), build_log (compiler messages when the build failed) and sim_output.
    """
    if not _MODULE.match(top):
        return {"built": False, "passed": False, "build_log": f"bad top module name {top!r}"}
    if shutil.which("verilator") is None:
        return {"built": False, "passed": False, "build_log": "verilator is not installed"}
    with tempfile.TemporaryDirectory(prefix="chia-verilator-") as scratch:
        work = Path(scratch)
        (work / "design.sv").write_text(design)
        (work / "tb.sv").write_text(testbench)
        build = run_shell(
            f"verilator --binary {_BUILD_FLAGS} --top-module {top} design.sv tb.sv -o Vsim",
            cwd=scratch,
            timeout=timeout_seconds,
        )
        if build.exit_code != 0:
            log = ("timed out\n" if build.timed_out else "") + build.output
            return {"built": False, "passed": False, "build_log": log, "sim_output": ""}
        sim = run_shell("./obj_dir/Vsim", cwd=scratch, timeout=timeout_seconds)
    failed = any("FAIL" in line for line in sim.output.splitlines())
    return {
        "built": True,
        "passed": sim.exit_code == 0 and not failed and not sim.timed_out,
        "exit_code": sim.exit_code,
        "build_log": "",
        "sim_output": sim.output,
    }


class VerilatorTool(ChiaTool):
    """MCP tool ``<name>_run_test``: each call runs :func:`run_verilator_test` on Ray.

    Args:
        name: The tool's name.
        task_resources: Ray resources each test needs, overriding ``{"verilator": 1}``
            (e.g. ``{}`` on a single machine that does not advertise the resource).
        task_options: Ray options placing the tool server (see ``ChiaTool``).
    """

    def setup(self, task_resources: dict[str, float] | None = None) -> None:
        """Register the remote test runner as ``<name>_run_test``."""
        runner = run_verilator_test
        if task_resources is not None:
            runner = runner.options(resources=task_resources)
        self.mcp.add_tool(runner.chia_remote_blocking, name=f"{self.name}_run_test")
