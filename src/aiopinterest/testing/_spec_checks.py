"""What the simulator accepts: every value it receives checked against the spec's schemas, as Pinterest checks it.

Written apart from the client's validator (``aiopinterest._validation``) on purpose, sharing none of its code: both
read the same schema data (the generated ``schemas.json``, the spec with our overlay's corrections), so that a fault
in the client's checks shows in the simulator's tests as a disagreement instead of being shared by both. The first
fault found is refused, naming the parameter or field by its path (``body.media_source.url``), as Pinterest's 400
answers do.
"""

from __future__ import annotations

import datetime
import difflib
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from importlib.resources import files
from typing import Any, NoReturn

import msgspec

from ..errors import RequestValidationError

Schema = Mapping[str, Any]
# The checks of one JSON type: (value, its schema, where it is, keys a union adds to an object) -> None or refusal.
TypeCheck = Callable[[Any, Schema, str, frozenset[str]], None]


@functools.cache
def schemas() -> Mapping[str, Schema]:
    """The spec's named schemas as the generator wrote them: ``$ref`` holds a schema's name, ``allOf`` is folded in."""
    table: dict[str, Schema] = msgspec.json.decode(
        files("aiopinterest._generated").joinpath("schemas.json").read_bytes()
    )
    return table


def follow(node: Schema) -> Schema:
    """The schema ``node`` stands for, through references to references; a nullable reference stays nullable."""
    nullable = bool(node.get("nullable"))
    while "$ref" in node:
        node = schemas()[node["$ref"]]
    if nullable and not node.get("nullable"):
        return {**node, "nullable": True}
    return node


def refuse(where: str, reason: str) -> NoReturn:
    raise RequestValidationError(where, reason)


def check(value: Any, node: Schema, where: str, *, union_keys: frozenset[str] = frozenset()) -> None:
    """Refuse ``value`` at ``where`` unless the schema ``node`` allows it.

    ``union_keys``: the keys a union's own properties add to the variant being checked (they are not unknown).
    """
    node = follow(node)
    if value is None:
        if node.get("nullable") or not node:
            return
        refuse(where, "must not be null")
    choices = node.get("enum")
    if choices is not None and value not in choices:
        listed = ", ".join(repr(choice) for choice in choices if choice is not None)
        refuse(where, f"{value!r} is not one of {listed}")
    kind = node.get("type") or _implied_type(node, value)
    if kind is not None:
        _TYPE_CHECKS[kind](value, node, where, union_keys)
    variants = node.get("oneOf") or node.get("anyOf")
    if variants:
        _check_variants(value, node, variants, where)


def _implied_type(node: Schema, value: Any) -> str | None:
    """The type of a schema that lists properties (or items) without saying ``type``."""
    if "items" in node:
        return "array"
    if isinstance(value, Mapping) and ("properties" in node or "additionalProperties" in node):
        return "object"
    return None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _wrong_type(expected: str, value: Any, where: str) -> NoReturn:
    refuse(where, f"expected {expected}, got {type(value).__name__} {_shown(value)}")


def _check_string(value: Any, node: Schema, where: str, union_keys: frozenset[str]) -> None:
    if not isinstance(value, str):
        _wrong_type("a string", value, where)
    if len(value) < node.get("minLength", 0):
        refuse(where, f"must be at least {node['minLength']} characters long")
    if "maxLength" in node and len(value) > node["maxLength"]:
        refuse(where, f"must be at most {node['maxLength']} characters long")
    pattern = node.get("pattern")
    if pattern is not None and _compiled(pattern).search(value) is None:
        refuse(where, f"{_shown(value)} does not match the pattern {pattern}")
    name = node.get("format")
    well_formed = _FORMATS.get(name) if isinstance(name, str) else None
    if well_formed is not None and not well_formed(value):
        refuse(where, f"{_shown(value)} is not a valid {name}")


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_YMD = re.compile(r"\d{4}-\d{2}-\d{2}")


def as_date(value: object) -> datetime.date | None:
    """``value`` as a calendar date if it is one written ``YYYY-MM-DD``, else ``None``."""
    if not isinstance(value, str) or _YMD.fullmatch(value) is None:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


# RFC 3339's date-time, with the lower-case "t" and the space that ISO 8601 profiles allow, and an offset that
# may be left out (the API's own timestamps carry none).
_DATE_TIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<hour>[01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60)(?:\.\d+)?"
    r"(?:[Zz]|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?"
)
# RFC 3986's absolute URI: a scheme, then no white space; the web's schemes need an authority ("//host").
_URI = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):(?P<rest>\S*)")


def _is_date_time(text: str) -> bool:
    match = _DATE_TIME.fullmatch(text)
    return match is not None and as_date(match["date"]) is not None


def _is_uri(text: str) -> bool:
    match = _URI.fullmatch(text)
    if match is None:
        return False
    if match["scheme"].lower() in ("http", "https"):
        return len(match["rest"]) > 2 and match["rest"].startswith("//")
    return True


_FORMATS: Mapping[str, Callable[[str], bool]] = {
    "date": lambda text: as_date(text) is not None,
    "date-time": _is_date_time,
    "uri": _is_uri,
}


def _check_number(value: Any, node: Schema, where: str, union_keys: frozenset[str]) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _wrong_type("a number", value, where)
    _check_bounds(value, node, where)


def _check_integer(value: Any, node: Schema, where: str, union_keys: frozenset[str]) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        _wrong_type("an integer", value, where)
    _check_bounds(value, node, where)


