"""The package's modules import one another without a circle.

Imports are read from the source with ``ast``, those under ``TYPE_CHECKING``
and inside functions included: a circle that only type checkers or a lazy
import follow is still a circle between the modules' concerns. Importing a
submodule (``from nalu_sr.units import functional``) is an edge to that
submodule; the packages above it are not counted.
"""

import ast
from pathlib import Path

import nalu_sr

PACKAGE = Path(nalu_sr.__file__).parent


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _imported(tree: ast.AST, modules: dict[str, Path]) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else node.module)
    return found & set(modules)


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        name: _imported(ast.parse(path.read_text()), modules) - {name}
        for name, path in modules.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one import circle as a path of module names, or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "open"
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[module] = "done"
        path.pop()
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def test_find_cycle_reports_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_type_checking_and_submodule_imports():
    graph = import_graph()
    assert "nalu_sr.plotting" in graph["nalu_sr._formula_methods"]
    assert "nalu_sr.units.functional" in graph["nalu_sr.units.nac"]
    assert "nalu_sr.units" not in graph["nalu_sr.units.nac"]


def test_no_import_circle_in_the_package():
    assert find_cycle(import_graph()) is None


def test_nothing_below_the_root_imports_the_root():
    importers = sorted(
        m for m, targets in import_graph().items() if "nalu_sr" in targets
    )
    assert importers == []
