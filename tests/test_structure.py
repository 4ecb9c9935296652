"""The module structure the stages rely on: no import cycle, and the layers' directions.

Every import of every module under ``proxy/`` counts, at module level or inside a function:
a lazy import that closes a circle is still a circle in the design.
"""

from __future__ import annotations

import ast
from pathlib import Path

PROXY = Path(__file__).resolve().parent.parent / "proxy"


def module_name(path: Path) -> str:
    parts = path.relative_to(PROXY.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PROXY.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                # "from proxy.detection import engine" imports the submodule engine.
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                           for a in node.names]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target.startswith("proxy") and target != name and target != "proxy":
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_the_imports() -> None:
    graph = import_graph()
    assert "proxy.values" in graph["proxy.pipeline"]
    assert "proxy.detection.recognizers.base" in graph["proxy.detection.registry"]
    assert "proxy.tools.explain" in graph["proxy.cli"]  # a function-level import
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_there_is_no_import_cycle_in_proxy() -> None:
    assert cycles(import_graph()) == []


def test_the_value_objects_import_nothing_of_sekisho() -> None:
    assert import_graph()["proxy.values"] == set()


def test_layers_point_one_way() -> None:
    graph = import_graph()
    for module, imports in graph.items():
        if module.startswith("proxy.detection"):
            assert not any(i.startswith(("proxy.policy", "proxy.tools", "proxy.pipeline"))
                           for i in imports), module
        if module.startswith("proxy.policy"):
            assert not any(i.startswith(("proxy.detection", "proxy.tools", "proxy.transform"))
                           for i in imports), module
        if not module.startswith(("proxy.tools", "proxy.cli", "proxy.app")):
            assert not any(i.startswith("proxy.tools") for i in imports), module


def test_sekisho_recognizers_do_not_build_on_presidio() -> None:
    for path in (PROXY / "detection" / "recognizers").glob("*.py"):
        assert "presidio" not in path.read_text(encoding="utf-8"), path.name
