"""Schema-valid values synthesised from the generated schema table, deterministically from a seed.

Used for every response the organic store does not model, and by tests to build the minimal valid arguments of
any operation. An ``example`` from the spec is used wherever it passes validation; otherwise values are built
from the schema's type and constraints, and strings are picked from candidates that satisfy the pattern.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import RequestValidationError
from ._spec_checks import Schema, check, follow, schemas

# Enough depth for every response in the spec; deeper optional branches are left out.
_MAX_DEPTH = 8
# Strings tried, in order, when a string schema has a pattern, a format or a length the plain default misses.
_CANDIDATE_STRINGS = (
    "1234567890",
    "2026-01-15",
    "2026-01-15T10:00:00.000Z",
    "https://example.com/image.jpg",
    "12:30",
    "AG1234567890",
    "C1234567890",
    "aGVsbG8=",
    "US",
    "en",
    "USD",
    "a@example.com",
    "#e60023",
    "simulated",
)
_FORMAT_STRINGS = {
    "date": "2026-01-15",
    "date-time": "2026-01-15T10:00:00Z",
    "uri": "https://example.com/",
    "email": "a@example.com",
}


class Synthesiser:
    """Builds values that pass the simulator's own :func:`._spec_checks.check` for any node of the schema table.

    ``minimal=True`` fills only required object fields (request arguments); otherwise every property is filled
    (responses). The same seed always gives the same values.
    """

    def __init__(self, seed: int = 0, table: Mapping[str, Schema] | None = None) -> None:
        self.seed = seed
        self.table = table if table is not None else schemas()

    def model(self, name: str, *, minimal: bool = False) -> Any:
        """A value for the named model of the schema table."""
        return self.value({"$ref": name}, name, minimal=minimal)

    def value(self, node: Schema, path: str = "$", *, minimal: bool = False) -> Any:
        """A value for ``node``; ``path`` only varies the choices, so distinct places get distinct values."""
        return self._value(node, path, minimal, ())

    def _value(self, node: Schema, path: str, minimal: bool, refs: tuple[str, ...]) -> Any:
        ref = node.get("$ref")
        if ref is not None:
            refs = (*refs, ref)
        node = follow(node)
        example = node.get("example")
        if example is not None and _valid(example, node):
            return example
        members: Sequence[Schema] | None = node.get("oneOf") or node.get("anyOf")
        if members:
            return self._union(node, members, path, minimal, refs)
        enum = node.get("enum")
        if enum:
            choices = [value for value in enum if value is not None]
            return choices[self._pick(path, len(choices))] if choices else None
        kind = node.get("type") or _implied_type(node)
        if kind == "object":
            return self._object(node, path, minimal, refs)
        if kind == "array":
            return self._array(node, path, minimal, refs)
        if kind == "string":
            return self._string(node)
        if kind == "integer":
            return self._number(node, path, integer=True)
        if kind == "number":
            return self._number(node, path, integer=False)
        if kind == "boolean":
            return self._pick(path, 2) == 0
        # An untyped schema accepts anything; a string is the least surprising thing to receive.
        return "simulated"

    def _pick(self, path: str, count: int) -> int:
        return zlib.crc32(f"{self.seed}:{path}".encode()) % count

    def _union(
        self, node: Schema, members: Sequence[Schema], path: str, minimal: bool, refs: tuple[str, ...]
    ) -> Any:
        own = {key: value for key, value in node.items() if key not in ("oneOf", "anyOf", "discriminator")}
        discriminator = node.get("discriminator") or {}
        tags = {target: tag for tag, target in (discriminator.get("mapping") or {}).items()}
        start = self._pick(path, len(members))
        # Start from a seed-chosen variant; fall through to the next if it cannot satisfy the union as a whole.
        for offset in range(len(members)):
            member = members[(start + offset) % len(members)]
            candidate = self._value(member, path, minimal, refs)
            if isinstance(candidate, dict):
                if own.get("properties"):
                    candidate = {**self._object(own, path, minimal, refs), **candidate}
                tag = tags.get(member.get("$ref", ""))
                if tag is not None:
                    candidate[discriminator["propertyName"]] = tag
            if _valid(candidate, node):
                return candidate
        raise ValueError(f"no variant of the union at {path} could be synthesised")

    def _object(self, node: Schema, path: str, minimal: bool, refs: tuple[str, ...]) -> dict[str, Any]:
        properties: Mapping[str, Schema] = node.get("properties") or {}
        required = set(node.get("required", ()))
        result: dict[str, Any] = {}
        for name, schema in properties.items():
            if name not in required and (minimal or len(refs) > _MAX_DEPTH or _recursive(schema, refs)):
                continue
            result[name] = self._value(schema, f"{path}.{name}", minimal, refs)
        extra = node.get("additionalProperties")
        if not properties and isinstance(extra, Mapping) and extra and not minimal:
            result["key"] = self._value(extra, f"{path}.key", minimal, refs)
        return result

    def _array(self, node: Schema, path: str, minimal: bool, refs: tuple[str, ...]) -> list[Any]:
        items: Schema = node.get("items") or {}
        count = max(node.get("minItems", 1), 1)
        if "maxItems" in node:
            count = min(count, node["maxItems"])
        if node.get("uniqueItems") and "enum" in follow(items):
            return list(follow(items)["enum"][:count])
        return [self._value(items, f"{path}[{index}]", minimal, refs) for index in range(count)]

    def _string(self, node: Schema) -> str:
        first: str = _FORMAT_STRINGS.get(node.get("format", ""), "simulated")
        bare = {key: value for key, value in node.items() if key != "example"}
        for candidate in (first, *_CANDIDATE_STRINGS):
            if _valid(candidate, bare):
                return candidate
        # Only length limits are left to satisfy (no pattern in the spec needs more than the candidates).
        length: int = max(node.get("minLength", 1), 1)
        return "x" * length

    def _number(self, node: Schema, path: str, *, integer: bool) -> int | float:
        low = node.get("minimum", 0)
        high = node.get("maximum", low + 1000)
        if node.get("exclusiveMinimum"):
            low += 1 if integer else 0.5
        if node.get("exclusiveMaximum"):
            high -= 1 if integer else 0.5
        span = max(int(high - low), 0)
        value = low + (self._pick(path, span + 1) if span else 0)
        return int(value) if integer else float(value)


def _valid(value: Any, node: Schema) -> bool:
    try:
        check(value, node, "$")
    except (RequestValidationError, KeyError, TypeError):
        return False
    return True


def _implied_type(node: Schema) -> str | None:
    """The type a schema leaves out but implies by its keywords (the spec has ``items`` without ``type``)."""
    if "items" in node:
        return "array"
    if "properties" in node or "additionalProperties" in node:
        return "object"
    return None


def _recursive(schema: Schema, refs: tuple[str, ...]) -> bool:
    """Whether an optional property would re-enter a model already being built (and so never end)."""
    ref = schema.get("$ref") or follow(schema).get("items", {}).get("$ref")
    return ref is not None and ref in refs
