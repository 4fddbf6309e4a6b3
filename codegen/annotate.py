"""Schema -> Python annotation, in the two flavours the generated code needs.

*Lenient* annotations type the fields of structs the client decodes: they must decode anything the API may send,
so enums accept unknown strings. They must also be unions msgspec can decode: at most one struct or dict, one
array type, one string-like type (a date is read as a plain string where a union also allows other strings), and
any number of int/float/bool/Literal members.

*Strict* annotations type method parameters and the fields of request-only structs: exactly what the spec allows,
so that mypy and an editor catch a wrong value before the runtime check does.

An annotation carries the imports its text needs as data (:class:`Import`), so that emitters import exactly what
they use.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .imports import Import
from .schema import Table

DATETIME = Import("datetime")
ANY_IMPORT = Import("typing", "Any")
LITERAL = Import("typing", "Literal")
MAPPING = Import("collections.abc", "Mapping")
SEQUENCE = Import("collections.abc", "Sequence")


@dataclass(frozen=True)
class Atom:
    """One member of a union: its source text, its kind (struct, dict, list, str, literal, int, datetime, ...),
    what it imports, and for a named model the schema it is."""

    text: str
    kind: str
    imports: frozenset[Import] = frozenset()
    schema: str = ""


ANY = Atom("Any", "any", frozenset({ANY_IMPORT}))
NONE = Atom("None", "none")
STRING_FORMATS = {"date": Atom("datetime.date", "date", frozenset({DATETIME}))}
STRING_FORMATS["date-time"] = Atom("datetime.datetime", "datetime", frozenset({DATETIME}))


@dataclass(frozen=True)
class Annotation:
    """A type expression: its members (``A | B | None``), each with the imports its text needs."""

    members: tuple[Atom, ...]

    @classmethod
    def union(cls, atoms: Iterable[Atom]) -> Annotation:
        """The union of ``atoms``, each once."""
        return cls(tuple(dict.fromkeys(atoms)))

    @property
    def text(self) -> str:
        return " | ".join(a.text for a in self.members)

    @property
    def imports(self) -> frozenset[Import]:
        return frozenset().union(*(a.imports for a in self.members))

    def extended(self, *atoms: Atom) -> Annotation:
        """This annotation with ``atoms`` appended as they are (``... | None``)."""
        return Annotation((*self.members, *atoms))

    def admits(self, *kinds: str) -> bool:
        """Whether a member is of one of ``kinds`` (``"dict"``: a struct's annotation that also takes a mapping)."""
        return any(a.kind in kinds for a in self.members)


def literal(values: Iterable[Any]) -> Atom:
    return Atom("Literal[" + ", ".join(repr(v) for v in values) + "]", "literal", frozenset({LITERAL}))


class Annotator:
    def __init__(self, table: Table, python_names: dict[str, str], structs: set[str]) -> None:
        self.table = table
        self.names = python_names
        self.structs = structs
        # Union structs a request may carry -> the alias that also admits each variant (set by the plan).
        self.inputs: dict[str, str] = {}

    def is_enum(self, node: dict[str, Any]) -> bool:
        return bool([v for v in node.get("enum", []) if v is not None])

    def nullable(self, node: dict[str, Any]) -> bool:
        return bool(node.get("nullable") or self.table.deref(node).get("nullable"))

    def model(self, name: str, kind: str) -> Atom:
        python = self.names[name]
        return Atom(python, kind, frozenset({Import("models", python)}), name)

    # -- lenient ------------------------------------------------------------------------------------------
    def lenient(self, node: dict[str, Any]) -> list[Atom]:
        if "$ref" in node:
            name = node["$ref"]
            target = self.table.nodes[name]
            if name in self.structs:
                return [self.model(name, "struct")]
            atoms = self.lenient(target)
            if self.is_enum(target):
                # The alias is the Literal alone; what the spec does not list yet decodes as the base type.
                return [self.model(name, "literal"), *atoms[1:]]
            if len(atoms) == 1:
                return [self.model(name, atoms[0].kind)]
            return atoms
        enum = [v for v in node.get("enum", []) if v is not None]
        kind = node.get("type")
        if enum:
            base = {"integer": "int", "number": "float", "boolean": "bool"}.get(kind or "", "str")
            return [literal(enum), Atom(base, base)]
        members = node.get("oneOf") or node.get("anyOf")
        if members:
            return combine(a for m in members for a in self.lenient(m))
        if kind == "array" or "items" in node:
            item = self.field(node.get("items", {}), optional=False)
            return [Atom(f"list[{item.text}]", "list", item.imports)]
        if kind == "object" or "additionalProperties" in node:
            extra = node.get("additionalProperties")
            value = self.field(extra, optional=False) if isinstance(extra, dict) else Annotation((ANY,))
            return [Atom(f"dict[str, {value.text}]", "dict", value.imports)]
        if kind == "string" and node.get("format") in STRING_FORMATS:
            return [STRING_FORMATS[node["format"]]]
        scalar = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}.get(kind or "")
        return [Atom(scalar, scalar)] if scalar else [ANY]

    def field(self, node: dict[str, Any], *, optional: bool = True) -> Annotation:
        atoms = self.lenient(node)
        if atoms == [ANY]:
            return Annotation.union(atoms)
        if optional or self.nullable(node):
            atoms = [*atoms, NONE]
        return Annotation.union(atoms)

    # -- strict -------------------------------------------------------------------------------------------
    def strict(self, node: dict[str, Any], *, in_struct: bool = False) -> Annotation:
        """A method parameter's annotation, or (``in_struct``) a request-only struct field's: the latter must stay
        a type msgspec can convert into, so it takes no plain mapping beside a struct and a date only as a date."""
        atoms = self._strict(node, in_struct)
        if self.nullable(node) and atoms != [ANY]:
            atoms = [*atoms, NONE]
        return Annotation.union(atoms)

    def _strict(self, node: dict[str, Any], in_struct: bool) -> list[Atom]:
        if "$ref" in node:
            name = node["$ref"]
            target = self.table.nodes[name]
            if name in self.structs:
                # A union struct is also given as any one of its variants (its ``...Input`` alias: the variants
                # for mypy, the struct carrying all their fields for msgspec); every struct also as a plain
                # mapping where it is an argument, validated against the spec.
                alias = self.inputs.get(name)
                struct = Atom(alias, "struct", frozenset({Import("models", alias)})) if alias else None
                struct = struct or self.model(name, "struct")
                return [struct] if in_struct else [struct, mapping()]
            if self.is_enum(target):
                return [self.model(name, "literal")]
            return self._strict(target, in_struct)
        enum = [v for v in node.get("enum", []) if v is not None]
        if enum:
            return [literal(enum)]
        members = node.get("oneOf") or node.get("anyOf")
        if members:
            return list(dict.fromkeys(a for m in members for a in self._strict(m, in_struct)))
        kind = node.get("type")
        if kind == "array" or "items" in node:
            item = self.strict(node.get("items", {}), in_struct=in_struct)
            return [Atom(f"Sequence[{item.text}]", "list", item.imports | {SEQUENCE})]
        if kind == "object" or "additionalProperties" in node:
            return [mapping()]
        if kind == "string":
            fmt = STRING_FORMATS.get(node.get("format", ""))
            if fmt is None:
                return [Atom("str", "str")]
            # An argument takes a date also as its ISO text: the format is checked before sending.
            return [fmt] if in_struct else [fmt, Atom("str", "str")]
        scalar = {"integer": "int", "number": "float", "boolean": "bool"}.get(kind or "")
        return [Atom(scalar, scalar)] if scalar else [ANY]


