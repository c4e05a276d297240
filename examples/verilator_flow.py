"""An LLM node designs hardware with a Verilator tool, over MCP, on Ray.

    python examples/verilator_flow.py                  # offline: a scripted model
    python examples/verilator_flow.py --base-url http://127.0.0.1:8000/v1 --model my-model

The flow: a ``VerilatorTool`` (a ChiaTool) serves ``verilator_run_test`` from a Ray actor;
each call runs ``run_verilator_test`` as a Ray task on a worker with the ``verilator``
resource. The LLM node, itself a ``@ChiaFunction`` task, prompts a model with that tool;
the model calls it through MCP. Offline, the model is chia's fake OpenAI-compatible
server replaying a script: it first submits a buggy counter (the test fails), then the
fixed one (it passes), then answers. The flow exits 0 when the final design passes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import ray

from chia.base.ChiaFunction import ChiaFunction, get
from chia.base.llm_call import QueryResult
from chia.base.tools.VerilatorTool import VerilatorTool
from chia.llm import make_llm
from chia.testing.openai_server import openai_server

TASK = "Write a 4-bit counter with synchronous reset (module counter) that passes tb."
COUNTER = """
module counter(input logic clk, input logic rst, output logic [3:0] count);
  always_ff @(posedge clk) begin
    if (rst) count <= 4'd{reset};
    else count <= count + 4'd1;
  end
endmodule
"""
TESTBENCH = """
module tb;
  logic clk = 0, rst = 1;
  logic [3:0] count;
  counter dut(.clk(clk), .rst(rst), .count(count));
  always #5 clk = ~clk;
  initial begin
    #12 rst = 0;
    #100;
    if (count == 4'd10) $display("PASS count=%0d", count);
    else $display("FAIL count=%0d, expected 10", count);
    $finish;
  end
endmodule
"""


def scripted_designer() -> list[dict[str, Any]]:
    """The offline model: a buggy attempt, a fix, then the answer."""

    def attempt(reset: int) -> dict[str, Any]:
        design = COUNTER.replace("{reset}", str(reset))
        args = {"design": design, "testbench": TESTBENCH}
        return {"tool_calls": [{"name": "verilator_run_test", "arguments": args}]}

    return [attempt(1), attempt(0), {"content": "The counter passes its testbench."}]


@ChiaFunction(num_cpus=0)
def designer_node(base_url: str, model: str, tools: list[Any]) -> QueryResult:
    """The LLM node: prompt the model with the tools; it calls them over MCP."""
    llm = make_llm("vllm", model, base_url=base_url, system_message="You design hardware.")
    return llm.prompt(TASK, tools=tools)


def tool_results(transcript: str) -> list[dict[str, Any]]:
    """The Verilator results the model received, in order."""
    lines = [json.loads(line) for line in transcript.splitlines()]
    outputs = [json.loads(m["content"]) for m in lines if m["role"] == "tool"]
    return [json.loads(o["output"]) for o in outputs if o.get("ok")]


def run(base_url: str, model: str) -> int:
    with VerilatorTool("verilator") as tool:
        print(f"tool server: {tool.url} (node {tool.node_id[:8]})", flush=True)
        result = get(designer_node.chia_remote(base_url, model, [tool]))
    for number, outcome in enumerate(tool_results(result.stream_result), 1):
        verdict = "PASS" if outcome["passed"] else "FAIL"
        print(f"attempt {number}: built={outcome['built']} {verdict}", flush=True)
    print(f"model: {result.result or result.stderr}", flush=True)
    outcomes = tool_results(result.stream_result)
    return 0 if result.success and outcomes and outcomes[-1]["passed"] else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", help="an OpenAI-compatible endpoint (default: scripted)")
    parser.add_argument("--model", default="scripted-designer")
    parser.add_argument("--ray-address", help="join this Ray cluster (default: start one)")
    args = parser.parse_args(argv)
    os.environ.setdefault("CHIA_TOOL_HOST", "127.0.0.1")
    if args.ray_address:
        ray.init(address=args.ray_address, log_to_driver=False)
    else:
        # address="local": a private instance, even where `ray start` runs a cluster.
        ray.init(address="local", num_cpus=2, resources={"verilator": 1}, log_to_driver=False)
    try:
        if args.base_url:
            return run(args.base_url, args.model)
        with openai_server(scripted_designer()) as server:
            return run(server.url, args.model)
    finally:
        ray.shutdown()


if __name__ == "__main__":
    sys.exit(main())
