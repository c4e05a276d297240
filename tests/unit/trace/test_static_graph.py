from __future__ import annotations

from pathlib import Path

import pytest

from chia.errors import ChiaUsageError
from chia.trace.static_graph import flow_dot, parse_flow

FLOW = """
import ray
from chia.base.ChiaFunction import ChiaFunction, ChiaCallRemote, get

@ChiaFunction(resources={"fpga": 1})
def build(x):
    return x

@ChiaFunction()
def simulate(image):
    return image

@ChiaFunction(num_cpus=2)
def report(result):
    return result

helper = ChiaFunction(num_cpus=1)(len)

class Tool:
    @ChiaFunction()
    def method(self, x):
        return x

def stage(x):
    image = build.chia_remote(x)
    result = simulate.options(num_cpus=1).chia_remote(image)
    return ChiaCallRemote(report, result)

def main():
    tool = Tool()
    refs = [stage(i) for i in range(3)]
    get(tool.method.chia_remote(tool, 1))
    build(1)
    return refs

def unrelated():
    return 1

if __name__ == "__main__":
    main()
"""


@pytest.fixture
def flow(tmp_path: Path) -> Path:
    path = tmp_path / "flow.py"
    path.write_text(FLOW)
    return path


def test_parse_finds_functions_and_edges(flow: Path) -> None:
    graph = parse_flow(flow)
    assert set(graph.chia_functions) == {"build", "simulate", "report", "helper", "method"}
    assert graph.chia_functions["build"] == "resources={'fpga': 1}"
    assert graph.scopes == {"stage", "main", "<module>"}
    assert {
        ("stage", "build", "remote"),
        ("stage", "simulate", "remote"),
        ("stage", "report", "remote"),
        ("build", "simulate", "data"),
        ("simulate", "report", "data"),
        ("main", "method", "remote"),
        ("main", "build", "local"),
        ("main", "stage", "calls"),
        ("<module>", "main", "calls"),
    } == graph.edges


def test_restrict_to_a_function(flow: Path) -> None:
    sub = parse_flow(flow).restricted_to("stage")
    assert set(sub.chia_functions) == {"build", "simulate", "report"}
    assert all(src != "main" for src, _dst, _kind in sub.edges)
    with pytest.raises(ChiaUsageError, match="no function 'nope'"):
        parse_flow(flow).restricted_to("nope")


def test_dot_output(flow: Path) -> None:
    dot = flow_dot(parse_flow(flow), title="flow.py")
    assert '"stage" -> "build" [style=solid, label="remote"];' in dot
    assert '"build" -> "simulate" [style=bold, label="data"];' in dot
    assert '"main" -> "build" [style=dashed, label="local"];' in dot
    assert "label=\"build\\nresources={'fpga': 1}\"" in dot
    assert "unrelated" not in dot


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ChiaUsageError, match="not found"):
        parse_flow(tmp_path / "missing.py")
    bad = tmp_path / "bad.py"
    bad.write_text("def broken(:\n")
    with pytest.raises(ChiaUsageError, match=r"bad\.py:1: not valid Python"):
        parse_flow(bad)