def _check_bounds(value: float, node: Schema, where: str) -> None:
    """``minimum`` and ``maximum``, exclusive when OpenAPI 3.0's ``exclusiveMinimum``/``Maximum`` flag says so."""
    if "minimum" in node:
        low, open_low = node["minimum"], bool(node.get("exclusiveMinimum"))
        if value < low or (open_low and value == low):
            refuse(where, f"must be {'>' if open_low else '>='} {low}")
    if "maximum" in node:
        high, open_high = node["maximum"], bool(node.get("exclusiveMaximum"))
        if value > high or (open_high and value == high):
            refuse(where, f"must be {'<' if open_high else '<='} {high}")


def _check_boolean(value: Any, node: Schema, where: str, union_keys: frozenset[str]) -> None:
    if not isinstance(value, bool):
        _wrong_type("true or false", value, where)


def _check_array(value: Any, node: Schema, where: str, union_keys: frozenset[str]) -> None:
    if not isinstance(value, list):
        _wrong_type("an array", value, where)
    if len(value) < node.get("minItems", 0):
        refuse(where, f"must have at least {node['minItems']} item(s)")
    if "maxItems" in node and len(value) > node["maxItems"]:
        refuse(where, f"must have at most {node['maxItems']} item(s), got {len(value)}")
    items = node.get("items")
    if items:
        for index, item in enumerate(value):
            check(item, items, f"{where}[{index}]")


def _check_object(value: Any, node: Schema, where: str, union_keys: frozenset[str]) -> None:
    if not isinstance(value, Mapping):
        _wrong_type("an object", value, where)
    properties: Mapping[str, Schema] = node.get("properties") or {}
    _check_present(value, node, properties, where)
    others = node.get("additionalProperties")
    # Pinterest refuses keys its objects do not define; a union (or a schema others extend, with a discriminator)
    # leaves that to its variants, which know their own keys.
    takes_no_others = (others is False or (others is None and bool(properties))) and not (
        node.get("oneOf") or node.get("anyOf") or node.get("discriminator")
    )
    for key, item in value.items():
        if key in properties:
            check(item, properties[key], f"{where}.{key}")
        elif isinstance(others, Mapping):
            check(item, others, f"{where}.{key}")
        elif takes_no_others and key not in union_keys:
            refuse(f"{where}.{key}", _unknown_key(key, [*properties, *union_keys]))
    start, end = as_date(value.get("start_date")), as_date(value.get("end_date"))
    if start is not None and end is not None and end < start:
        refuse(f"{where}.end_date", f"{end.isoformat()} is before start_date {start.isoformat()}")


def _check_present(
    value: Mapping[str, Any], node: Schema, properties: Mapping[str, Schema], where: str
) -> None:
    """``required`` keys (a null counts as absent unless the field is nullable), and our overlay's
    ``x-required-unless``: a key required unless other keys have given values (a Pin's ``board_id`` unless
    ``is_removable`` is true, for an ad-only Pin)."""
    for key in node.get("required", ()):
        given = key in value and (
            value[key] is not None or bool(follow(properties.get(key, {})).get("nullable"))
        )
        if not given:
            refuse(f"{where}.{key}", "is required")
    exemptions: Mapping[str, Mapping[str, Any]] = node.get("x-required-unless") or {}
    for key, exempt_when in exemptions.items():
        exempt = all(value.get(other) == wanted for other, wanted in exempt_when.items())
        if value.get(key) is None and not exempt:
            terms = " and ".join(
                f"{other} is {msgspec.json.encode(v).decode()}" for other, v in exempt_when.items()
            )
            refuse(f"{where}.{key}", f"is required unless {terms}")


def _unknown_key(key: str, known: list[str]) -> str:
    nearest = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"did you mean {nearest[0]!r}? " if nearest else ""
    return f"is not a known field ({hint}known: {', '.join(sorted(known)) or 'none'})"


def _check_variants(value: Any, node: Schema, variants: Sequence[Schema], where: str) -> None:
    """A ``oneOf``/``anyOf``: the variant its discriminator names, else the first variant that accepts the value."""
    union_keys = frozenset(node.get("properties") or ())
    discriminator = node.get("discriminator")
    if discriminator and isinstance(value, Mapping):
        tag_key = discriminator["propertyName"]
        mapping: Mapping[str, str] = discriminator.get("mapping") or {}
        tag = value.get(tag_key)
        if isinstance(tag, str) and tag in mapping:
            check(value, {"$ref": mapping[tag]}, where, union_keys=union_keys)
            return
        if mapping:
            refuse(f"{where}.{tag_key}", f"{tag!r} is not one of {', '.join(map(repr, mapping))}")
    reasons = []
    for variant in variants:
        try:
            check(value, variant, where, union_keys=union_keys)
        except RequestValidationError as refusal:
            name = variant.get("$ref", variant.get("type", "schema"))
            reasons.append(f"as {name}, {refusal.field}: {refusal.reason}")
        else:
            return
    # The union's own place and what each variant found wrong (the client names the variant that got furthest).
    refuse(where, "matches none of its variants (" + "; ".join(reasons) + ")")


_TYPE_CHECKS: Mapping[str, TypeCheck] = {
    "string": _check_string,
    "integer": _check_integer,
    "number": _check_number,
    "boolean": _check_boolean,
    "array": _check_array,
    "object": _check_object,
}