def mapping() -> Atom:
    return Atom("Mapping[str, Any]", "dict", frozenset({MAPPING, ANY_IMPORT}))


def combine(atoms: Iterable[Atom]) -> list[Atom]:
    """A union msgspec can decode, widening only where it must (several structs, arrays or string types)."""
    unique = list(dict.fromkeys(atoms))
    if any(a.kind == "any" for a in unique):
        return [ANY]
    structs = [a for a in unique if a.kind == "struct"]
    lists = [a for a in unique if a.kind == "list"]
    dicts = [a for a in unique if a.kind == "dict"]
    dates = [a for a in unique if a.kind in ("date", "datetime")]
    strings = any(a.kind in ("str", "literal") for a in unique)
    result = [a for a in unique if a.kind not in ("struct", "list", "dict", "date", "datetime")]
    if dates and not strings:
        result.append(dates[0] if len(dates) == 1 else Atom("str", "str"))
    if len(structs) > 1:
        return [ANY]
    if structs:
        result.append(structs[0])
    elif dicts:
        result.append(
            dicts[0] if len(dicts) == 1 else Atom("dict[str, Any]", "dict", frozenset({ANY_IMPORT}))
        )
    if lists:
        result.append(lists[0] if len(lists) == 1 else Atom("list[Any]", "list", frozenset({ANY_IMPORT})))
    return result
