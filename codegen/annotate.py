"""Schema -> Python annotation, in the two flavours the generated code needs.

*Lenient* annotations type struct fields: they must decode anything the API may send, so enums accept unknown
strings and every field accepts null. They must also be unions msgspec can decode: at most one struct or dict,
one array type, and any number of str/int/float/bool/Literal members.

*Strict* annotations type method parameters: exactly what the spec allows, so that mypy and an editor catch a
wrong value before the runtime check does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .schema import Table


@dataclass(frozen=True)
class Atom:
    """One member of a union: its source text and its kind (struct, dict, list, str, literal, int, ...)."""

    text: str
    kind: str


ANY = Atom("Any", "any")


def literal(values: Iterable[Any]) -> str:
    return "Literal[" + ", ".join(repr(v) for v in values) + "]"


class Annotator:
    def __init__(self, table: Table, python_names: dict[str, str], structs: set[str]) -> None:
        self.table = table
        self.names = python_names
        self.structs = structs

    def is_enum(self, node: dict[str, Any]) -> bool:
        return bool([v for v in node.get("enum", []) if v is not None])

    # -- lenient ------------------------------------------------------------------------------------------
    def lenient(self, node: dict[str, Any]) -> list[Atom]:
        if "$ref" in node:
            name = node["$ref"]
            target = self.table.nodes[name]
            if name in self.structs:
                return [Atom(self.names[name], "struct")]
            atoms = self.lenient(target)
            if self.is_enum(target):
                return [Atom(self.names[name], "literal"), *atoms[1:]]
            if len(atoms) == 1:
                return [Atom(self.names[name], atoms[0].kind)]
            return atoms
        enum = [v for v in node.get("enum", []) if v is not None]
        kind = node.get("type")
        if enum:
            base = {"integer": "int", "number": "float", "boolean": "bool"}.get(kind or "", "str")
            return [Atom(literal(enum), "literal"), Atom(base, base)]
        members = node.get("oneOf") or node.get("anyOf")
        if members:
            return combine(a for m in members for a in self.lenient(m))
        if kind == "array" or "items" in node:
            return [Atom(f"list[{self.field_text(node.get('items', {}), optional=False)}]", "list")]
        if kind == "object" or "additionalProperties" in node:
            extra = node.get("additionalProperties")
            value = self.field_text(extra, optional=False) if isinstance(extra, dict) else "Any"
            return [Atom(f"dict[str, {value}]", "dict")]
        scalar = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}.get(kind or "")
        return [Atom(scalar, scalar)] if scalar else [ANY]

    def field_text(self, node: dict[str, Any], *, optional: bool = True) -> str:
        atoms = self.lenient(node)
        if atoms == [ANY]:
            return "Any"
        if optional or node.get("nullable") or self.table.deref(node).get("nullable"):
            atoms = [*atoms, Atom("None", "none")]
        return " | ".join(a.text for a in atoms)

    # -- strict -------------------------------------------------------------------------------------------
    def strict(self, node: dict[str, Any]) -> str:
        text = self._strict(node)
        if node.get("nullable") and text != "Any":
            text += " | None"
        return text

    def _strict(self, node: dict[str, Any]) -> str:
        if "$ref" in node:
            name = node["$ref"]
            target = self.table.nodes[name]
            if name in self.structs:
                variants = [
                    self.names[m["$ref"]]
                    for m in target.get("oneOf") or target.get("anyOf") or []
                    if "$ref" in m and m["$ref"] in self.structs
                ]
                return " | ".join([*variants, self.names[name], "Mapping[str, Any]"])
            if self.is_enum(target):
                return self.names[name]
            return self._strict(target)
        enum = [v for v in node.get("enum", []) if v is not None]
        if enum:
            return literal(enum)
        members = node.get("oneOf") or node.get("anyOf")
        if members:
            return " | ".join(dict.fromkeys(self._strict(m) for m in members))
        kind = node.get("type")
        if kind == "array" or "items" in node:
            return f"Sequence[{self.strict(node.get('items', {}))}]"
        if kind == "object" or "additionalProperties" in node:
            return "Mapping[str, Any]"
        if kind == "string":
            fmt = node.get("format")
            if fmt == "date":
                return "datetime.date | str"
            if fmt == "date-time":
                return "datetime.datetime | str"
            return "str"
        return {"integer": "int", "number": "float", "boolean": "bool"}.get(kind or "", "Any")


def combine(atoms: Iterable[Atom]) -> list[Atom]:
    """A union msgspec can decode, widening only where it must (several structs or arrays)."""
    unique = list(dict.fromkeys(atoms))
    if any(a.kind == "any" for a in unique):
        return [ANY]
    structs = [a for a in unique if a.kind == "struct"]
    lists = [a for a in unique if a.kind == "list"]
    dicts = [a for a in unique if a.kind == "dict"]
    result = [a for a in unique if a.kind not in ("struct", "list", "dict")]
    if len(structs) > 1:
        return [ANY]
    if structs:
        result.append(structs[0])
    elif dicts:
        result.append(dicts[0] if len(dicts) == 1 else Atom("dict[str, Any]", "dict"))
    if lists:
        result.append(lists[0] if len(lists) == 1 else Atom("list[Any]", "list"))
    return result
