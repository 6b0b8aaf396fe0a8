"""Imports point down only (DESIGN.md, "Layers"): no import circle inside workbench/, and the lower
layers never import the upper ones. Read statically from the source — nothing is imported."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "workbench"
METHODS = ("needs", "glass", "merging")


def import_graph() -> dict[str, set[str]]:
    """module -> the workbench modules it imports (at any depth of the file, lazy imports too)."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and not modules[target].name == "__init__.py":
                    graph[name].add(target)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_circle_inside_workbench():
    assert circles(import_graph()) == []


def test_the_checker_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_lower_layers_import_no_upper_layer():
    graph = import_graph()
    upper = {"workbench.methods", "workbench.report", "workbench.cli"}
    for module in ("workbench.store", "workbench.atomic", "workbench.config", "workbench.runtime",
                   "workbench.progress", "workbench.metrics", "workbench.errors", "workbench.claims", "workbench.runner",
                   "workbench.cache"):
        bad = {t for t in graph[module] if t in upper or t.startswith(("workbench.lm", *[f"workbench.{m}" for m in METHODS]))}
        assert not bad, f"{module} imports {bad}"
    for module, targets in graph.items():
        if module.startswith("workbench.datasets"):
            assert not {t for t in targets if t.split(".")[1] in METHODS}, f"{module} imports a method"
        for method in METHODS:
            if module.startswith(f"workbench.{method}"):
                others = {t for t in targets if t.split(".")[1] in set(METHODS) - {method}}
                assert not others, f"{module} imports another method: {others}"
