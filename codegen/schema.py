"""The intermediate model: the spec normalised into a table of named schemas plus the operations that use them.

Normalisation keeps the subset of JSON Schema that decoding, validation and the simulator need, refers to other
schemas by name (``{"$ref": "Pin"}``), folds ``allOf`` into plain objects, and hoists every inline object (and every
union of several objects) into a named entry so that each becomes one named struct.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from typing import Any

KEPT_KEYWORDS = (
    "title",
    "description",
    "type",
    "format",
    "enum",
    "nullable",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
    "uniqueItems",
    "default",
    "example",
    "readOnly",
    "x-required-unless",
)
REF_PREFIX = "#/components/schemas/"


@dataclass
class Table:
    """Named, normalised schemas (descriptions feed docstrings; the runtime table leaves them out)."""

    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    components: list[str] = field(default_factory=list)

    def deref(self, node: dict[str, Any]) -> dict[str, Any]:
        seen = set()
        while "$ref" in node:
            name = node["$ref"]
            if name in seen:
                break
            seen.add(name)
            node = self.nodes[name]
        return node

    def unique_name(self, hint: str) -> str:
        name, n = hint, 2
        while name in self.nodes:
            name, n = f"{hint}{n}", n + 1
        return name


def camel(*parts: str) -> str:
    words: list[str] = []
    for part in parts:
        words.extend(w for w in re.split(r"[^0-9A-Za-z]+", part) if w)
    return "".join(w[:1].upper() + w[1:] for w in words)


def python_field_name(name: str) -> str:
    """A property name as a Python identifier: snake-ish, keywords suffixed, digits prefixed with x."""
    ident = re.sub(r"[^0-9A-Za-z_]", "_", name)
    if ident != name:
        ident = ident.lower()
    if ident[:1].isdigit():
        ident = "x" + ident
    if keyword.iskeyword(ident) or ident in {"self"}:
        ident += "_"
    return ident


def ref_name(ref: str) -> str:
    if not ref.startswith(REF_PREFIX):
        raise ValueError(f"unsupported $ref {ref}")
    return ref[len(REF_PREFIX) :]


def _normalise(raw: dict[str, Any]) -> dict[str, Any]:
    """Pass 1: keep the kept keywords, names for refs, and composition as-is (flattened later)."""
    if "$ref" in raw:
        return {"$ref": ref_name(raw["$ref"])}
    node: dict[str, Any] = {k: raw[k] for k in KEPT_KEYWORDS if k in raw}
    if "properties" in raw:
        node["properties"] = {k: _normalise(v) for k, v in raw["properties"].items()}
        node["type"] = "object"
    if raw.get("required"):
        node["required"] = list(raw["required"])
    if "additionalProperties" in raw:
        extra = raw["additionalProperties"]
        node["additionalProperties"] = extra if isinstance(extra, bool) else _normalise(extra)
    if "items" in raw:
        node["items"] = _normalise(raw["items"])
        # Some list responses give `items` without `type: array`; they are arrays all the same.
        node.setdefault("type", "array")
    for key in ("allOf", "oneOf", "anyOf"):
        if key in raw:
            node[key] = [_normalise(member) for member in raw[key]]
    if "discriminator" in raw:
        disc = raw["discriminator"]
        node["discriminator"] = {
            "propertyName": disc["propertyName"],
            "mapping": {k: ref_name(v) for k, v in disc.get("mapping", {}).items()},
        }
        if node["discriminator"]["mapping"] and "oneOf" not in node and "anyOf" not in node:
            # A base schema whose discriminator alone names its variants (the OAuth token request and response)
            # is their union all the same: one struct carrying every variant's fields, each variant's checks.
            node["oneOf"] = [
                {"$ref": name} for name in dict.fromkeys(node["discriminator"]["mapping"].values())
            ]
    return node


class Builder:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.table = Table()

    # -- components -----------------------------------------------------------------------------------------
    def load_components(self) -> None:
        raw_schemas: dict[str, Any] = self.spec["components"]["schemas"]
        for name, raw in raw_schemas.items():
            self.table.nodes[name] = _normalise(raw)
            self.table.components.append(name)
        for name in list(self.table.components):
            self.table.nodes[name] = self.flatten(self.table.nodes[name])
        for name in list(self.table.components):
            self.table.nodes[name] = self.hoist(self.table.nodes[name], name, top=True)

    def add(self, raw: dict[str, Any], hint: str, description: str | None = None) -> dict[str, Any]:
        """Normalise an inline schema from an operation; returns a node (hoisted where it needs a name)."""
        node = self.flatten(_normalise(raw))
        if description and "$ref" not in node:
            node.setdefault("description", description)
        return self.hoist(node, hint, top=False)

    def name(self, raw: dict[str, Any], hint: str, description: str | None = None) -> str:
        """Like :meth:`add`, but always returns a name: a top-level schema of its own if it has none."""
        node = self.add(raw, hint, description)
        if "$ref" in node and not node.get("nullable"):
            return str(node["$ref"])
        name = self.table.unique_name(hint)
        self.table.nodes[name] = node
        return name

    # -- allOf ----------------------------------------------------------------------------------------------
    def flatten(self, node: dict[str, Any]) -> dict[str, Any]:
        """Pass 2: fold allOf into one node; recurse everywhere."""
        if "$ref" in node:
            return node
        node = dict(node)
        if "properties" in node:
            node["properties"] = {k: self.flatten(v) for k, v in node["properties"].items()}
        if isinstance(node.get("additionalProperties"), dict):
            node["additionalProperties"] = self.flatten(node["additionalProperties"])
        if "items" in node:
            node["items"] = self.flatten(node["items"])
        for key in ("oneOf", "anyOf"):
            if key in node:
                node[key] = [self.flatten(m) for m in node[key]]
        if "allOf" in node:
            parts = [self.flatten(p) for p in node.pop("allOf")]
            own = {k: v for k, v in node.items()}
            if len(parts) == 1 and not own.get("properties") and "oneOf" not in own and "anyOf" not in own:
                # allOf: [$ref] is how the spec attaches nullable/description to a reference.
                merged = dict(parts[0])
                if own.get("nullable"):
                    merged["nullable"] = True
                for key in ("default", "example", "readOnly", "description"):
                    if key in own:
                        merged[key] = own[key]
                return merged
            node = self._merge_objects([*parts, own])
        return node

    def _merge_objects(self, parts: list[dict[str, Any]]) -> dict[str, Any]:
        targets = [self._resolve_for_merge(part) for part in parts]
        # allOf also combines non-objects (an enum plus a description): only objects get type "object".
        is_object = any(t.get("properties") or t.get("type") == "object" for t in targets)
        merged: dict[str, Any] = {"type": "object", "properties": {}} if is_object else {"properties": {}}
        required: list[str] = []
        for target in targets:
            for key, value in target.items():
                if key == "properties":
                    merged["properties"].update(value)
                elif key == "required":
                    required.extend(r for r in value if r not in required)
                elif key in ("oneOf", "anyOf", "discriminator"):
                    merged[key] = value
                elif key == "additionalProperties":
                    # allOf composes objects; "no other keys" on one part cannot forbid the other parts' keys.
                    if value is not False:
                        merged[key] = value
                elif key != "type" or not is_object:
                    merged.setdefault(key, value)
        if required:
            merged["required"] = required
        if not merged["properties"]:
            del merged["properties"]
        return merged

    def _resolve_for_merge(self, part: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in part:
            # Flattened whether or not it has an allOf of its own: its properties may (BoardBase.owner), and
            # the merged object must not carry them raw.
            target = self.flatten(self.table.nodes[part["$ref"]])
            self.table.nodes[part["$ref"]] = target
            return self._resolve_for_merge(target) if "$ref" in target else target
        return part

    # -- hoisting -------------------------------------------------------------------------------------------
    def needs_struct(self, node: dict[str, Any], _seen: frozenset[str] = frozenset()) -> bool:
        """Objects with properties, and unions of two or more such objects, become structs."""
        if "$ref" in node:
            name = node["$ref"]
            if name in _seen:
                return True
            return self.needs_struct(self.table.nodes[name], _seen | {name})
        if node.get("properties"):
            return True
        members = node.get("oneOf") or node.get("anyOf")
        if members:
            return sum(1 for m in members if self.needs_struct(m, _seen)) >= 2
        return False

    def hoist(self, node: dict[str, Any], hint: str, *, top: bool) -> dict[str, Any]:
        """Pass 3: give every inline struct a name of its own (``hint``), recursively."""
        if "$ref" in node:
            return node
        node = dict(node)
        if "properties" in node:
            node["properties"] = {
                k: self.hoist(v, camel(hint, k), top=False) for k, v in node["properties"].items()
            }
        if isinstance(node.get("additionalProperties"), dict):
            node["additionalProperties"] = self.hoist(
                node["additionalProperties"], camel(hint, "Value"), top=False
            )
        if "items" in node:
            node["items"] = self.hoist(node["items"], camel(hint, "Item"), top=False)
        for key in ("oneOf", "anyOf"):
            if key in node:
                node[key] = [
                    self.hoist(m, camel(hint, f"Variant{i + 1}"), top=False) for i, m in enumerate(node[key])
                ]
        if top or not self.needs_struct(node):
            return node
        name = self.table.unique_name(hint)
        nullable = node.pop("nullable", False)
        description = node.get("description")
        self.table.nodes[name] = node
        ref: dict[str, Any] = {"$ref": name}
        if nullable:
            ref["nullable"] = True
        if description:
            ref["description"] = description
        return ref
