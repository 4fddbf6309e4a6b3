"""Strict validation of request values against the generated schema table.

The same checks serve the client (before a request is sent) and the simulator (on what it receives), so both
agree on what the spec allows. Errors name the offending field by its path: ``body.media_source.source_type``.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Callable, Mapping
from functools import cache, partial
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit

import msgspec

from .errors import RequestValidationError

Schema = Mapping[str, Any]


@cache
def schema_table() -> Mapping[str, Schema]:
    """Every named schema, normalised (``$ref`` holds a model name; ``allOf`` already folded in)."""
    data = files("aiopinterest._generated").joinpath("schemas.json").read_bytes()
    table: dict[str, Schema] = msgspec.json.decode(data)
    return table


@cache
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def resolve(node: Schema) -> Schema:
    """Follow ``$ref`` (through aliases of aliases) to the named schema; a nullable reference stays nullable."""
    while "$ref" in node:
        target = schema_table()[node["$ref"]]
        if node.get("nullable") and not target.get("nullable"):
            target = {**target, "nullable": True}
        node = target
    return node


def validate(value: Any, node: Schema, path: str, *, known: frozenset[str] = frozenset()) -> None:
    """Raise :class:`RequestValidationError` naming ``path`` (or a path below it) if ``value`` breaks ``node``.

    ``known``: keys of an object that the schema enclosing ``node`` defines (a union's own properties).
    """
    node = resolve(node)
    if value is None:
        if node.get("nullable") or not node:
            return
        raise RequestValidationError(path, "must not be null")
    enum = node.get("enum")
    if enum is not None and value not in enum:
        allowed = ", ".join(repr(v) for v in enum if v is not None)
        raise RequestValidationError(path, f"{value!r} is not one of {allowed}")
    kind = node.get("type")
    if kind == "object":
        _check_object(value, node, path, known)
    elif kind is not None:
        _CHECKS[kind](value, node, path)
    if node.get("properties") is not None and kind is None and isinstance(value, Mapping):
        _check_object(value, node, path, known)
    members = node.get("oneOf") or node.get("anyOf")
    if members:
        _check_union(value, node, members, path)


# What validate() looks at besides "type"; a schema without them is checked by its type's function alone.
_BEYOND_TYPE = frozenset({"enum", "properties", "oneOf", "anyOf", "format"})


def checker(node: Schema, path: str) -> Callable[[Any], None]:
    """A function checking values (never ``None``) against ``node`` at ``path`` as :func:`validate` does, made
    once for checks run on every call (an operation's parameters): references are resolved and the check for the
    schema's type chosen in advance."""
    resolved = resolve(node)
    kind = resolved.get("type", "")
    check = _CHECKS.get(kind)
    if check is None or not _BEYOND_TYPE.isdisjoint(resolved):
        return partial(validate, node=resolved, path=path)
    if kind == "string":
        return _string_checker(resolved, path)
    return partial(check, node=resolved, path=path)


_DECIMAL_ID = r"^\d+$"


def _string_checker(node: Schema, path: str) -> Callable[[Any], None]:
    """The check of a string schema with its pattern compiled and its limits read in advance; a value that fails
    goes through :func:`_check_string` for the error."""
    pattern = node.get("pattern")
    # Most IDs in the spec: a string that str.isdecimal() accepts matches it too (\d is a Unicode decimal digit),
    # and spares the expression 2,300 instructions per pins.get (0.55%, bench/instructions.py); any other string is
    # left to the expression in _check_string.
    decimal = pattern == _DECIMAL_ID
    search = _pattern(pattern).search if pattern is not None and not decimal else None
    shortest = node.get("minLength", 0)
    longest = node.get("maxLength")

    if decimal and shortest == 0 and longest is None:

        def check_decimal(value: Any) -> None:
            # An ID parameter, the usual case: one type test and one str method.
            if type(value) is not str or not value.isdecimal():
                _check_string(value, node, path)

        return check_decimal

    def check_string(value: Any) -> None:
        if (
            not isinstance(value, str)
            or len(value) < shortest
            or (longest is not None and len(value) > longest)
            or (search is not None and search(value) is None)
            or (decimal and not value.isdecimal())
        ):
            _check_string(value, node, path)

    return check_string


def _fail_type(expected: str, value: Any, path: str) -> RequestValidationError:
    return RequestValidationError(path, f"expected {expected}, got {type(value).__name__} {_short(value)}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_string(value: Any, node: Schema, path: str) -> None:
    if not isinstance(value, str):
        raise _fail_type("a string", value, path)
    if "minLength" in node and len(value) < node["minLength"]:
        raise RequestValidationError(path, f"must be at least {node['minLength']} characters long")
    if "maxLength" in node and len(value) > node["maxLength"]:
        raise RequestValidationError(path, f"must be at most {node['maxLength']} characters long")
    pattern = node.get("pattern")
    if pattern is not None and not _pattern(pattern).search(value):
        raise RequestValidationError(path, f"{_short(value)} does not match the pattern {pattern}")
    check_format = _FORMATS.get(node.get("format", ""))
    if check_format is not None and not check_format(value):
        raise RequestValidationError(path, f"{_short(value)} is not a valid {node['format']}")


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _is_date(text: str) -> bool:
    return _as_date(text) is not None


def _is_date_time(text: str) -> bool:
    if not _DATE.match(text[:10]) or len(text) < 11 or text[10] not in "Tt ":
        return False
    try:
        datetime.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _is_uri(text: str) -> bool:
    """An absolute URI (RFC 3986): a scheme, and no whitespace; http(s) also needs a host."""
    if any(c.isspace() for c in text):
        return False
    parts = urlsplit(text)
    return bool(parts.scheme) and (parts.scheme not in ("http", "https") or bool(parts.netloc))


_FORMATS: Mapping[str, Callable[[str], bool]] = {"date": _is_date, "date-time": _is_date_time, "uri": _is_uri}


def _check_number(value: Any, node: Schema, path: str, *, integer: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        raise _fail_type("an integer" if integer else "a number", value, path)
    if "minimum" in node and (
        value <= node["minimum"] if node.get("exclusiveMinimum") else value < node["minimum"]
    ):
        raise RequestValidationError(
            path, f"must be {'>' if node.get('exclusiveMinimum') else '>='} {node['minimum']}"
        )
    if "maximum" in node and (
        value >= node["maximum"] if node.get("exclusiveMaximum") else value > node["maximum"]
    ):
        raise RequestValidationError(
            path, f"must be {'<' if node.get('exclusiveMaximum') else '<='} {node['maximum']}"
        )


def _check_integer(value: Any, node: Schema, path: str) -> None:
    _check_number(value, node, path, integer=True)


def _check_boolean(value: Any, node: Schema, path: str) -> None:
    if not isinstance(value, bool):
        raise _fail_type("true or false", value, path)


def _check_array(value: Any, node: Schema, path: str) -> None:
    if not isinstance(value, (list, tuple)):
        raise _fail_type("an array", value, path)
    if "minItems" in node and len(value) < node["minItems"]:
        raise RequestValidationError(path, f"must have at least {node['minItems']} item(s)")
    if "maxItems" in node and len(value) > node["maxItems"]:
        raise RequestValidationError(path, f"must have at most {node['maxItems']} item(s), got {len(value)}")
    items = node.get("items")
    if items:
        for index, item in enumerate(value):
            validate(item, items, f"{path}[{index}]")


def _check_object(value: Any, node: Schema, path: str, known: frozenset[str] = frozenset()) -> None:
    """``known``: keys a union's own properties add to the variant being checked (they are not unknown)."""
    if not isinstance(value, Mapping):
        raise _fail_type("an object", value, path)
    properties: Mapping[str, Schema] = node.get("properties") or {}
    extra = node.get("additionalProperties")
    # A union's variants (or, with a discriminator, the schemas extending this one) add their own keys, so only
    # the variants can call a key unknown. An object that lists
    # its properties and says nothing of others takes no others: the API ignores or refuses them, and a typo
    # ("titel") would otherwise be sent and lost without a word.
    closed = (extra is False or (extra is None and properties)) and not (
        node.get("oneOf") or node.get("anyOf") or node.get("discriminator")
    )
    for name, item in value.items():
        schema = properties.get(name)
        if schema is not None:
            validate(item, schema, f"{path}.{name}")
        elif isinstance(extra, Mapping):
            validate(item, extra, f"{path}.{name}")
        elif closed and name not in known:
            raise RequestValidationError(f"{path}.{name}", _unknown_field(name, [*properties, *known]))
    # After the unknown keys: a misspelt required field is reported as the typo, with its right name.
    for name in node.get("required", ()):
        if value.get(name) is None and not (
            name in value and resolve(properties.get(name, {})).get("nullable")
        ):
            raise RequestValidationError(f"{path}.{name}", "is required")
    _check_required_unless(value, node, path)
    _check_date_order(value, path)


def _unknown_field(name: object, known: list[str]) -> str:
    close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"is not a known field ({hint}known: {', '.join(sorted(known)) or 'none'})"


def _check_required_unless(value: Mapping[str, Any], node: Schema, path: str) -> None:
    """``x-required-unless`` (our overlay's): a field required unless other fields have the given values, e.g.
    a Pin's ``board_id`` unless ``is_removable`` is true (an ad-only Pin)."""
    for name, condition in (node.get("x-required-unless") or {}).items():
        if value.get(name) is None and any(value.get(k) != v for k, v in condition.items()):
            unless = " and ".join(f"{k} is {msgspec.json.encode(v).decode()}" for k, v in condition.items())
            raise RequestValidationError(f"{path}.{name}", f"is required unless {unless}")


def _check_date_order(values: Mapping[str, Any], path: str | None) -> None:
    start, end = _as_date(values.get("start_date")), _as_date(values.get("end_date"))
    if start is not None and end is not None and end < start:
        field = f"{path}.end_date" if path else "end_date"
        raise RequestValidationError(field, f"{end.isoformat()} is before start_date {start.isoformat()}")


def check_date_order(query: Mapping[str, Any]) -> None:
    """Raise :class:`RequestValidationError` for an ``end_date`` parameter before ``start_date``."""
    _check_date_order(query, None)


def _as_date(value: object) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and _DATE.match(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def object_properties(node: Schema, value: Mapping[str, Any]) -> Mapping[str, Schema]:
    """The properties ``value`` may carry under the object schema ``node``: its own, and those of the variant its
    discriminator picks by ``value``'s tag (a form body's fields are converted by these)."""
    node = resolve(node)
    own: Mapping[str, Schema] = node.get("properties") or {}
    variant = _tagged_variant(node, value)
    if variant is None:
        return own
    return {**own, **(resolve({"$ref": variant}).get("properties") or {})}


def _tagged_variant(node: Schema, value: Mapping[str, Any]) -> str | None:
    """The schema name ``node``'s discriminator maps ``value``'s tag to, if it has one and the tag is mapped."""
    discriminator = node.get("discriminator")
    if not discriminator:
        return None
    tag = value.get(discriminator["propertyName"])
    mapping: Mapping[str, str] = discriminator.get("mapping") or {}
    return mapping.get(tag) if isinstance(tag, str) else None


def _check_union(value: Any, node: Schema, members: list[Schema], path: str) -> None:
    discriminator = node.get("discriminator")
    if discriminator and isinstance(value, Mapping):
        variant = _tagged_variant(node, value)
        if variant is not None:
            validate(value, {"$ref": variant}, path, known=frozenset(node.get("properties") or ()))
            return
        mapping: Mapping[str, str] = discriminator.get("mapping") or {}
        if mapping:
            tag_name = discriminator["propertyName"]
            allowed = ", ".join(repr(t) for t in mapping)
            raise RequestValidationError(
                f"{path}.{tag_name}", f"{value.get(tag_name)!r} is not one of {allowed}"
            )
    errors: list[RequestValidationError] = []
    known = frozenset(node.get("properties") or ())
    for member in members:
        try:
            validate(value, member, path, known=known)
        except RequestValidationError as error:
            errors.append(error)
        else:
            return
    # The variant that got furthest into the value is the one the caller most likely meant.
    closest = max(errors, key=lambda e: e.field.count(".") + e.field.count("["))
    names = [m.get("$ref", m.get("type", "schema")) for m in members]
    raise RequestValidationError(
        closest.field, f"{closest.reason} (the value matches none of {', '.join(map(str, names))})"
    )


_CHECKS: Mapping[str, Callable[..., None]] = {
    "string": _check_string,
    "integer": _check_integer,
    "number": _check_number,
    "boolean": _check_boolean,
    "array": _check_array,
    "object": _check_object,
}
