"""The recorded dependency graph as GraphViz DOT (and SVG through ``dot``)."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter, defaultdict

from chia.errors import ChiaUsageError
from chia.trace.records import TaskRecord

__all__ = ["dot_available", "profile_dot", "render_svg"]


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def profile_dot(records: list[TaskRecord], title: str = "chia profile") -> str:
    """Return a DOT digraph: one node per function, one edge per caller -> callee pair.

    Nodes show call count and total time; bypassed functions are dashed, cached ones
    doubled, failed ones red. Edge labels give the number of calls.
    """
    calls: Counter[str] = Counter()
    seconds: defaultdict[str, float] = defaultdict(float)
    flags: defaultdict[str, set[str]] = defaultdict(set)
    edges: Counter[tuple[str, str]] = Counter()
    for rec in records:
        calls[rec.function] += 1
        seconds[rec.function] += rec.duration
        if rec.bypassed:
            flags[rec.function].add("bypassed")
        if rec.cached:
            flags[rec.function].add("cached")
        if not rec.ok:
            flags[rec.function].add("failed")
        edges[(rec.caller, rec.function)] += 1
    lines = [f"digraph {_quote(title)} {{", "  rankdir=LR;", "  node [shape=box];"]
    callers = {caller for caller, _ in edges} - set(calls)
    for caller in sorted(callers):
        lines.append(f"  {_quote(caller)} [shape=ellipse];")
    for fn in sorted(calls):
        style = ["rounded"]
        if "bypassed" in flags[fn]:
            style.append("dashed")
        attrs = [
            "label=" + _quote(f"{fn}\n{calls[fn]} call(s), {seconds[fn]:.3f} s"),
            f"style={_quote(','.join(style))}",
        ]
        if "cached" in flags[fn]:
            attrs.append("peripheries=2")
        if "failed" in flags[fn]:
            attrs.append("color=red")
        lines.append(f"  {_quote(fn)} [{', '.join(attrs)}];")
    for (caller, callee), count in sorted(edges.items()):
        lines.append(f"  {_quote(caller)} -> {_quote(callee)} [label={_quote(f'x{count}')}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def dot_available() -> bool:
    """True when GraphViz's ``dot`` is on PATH."""
    return shutil.which("dot") is not None


def render_svg(dot_source: str) -> str:
    """Render DOT to SVG with GraphViz.

    Raises:
        ChiaUsageError: If ``dot`` is not installed or rejects the graph.
    """
    exe = shutil.which("dot")
    if exe is None:
        raise ChiaUsageError("GraphViz 'dot' is not installed; use --format dot instead of svg")
    done = subprocess.run(
        [exe, "-Tsvg"], input=dot_source, capture_output=True, text=True, timeout=60
    )
    if done.returncode != 0:
        raise ChiaUsageError(f"dot failed: {done.stderr.strip()}")
    return done.stdout
