from __future__ import annotations

import shutil

import pytest

from chia.errors import ChiaUsageError
from chia.trace.graph import dot_available, profile_dot, render_svg
from chia.trace.records import TaskRecord

RECORDS = [
    TaskRecord("parent", 0, 2, task_id="p"),
    TaskRecord("leaf", 0.5, 1, caller="parent", caller_task="p", task_id="l1"),
    TaskRecord("leaf", 1, 1.5, caller="parent", caller_task="p", bypassed=True, task_id="l2"),
    TaskRecord("store", 1.5, 1.6, cached=True, task_id="s"),
    TaskRecord("bad", 1.6, 1.7, ok=False, error="ValueError", task_id="b"),
]


def test_profile_dot_nodes_edges_and_styles() -> None:
    dot = profile_dot(RECORDS, title='run "0"')
    assert dot.startswith('digraph "run \\"0\\"" {')
    assert '"driver" [shape=ellipse];' in dot
    assert '"driver" -> "parent" [label="x1"];' in dot
    assert '"parent" -> "leaf" [label="x2"];' in dot
    assert 'label="leaf\\n2 call(s), 1.000 s"' in dot
    assert 'style="rounded,dashed"' in dot  # bypassed
    assert "peripheries=2" in dot  # cached
    assert "color=red" in dot  # failed


def test_svg_when_dot_is_installed() -> None:
    source = profile_dot(RECORDS)
    if shutil.which("dot") is None:
        assert not dot_available()
        with pytest.raises(ChiaUsageError, match="not installed"):
            render_svg(source)
        return
    svg = render_svg(source)
    assert "<svg" in svg and "parent" in svg
    with pytest.raises(ChiaUsageError, match="dot failed"):
        render_svg("digraph {")
