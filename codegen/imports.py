"""Import statements as data: every type and call the generated code uses carries the :class:`Import` it needs,
and an emitter renders the union of them into a block, in the order ruff's isort rules give."""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Import:
    """``import module`` (name empty) or ``from module import name [as alias]``.

    Module ``models`` stands for the generated models, wherever the importing module is (see :func:`relocate`).
    """

    module: str
    name: str = ""
    alias: str = ""

    @property
    def clause(self) -> str:
        return f"{self.name} as {self.alias}" if self.alias else self.name


@dataclass(frozen=True)
class Code:
    """A fragment of generated source (a default value, a return type) with the imports its text needs."""

    text: str
    imports: frozenset[Import] = frozenset()


def relocate(imports: Iterable[Import], module: str, to: str) -> set[Import]:
    """The imports with ``module`` spelt ``to``: ``models`` as ``..models`` from a resource module."""
    return {Import(to, i.name, i.alias) if i.module == module else i for i in imports}


def lines(imports: Iterable[Import], *, exploded: Collection[str] = (), indent: str = "") -> list[str]:
    """The import statements: standard library, third party and local sections apart, plain imports before
    from-imports, relative ones furthest first, the names of each in isort's order (constants, classes, the rest).

    A module in ``exploded`` gets one name per line, so that a diff of the generated code shows one name a line.
    """
    plain: dict[int, set[str]] = defaultdict(set)
    named: dict[str, set[Import]] = defaultdict(set)
    for item in imports:
        if item.name:
            named[item.module].add(item)
        else:
            plain[_section(item.module)].add(item.module)
    sections = {section: [f"import {m}" for m in sorted(modules)] for section, modules in plain.items()}
    for module in sorted(named, key=_module_key):
        statement = _from_statement(module, named[module], exploded=module in exploded)
        sections.setdefault(_section(module), []).extend(statement)
    block: list[str] = []
    for section in sorted(sections):
        block += ([""] if block else []) + sections[section]
    return [f"{indent}{line}" if line else "" for line in block]


def _from_statement(module: str, names: set[Import], *, exploded: bool) -> list[str]:
    clauses = [i.clause for i in sorted(names, key=_name_key)]
    if exploded:
        return [f"from {module} import (", *(f"    {c}," for c in clauses), ")"]
    return [f"from {module} import {', '.join(clauses)}"]


def _section(module: str) -> int:
    if module.startswith("."):
        return 2
    return 0 if module.split(".")[0] in sys.stdlib_module_names else 1


def _module_key(module: str) -> tuple[int, str]:
    """Relative imports furthest first (``...x`` before ``..``), then by name."""
    rest = module.lstrip(".")
    return -(len(module) - len(rest)), rest


def _name_key(item: Import) -> tuple[int, str]:
    name = item.name
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return kind, name
