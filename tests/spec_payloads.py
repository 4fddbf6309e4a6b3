"""Synthesise JSON payloads straight from the raw OpenAPI description.

Working from the spec itself, not from our normalised table, makes the conformance test an independent check of
the generator: allOf, oneOf/anyOf and renamed fields are interpreted here a second time, by simpler code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

UNKNOWN_FIELD = "field_the_spec_does_not_list"
UNKNOWN_ENUM = "VALUE_THE_SPEC_DOES_NOT_LIST"
MAX_DEPTH = 7

_CANDIDATE_STRINGS = (
    "1234567890",
    "string",
    "2026-01-15",
    "2026-01-15T10:00:00Z",
    "https://example.com/a.jpg",
    "USD",
    "US",
    "en",
    "#ffffff",
    "a@example.com",
    "AbC123",
)


@dataclass
class Mode:
    """How to fill a schema: which optional fields, which union variant, which deliberate deviations."""

    optional: bool = True
    extra_field: bool = False
    unknown_enum: bool = False
    null_properties: bool = False
    omit_required: bool = False
    choices: dict[int, int] = field(default_factory=dict)
    seen_unions: dict[int, int] = field(default_factory=dict)


class Synthesiser:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.schemas: dict[str, Any] = spec["components"]["schemas"]

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = self.schemas[node["$ref"].rsplit("/", 1)[1]]
        return node

    def merged(self, node: dict[str, Any]) -> dict[str, Any]:
        """Fold allOf: properties and required lists add up, other keywords keep their first value."""
        if "allOf" not in node:
            return node
        result: dict[str, Any] = {}
        for part in [*(self.merged(self.resolve(p)) for p in node["allOf"]), node]:
            for key, value in part.items():
                if key == "properties":
                    result.setdefault("properties", {}).update(value)
                elif key == "required":
                    result["required"] = result.get("required", []) + value
                elif key != "allOf":
                    result.setdefault(key, value)
        return result

    @staticmethod
    def discriminated(node: dict[str, Any]) -> list[dict[str, Any]]:
        """The variants a base schema's discriminator names when it has no oneOf (the OAuth token request)."""
        mapping: dict[str, str] = (node.get("discriminator") or {}).get("mapping") or {}
        return [{"$ref": ref} for ref in dict.fromkeys(mapping.values())]

    def value(self, node: dict[str, Any], mode: Mode, depth: int = 0) -> Any:
        node = self.merged(self.resolve(node))
        members = node.get("oneOf") or node.get("anyOf") or self.discriminated(node)
        if members:
            mode.seen_unions.setdefault(id(node), len(members))
            member = members[mode.choices.get(id(node), 0)]
            chosen = self.value(member, mode, depth)
            if node.get("properties") and isinstance(chosen, dict):
                own = {k: v for k, v in node.items() if k not in ("oneOf", "anyOf", "discriminator")}
                chosen = {**self.value(own, mode, depth), **chosen}
            discriminator = node.get("discriminator")
            if discriminator and isinstance(chosen, dict):
                # The tag must name the variant actually chosen.
                for tag, ref in discriminator.get("mapping", {}).items():
                    if ref == member.get("$ref"):
                        chosen[discriminator["propertyName"]] = tag
            return chosen
        enum = [v for v in node.get("enum", []) if v is not None]
        if enum:
            if mode.unknown_enum and node.get("type", "string") == "string":
                return UNKNOWN_ENUM
            return enum[0]
        kind = node.get("type")
        if kind == "object" or "properties" in node:
            return self._object(node, mode, depth)
        if kind == "array" or "items" in node:  # the spec sometimes leaves out type: array
            count = max(1, node.get("minItems", 1))
            if depth >= MAX_DEPTH:
                count = node.get("minItems", 0)
            return [self.value(node.get("items", {}), mode, depth + 1) for _ in range(count)]
        if kind == "string":
            return self._string(node)
        if kind == "integer":
            example = node.get("example")
            if isinstance(example, int) and not isinstance(example, bool) and self._in_range(example, node):
                return example
            return int(node.get("minimum", 1)) + (1 if node.get("exclusiveMinimum") else 0)
        if kind == "number":
            example = node.get("example")
            if (
                isinstance(example, (int, float))
                and not isinstance(example, bool)
                and self._in_range(example, node)
            ):
                return example
            return node.get("minimum", 1.5)
        if kind == "boolean":
            return True
        return {"anything": "goes"}

    def _object(self, node: dict[str, Any], mode: Mode, depth: int) -> dict[str, Any]:
        properties: dict[str, Any] = node.get("properties", {})
        # Fields our overlay requires unless others are given (x-required-unless) count as required here.
        required = set(node.get("required", [])) | set(node.get("x-required-unless", {}))
        result: dict[str, Any] = {}
        for name, schema in properties.items():
            if name in required and mode.omit_required:
                continue
            if name not in required and (not mode.optional or depth >= MAX_DEPTH):
                continue
            if mode.null_properties:
                result[name] = None
                continue
            result[name] = self.value(schema, mode, depth + 1)
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and not properties and depth < MAX_DEPTH:
            result["some_key"] = self.value(extra, mode, depth + 1)
        if mode.extra_field and properties:  # a map's keys are data, not fields
            result[UNKNOWN_FIELD] = {"nested": [1, "two", None]}
        return result

    def _string(self, node: dict[str, Any]) -> str:
        example = node.get("example")
        candidates = ([example] if isinstance(example, str) else []) + list(_CANDIDATE_STRINGS)
        fmt = node.get("format")
        if fmt == "date":
            candidates.insert(0, "2026-01-15")
        elif fmt == "date-time":
            candidates.insert(0, "2026-01-15T10:00:00Z")
        for candidate in candidates:
            if self._string_ok(candidate, node):
                return candidate
        return "x" * max(1, node.get("minLength", 1))

    @staticmethod
    def _string_ok(value: str, node: dict[str, Any]) -> bool:
        if len(value) < node.get("minLength", 0) or len(value) > node.get("maxLength", 10**9):
            return False
        pattern = node.get("pattern")
        return pattern is None or re.search(pattern, value) is not None

    @staticmethod
    def _in_range(value: float, node: dict[str, Any]) -> bool:
        return node.get("minimum", -(10**18)) <= value <= node.get("maximum", 10**18)

    def variants(self, node: dict[str, Any]) -> Iterator[tuple[str, Any]]:
        """Named payloads for one schema: full, each union variant, minimal, and the lenient deviations."""
        discovery = Mode()
        yield "full", self.value(node, discovery)
        unions = dict(discovery.seen_unions)
        done: set[tuple[int, int]] = set()
        # Choosing one variant can reveal unions nested inside it; explore breadth-first, each variant once.
        queue = [(union_id, index) for union_id, count in unions.items() for index in range(1, count)]
        while queue:
            union_id, index = queue.pop(0)
            if (union_id, index) in done:
                continue
            done.add((union_id, index))
            mode = Mode(choices={union_id: index})
            payload = self.value(node, mode)
            for found, count in mode.seen_unions.items():
                if found not in unions:
                    unions[found] = count
                    queue.extend((found, i) for i in range(1, count))
            yield f"variant {index} of union {union_id}", payload
        yield "minimal", self.value(node, Mode(optional=False))
        yield "extra field", self.value(node, Mode(extra_field=True))
        yield "unknown enum", self.value(node, Mode(unknown_enum=True))
        yield "nulls", self.value(node, Mode(null_properties=True))
        yield "required left out", self.value(node, Mode(optional=False, omit_required=True))

    def union_count(self, node: dict[str, Any]) -> int:
        mode = Mode()
        self.value(node, mode)
        return len(mode.seen_unions)
