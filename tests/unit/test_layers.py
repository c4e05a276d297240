"""The import graph obeys docs/architecture.md: layers only look down, and no cycles.

Every ``import`` of a chia module counts, at module level or inside a function (a deferred
import is still a dependency); only imports under ``if TYPE_CHECKING:`` are left out.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
DOC = ROOT / "docs" / "architecture.md"


def _modules() -> dict[str, Path]:
    found = {}
    for path in (SRC / "chia").rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            names.extend(_imports(ast.Module(body=node.orelse, type_ignores=[])))
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        names.extend(_imports(node))
    return [name for name in names if name == "chia" or name.startswith("chia.")]


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for target in _imports(ast.parse(path.read_text(), str(path))):
            if target in modules and target != name:
                graph[name].add(target)
    return graph


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "chia"


def _layers() -> tuple[dict[str, int], set[frozenset[str]]]:
    text = DOC.read_text()
    block = re.search(r"<!-- layers:.*?-->\s*```text\n(.*?)```", text, re.DOTALL)
    assert block, f"{DOC} has no layers block"
    rank: dict[str, int] = {}
    mutual: set[frozenset[str]] = set()
    lines = [line.strip() for line in block.group(1).splitlines() if line.strip()]
    for height, line in enumerate(reversed(lines)):
        for group in re.findall(r"\{([^}]*)\}", line):
            mutual.add(frozenset(group.split()))
        for package in re.sub(r"[{}]", " ", line).split():
            assert package not in rank, f"{package} is on two lines of the layers block"
            rank[package] = height
    return rank, mutual


def test_every_package_has_a_layer():
    rank, _ = _layers()
    packages = {_package(module) for module in _modules()}
    assert sorted(packages - set(rank)) == []
    assert sorted(set(rank) - packages) == []


def test_no_import_looks_up_the_layers():
    rank, mutual = _layers()
    wrong = []
    for module, targets in _graph().items():
        source = _package(module)
        for target in targets:
            to = _package(target)
            if to == source or frozenset((source, to)) in mutual:
                continue
            if rank[to] > rank[source] or (rank[to] == rank[source]):
                wrong.append(f"{module} -> {target}")
    assert sorted(wrong) == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_import_cycle():
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
