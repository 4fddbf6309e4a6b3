"""The package's import graph: no module depends on itself through others, and the generated code depends only on
the small runtime it is built on.

The graph is read from the source (every import statement: at module level, under ``TYPE_CHECKING`` and inside
functions), since a cycle through type-only or deferred imports tangles the code as much as one Python would
refuse to load.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import aiopinterest

PACKAGE = Path(aiopinterest.__file__).parent
# What the generated code is built on; everything else hand-written builds on the generated code.
GENERATED_MAY_IMPORT = {
    "aiopinterest._model",
    "aiopinterest._operation",
    "aiopinterest._options",
    "aiopinterest._requester",
    "aiopinterest._resource",
    "aiopinterest.pagination",
}


def _modules(package: Path) -> dict[str, Path]:
    modules = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _imports(module: str, path: Path, modules: dict[str, Path]) -> Iterator[str]:
    """The package's modules that ``module`` imports anywhere in its source."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                # ``from . import operations`` imports a module; ``from .errors import APIError`` a name of one.
                submodule = f"{base}.{alias.name}"
                target = submodule if submodule in modules else base
                if target in modules and target != module:
                    yield target


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Each module of ``package`` and the modules of it that it imports."""
    modules = _modules(package)
    return {module: set(_imports(module, path, modules)) for module, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as the path around it (``[a, b, a]``), or None; a depth-first search."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(module: str) -> list[str] | None:
        path.append(module)
        on_path.add(module)
        for target in sorted(graph[module]):
            if target in on_path:
                return [*path[path.index(target) :], target]
            if target not in done:
                cycle = visit(target)
                if cycle:
                    return cycle
        on_path.discard(path.pop())
        done.add(module)
        return None

    for module in sorted(graph):
        if module not in done:
            cycle = visit(module)
            if cycle:
                return cycle
    return None


def test_the_package_has_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_generated_code_imports_only_itself_and_its_runtime_bases() -> None:
    graph = import_graph()
    reached = {
        (module, target)
        for module, targets in graph.items()
        if module.startswith("aiopinterest._generated")
        for target in targets
        if not target.startswith("aiopinterest._generated") and target not in GENERATED_MAY_IMPORT
    }
    assert not reached


def test_a_cycle_closed_by_a_type_only_or_deferred_import_is_found(tmp_path: Path) -> None:
    """The loop the client once had: client -> generated namespaces -> resource -> (for its annotations) client."""
    package = tmp_path / "pkg"
    (package / "generated").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "generated" / "__init__.py").write_text("")
    (package / "client.py").write_text("from .generated.namespaces import Namespaces\n")
    (package / "generated" / "namespaces.py").write_text(
        "def pins():\n    from . import pins\n\n    return pins\n"
    )
    pins = package / "generated" / "pins.py"
    pins.write_text(
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from ..client import Client\n"
    )
    assert find_cycle(import_graph(package)) == [
        "pkg.client",
        "pkg.generated.namespaces",
        "pkg.generated.pins",
        "pkg.client",
    ]
    pins.write_text("from ..protocol import Requester\n")
    assert find_cycle(import_graph(package)) is None
