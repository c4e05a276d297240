from __future__ import annotations

import shutil

import pytest

from chia.base.tools.mcp_client import ToolClient, call_tool, run_blocking
from chia.base.tools.VerilatorTool import VerilatorTool, run_verilator_test

pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(shutil.which("verilator") is None, reason="verilator not installed"),
]

DESIGN = """
module inverter(input logic a, output logic y);
  assign y = ~a;
endmodule
"""
TESTBENCH = """
module tb;
  logic a, y;
  inverter dut(.a(a), .y(y));
  initial begin
    a = 0; #1;
    if (y !== 1) $display("FAIL y=%b", y); else $display("PASS a=0");
    a = 1; #1;
    if (y !== 0) $display("FAIL y=%b", y); else $display("PASS a=1");
    $finish;
  end
endmodule
"""


def test_a_design_that_does_not_compile_reports_the_build_log() -> None:
    out = run_verilator_test(DESIGN.replace("assign", "asign"), TESTBENCH)
    assert out["built"] is False and out["passed"] is False
    assert "design.sv" in out["build_log"]


def test_a_bad_top_module_name_is_refused() -> None:
    out = run_verilator_test(DESIGN, TESTBENCH, top="tb; rm -rf /")
    assert out == {
        "built": False,
        "passed": False,
        "build_log": "bad top module name 'tb; rm -rf /'",
    }


@pytest.mark.slow
@pytest.mark.usefixtures("ray_local")
def test_the_tool_builds_and_runs_a_testbench_on_a_worker() -> None:
    with VerilatorTool("verilator", task_resources={}) as tool:

        async def describe() -> str:
            async with ToolClient([tool]) as client:
                return client.tools[0].description

        assert run_blocking(describe()).startswith("Build a Verilog/SystemVerilog design")
        out = call_tool(tool, "verilator_run_test", {"design": DESIGN, "testbench": TESTBENCH})
    assert out["built"] is True, out["build_log"]
    assert out["passed"] is True
    assert "PASS a=0" in out["sim_output"] and "PASS a=1" in out["sim_output"]
