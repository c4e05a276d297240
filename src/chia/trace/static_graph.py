"""The static graph of a flow file: which code dispatches which ``@ChiaFunction``.

The file is parsed, never run. Nodes are the file's ``@ChiaFunction`` functions (boxes,
labelled with their decorator options) and the plain functions that call them
(ellipses; ``<module>`` for top-level code). Edges:

* ``remote``: ``f.chia_remote(...)``, ``f.chia_remote_blocking(...)``,
  ``f.options(...).chia_remote(...)``, ``obj.method.chia_remote(...)`` or
  ``ChiaCallRemote(f, ...)``;
* ``local``: a direct call ``f(...)`` (runs in the caller's process; dashed);
* ``data``: the ref a dispatch returned is passed to another dispatch (bold);
* ``calls``: a plain function calls another plain function that leads to dispatches
  (dotted).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from chia.errors import ChiaUsageError

__all__ = ["FlowGraph", "flow_dot", "parse_flow"]

_DISPATCH = {"chia_remote", "chia_remote_blocking"}
_MODULE = "<module>"


@dataclass
class FlowGraph:
    """Nodes and edges found in a flow file."""

    chia_functions: dict[str, str] = field(default_factory=dict)
    scopes: set[str] = field(default_factory=set)
    edges: set[tuple[str, str, str]] = field(default_factory=set)

    def restricted_to(self, root: str) -> FlowGraph:
        """The part of the graph reachable from ``root``."""
        if root not in self.scopes and root not in self.chia_functions:
            raise ChiaUsageError(f"no function {root!r} in the flow file")
        out: defaultdict[str, set[tuple[str, str, str]]] = defaultdict(set)
        for edge in self.edges:
            out[edge[0]].add(edge)
        seen, stack, kept = {root}, [root], set()
        while stack:
            for edge in out[stack.pop()]:
                kept.add(edge)
                if edge[1] not in seen:
                    seen.add(edge[1])
                    stack.append(edge[1])
        return FlowGraph(
            {k: v for k, v in self.chia_functions.items() if k in seen},
            {s for s in self.scopes if s in seen},
            kept,
        )


def _is_chia_decorator(node: ast.expr) -> str | None:
    target = node.func if isinstance(node, ast.Call) else node
    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
    if name != "ChiaFunction":
        return None
    if isinstance(node, ast.Call):
        return ", ".join(ast.unparse(k) for k in node.keywords)
    return ""


def _collect_chia(tree: ast.Module) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for deco in node.decorator_list:
                opts = _is_chia_decorator(deco)
                if opts is not None:
                    found[node.name] = opts
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            opts = _is_chia_decorator(node.value.func)
            if opts is not None:
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = opts
    return found


def _callee_name(expr: ast.expr) -> str | None:
    """``f`` for ``f``, ``obj.f``, ``f.options(...)``."""
    is_call = isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute)
    if is_call and expr.func.attr == "options":  # type: ignore[attr-defined]
        return _callee_name(expr.func.value)  # type: ignore[attr-defined]
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return None


class _ScopeVisitor(ast.NodeVisitor):
    def __init__(self, scope: str, chia: dict[str, str], graph: FlowGraph) -> None:
        self.scope, self.chia, self.graph = scope, chia, graph
        self.refs: dict[str, str] = {}
        self.plain_calls: set[str] = set()

    def _dispatched(self, call: ast.Call) -> str | None:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in _DISPATCH:
            name = _callee_name(func.value)
            return name if name in self.chia else None
        if isinstance(func, ast.Name) and func.id == "ChiaCallRemote" and call.args:
            name = _callee_name(call.args[0])
            return name if name in self.chia else None
        return None

    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        if isinstance(node.value, ast.Call):
            target_fn = self._dispatched(node.value)
            for target in node.targets:
                if isinstance(target, ast.Name) and target_fn is not None:
                    self.refs[target.id] = target_fn

    def visit_Call(self, node: ast.Call) -> None:
        target = self._dispatched(node)
        if target is not None:
            self.graph.edges.add((self.scope, target, "remote"))
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                if isinstance(arg, ast.Name) and arg.id in self.refs:
                    self.graph.edges.add((self.refs[arg.id], target, "data"))
        elif isinstance(node.func, ast.Name):
            if node.func.id in self.chia:
                self.graph.edges.add((self.scope, node.func.id, "local"))
            else:
                self.plain_calls.add(node.func.id)
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        return None  # nested scopes are visited on their own

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]


def parse_flow(path: str | Path) -> FlowGraph:
    """Parse a flow file into its static graph.

    Raises:
        ChiaUsageError: If the file is missing or is not valid Python.
    """
    file = Path(path)
    if not file.is_file():
        raise ChiaUsageError(f"flow file not found: {path}")
    try:
        tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
    except SyntaxError as exc:
        raise ChiaUsageError(f"{path}:{exc.lineno}: not valid Python: {exc.msg}") from exc
    chia = _collect_chia(tree)
    graph = FlowGraph(chia_functions=dict(chia))
    scopes: list[tuple[str, list[ast.stmt]]] = [(_MODULE, tree.body)]
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            scopes.append((node.name, node.body))
    plain: dict[str, set[str]] = {}
    for name, body in scopes:
        visitor = _ScopeVisitor(name, chia, graph)
        for stmt in body:
            visitor.visit(stmt)
        plain[name] = visitor.plain_calls
    _add_plain_edges(graph, plain, chia)
    return graph


def _add_plain_edges(graph: FlowGraph, plain: dict[str, set[str]], chia: dict[str, str]) -> None:
    """Keep plain functions (and calls between them) that lead to a dispatch."""
    dispatchers = {src for src, _dst, _kind in graph.edges if src not in chia}
    changed = True
    while changed:
        changed = False
        for caller, callees in plain.items():
            if caller not in dispatchers and callees & dispatchers:
                dispatchers.add(caller)
                changed = True
    for caller, callees in plain.items():
        for callee in callees & dispatchers:
            if caller in dispatchers and callee in plain:
                graph.edges.add((caller, callee, "calls"))
    graph.scopes = {d for d in dispatchers if d not in chia}


_STYLE = {"remote": "solid", "local": "dashed", "data": "bold", "calls": "dotted"}


def flow_dot(graph: FlowGraph, title: str = "chia flow") -> str:
    """Render the flow graph as a DOT digraph."""

    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    lines = [f"digraph {q(title)} {{", "  rankdir=LR;"]
    for scope in sorted(graph.scopes):
        lines.append(f"  {q(scope)} [shape=ellipse];")
    for fn, opts in sorted(graph.chia_functions.items()):
        label = f"{fn}\n{opts}" if opts else fn
        lines.append(f"  {q(fn)} [shape=box, style=rounded, label={q(label)}];")
    for src, dst, kind in sorted(graph.edges):
        lines.append(f"  {q(src)} -> {q(dst)} [style={_STYLE[kind]}, label={q(kind)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
