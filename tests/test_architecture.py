"""The package's shape, checked: no import cycle, and parsers never reach up the pipeline."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import REPO

PACKAGE = REPO / "scanner"


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(REPO).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module-level imports of scanner modules (imports inside functions are lazy on purpose)."""
    graph = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module in modules:
                targets.add(node.module)
                targets.update(
                    f"{node.module}.{alias.name}"
                    for alias in node.names
                    if f"{node.module}.{alias.name}" in modules
                )
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names if alias.name in modules)
        graph[name] = targets - {name}
    return graph


def test_no_import_cycles() -> None:
    graph = _imports(_modules())
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        trail.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append([*trail[trail.index(target):], target])
            elif target not in state:
                visit(target, trail)
        trail.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    assert cycles == []


def test_parsers_do_not_import_the_pipeline() -> None:
    graph = _imports(_modules())
    upward = ("scanner.detectors", "scanner.engines", "scanner.source", "scanner.pipeline",
              "scanner.reports", "scanner.cli", "scanner.catalog", "scanner.config")
    offenders = {
        module: sorted(t for t in targets if t.startswith(upward))
        for module, targets in graph.items()
        if module.startswith("scanner.formats")
    }
    assert {m: t for m, t in offenders.items() if t} == {}
