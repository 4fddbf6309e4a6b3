"""The model plan: the Python name of every schema, which schemas become structs, and what each struct is for."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .annotate import Annotator, combine
from .operations import Op
from .schema import Builder, Table, camel

# Names the emitted models module defines or imports itself: a schema may not take them.
RESERVED = {"Any", "Literal", "TypeAlias", "Model", "msgspec", "field", "datetime", "Mapping", "Sequence"}


class ModelPlan:
    """Decides the Python name of every schema, which schemas are structs, and the role of each struct: decoded
    (reachable from a response), requested (reachable from a request), or both."""

    def __init__(self, builder: Builder, ops: list[Op]) -> None:
        self.builder = builder
        self.table: Table = builder.table
        self.structs = {
            name
            for name, node in self.table.nodes.items()
            if builder.needs_struct(node) and "$ref" not in node
        }
        self.names = self._python_names()
        self.annotator = Annotator(self.table, self.names, self.structs)
        self.decoded = self._reachable([n for op in ops for n in (op.response, op.item) if n])
        self.requested = self._reachable(
            [op.body for op in ops if op.body] + [n for op in ops for p in op.params for n in _refs(p.schema)]
        )
        # Fields of union structs whose variants type them with different structs, and the struct each gets.
        self._field_overrides: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._merge_variant_fields()
        self.annotator.inputs = self._input_aliases()

    def _python_names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        taken = set(self.table.nodes) | RESERVED
        for name in self.table.nodes:
            if name.isidentifier() and name not in RESERVED:
                names[name] = name
                continue
            # "Pinterest.Lib.Error" -> "Error" where that name is free, else the dotted parts joined.
            last = re.sub(r"\W", "", name.rsplit(".", 1)[-1])
            candidate = last if last not in taken else re.sub(r"\W", "", name)
            taken.add(candidate)
            names[name] = candidate
        return names

    def _reachable(self, roots: list[str]) -> set[str]:
        seen: set[str] = set()
        stack = list(roots)
        while stack:
            name = stack.pop()
            if name not in seen:
                seen.add(name)
                stack.extend(_refs(self.table.nodes[name]))
        return seen

    def variants(self, name: str) -> list[str]:
        node = self.table.nodes[name]
        members = node.get("oneOf") or node.get("anyOf") or []
        return [m["$ref"] for m in members if "$ref" in m and m["$ref"] in self.structs]

    def _input_aliases(self) -> dict[str, str]:
        """``PinMediaSourceInput`` for each union struct a request may carry: any one of its variants."""
        taken = set(self.names.values())
        aliases = {}
        for name in sorted(self.requested & self.structs):
            if self.variants(name):
                alias = self.names[name] + "Input"
                while alias in taken:
                    alias += "_"
                taken.add(alias)
                aliases[name] = alias
        return aliases

    def _merge_variant_fields(self) -> None:
        """A field that variants of a union type with different structs (``filters`` of a product group is a
        retail, hotel or creative-assets filter) becomes a struct of its own carrying every one's fields, instead
        of ``Any`` (or, in a request, a union msgspec cannot convert into); that struct may need the same in turn.
        """
        pending = sorted((self.decoded | self.requested) & self.structs)
        merged_by_members: dict[tuple[str, ...], str] = {}
        while pending:
            name = pending.pop()
            if not (self.table.nodes[name].get("oneOf") or self.table.nodes[name].get("anyOf")):
                continue
            for prop, schemas in self.fields(name).items():
                refs, items = (
                    self._struct_refs(schemas),
                    self._struct_refs(s.get("items", {}) for s in schemas),
                )
                if len(refs) < 2 and len(items) < 2:
                    continue
                members = tuple(refs if len(refs) > 1 else items)
                # One struct for each set of variants, shared by every field that has them.
                merged = merged_by_members.get(members)
                if merged is None:
                    merged = self.table.unique_name(camel(name, prop, "Item" if len(items) > 1 else ""))
                    merged_by_members[members] = merged
                    self.table.nodes[merged] = {"oneOf": [{"$ref": r} for r in members]}
                    self.structs.add(merged)
                    self.names[merged] = merged
                for role in (self.decoded, self.requested):
                    if name in role and merged not in role:
                        role.add(merged)
                        pending.append(merged)  # its own fields take the role too
                self._field_overrides[(name, prop)] = [
                    {"$ref": merged} if len(refs) > 1 else {"type": "array", "items": {"$ref": merged}}
                ]

    def _struct_refs(self, schemas: Iterable[dict[str, Any]]) -> list[str]:
        return list(dict.fromkeys(s["$ref"] for s in schemas if "$ref" in s and s["$ref"] in self.structs))

    def fields(self, name: str) -> dict[str, list[dict[str, Any]]]:
        """Every property a struct may carry: its own, and for a union, those of each variant."""
        collected: dict[str, list[dict[str, Any]]] = {}
        self._collect(self.table.nodes[name], collected, set())
        return {prop: self._field_overrides.get((name, prop), schemas) for prop, schemas in collected.items()}

    def _collect(self, node: dict[str, Any], out: dict[str, list[dict[str, Any]]], seen: set[str]) -> None:
        if "$ref" in node:
            if node["$ref"] in seen:
                return
            seen.add(node["$ref"])
            node = self.table.nodes[node["$ref"]]
        for prop, schema in node.get("properties", {}).items():
            out.setdefault(prop, []).append(schema)
        for member in node.get("oneOf") or node.get("anyOf") or []:
            self._collect(member, out, seen)

    def required(self, name: str, _seen: frozenset[str] = frozenset()) -> set[str]:
        """The fields a struct always has: its own required ones and, for a union, those every variant requires."""
        node = self.table.nodes[name]
        required = set(node.get("required", ()))
        members = [m["$ref"] for m in node.get("oneOf") or node.get("anyOf") or [] if "$ref" in m]
        if members and name not in _seen:
            required |= set.intersection(*(self.required(m, _seen | {name}) for m in members))
        return required

    def constructible(self, name: str, outer: frozenset[str]) -> bool:
        """Whether ``name()`` builds without recursing into a struct under construction: a required struct
        field defaults to an empty struct, which must not contain itself."""
        if name in outer:
            return False
        return all(self.constructible(dep, outer | {name}) for dep in self._required_structs(name))

    def _required_structs(self, name: str) -> list[str]:
        """The structs that ``name()`` builds for its required struct fields."""
        required = self.required(name)
        found = []
        for prop, schemas in self.fields(name).items():
            if prop not in required or any(self.annotator.nullable(s) for s in schemas):
                continue
            atoms = combine(a for s in schemas for a in self.annotator.lenient(s))
            if atoms[0].kind == "struct":
                found.append(atoms[0].schema)
        return found


def _refs(node: Any) -> list[str]:
    """The names a normalised schema refers to, at any depth."""
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        # A discriminator's mapping names its variants without a $ref of their own.
        own += list(node.get("discriminator", {}).get("mapping", {}).values())
        return own + [r for key, value in node.items() if key != "$ref" for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []
