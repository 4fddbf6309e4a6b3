"""Reading an incoming request back into the values the client serialised, and checking them against the spec.

This is the inverse of :mod:`aiopinterest._request_builder`: path values arrive percent-decoded, query values as
strings (arrays comma-separated or as repeated keys, objects as ``name[key]=value``), bodies as JSON or a form.
Values are converted per their schema and then checked by the simulator's own checks (:mod:`._spec_checks`,
analytics date windows included), written apart from the client's validator, so that the two can disagree and a
fault in either shows in the tests. A bad request is refused naming the parameter or field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from multidict import MultiMapping

from .._operation import Operation, Parameter
from ..errors import RequestValidationError
from ._analytics import check_analytics_window
from ._spec_checks import Schema, check, follow

_BRACKETS = re.compile(r"\[([^\]]*)\]")


@dataclass(frozen=True, slots=True)
class Call:
    """One validated API request: its operation and its arguments as plain JSON values."""

    operation: Operation
    origin: str  # scheme://host:port the request came to, for URLs in responses
    path: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None


def parse_call(
    operation: Operation,
    origin: str,
    path: Mapping[str, str],
    query: MultiMapping[str],
    body: bytes,
    content_type: str,
) -> Call:
    """Convert and validate every parameter and the body; raise :class:`RequestValidationError` on the first fault."""
    path_values: dict[str, Any] = {}
    query_values: dict[str, Any] = {}
    for parameter in operation.parameters:
        if parameter.location == "path":
            raw: Any = path.get(parameter.name)
            value = None if raw is None else _convert(raw, parameter.schema, parameter.name)
            target = path_values
        else:
            value = _query_value(parameter, query)
            target = query_values
        if value is None:
            if parameter.required:
                raise RequestValidationError(parameter.name, "is required")
            continue
        check(value, parameter.schema, parameter.name)
        target[parameter.name] = value
    # The dates the API refuses although the schema allows them (more than 90 days back, a span over 90 days).
    check_analytics_window(operation, query_values)
    return Call(operation, origin, path_values, query_values, _body(operation, body, content_type))


def _query_value(parameter: Parameter, query: MultiMapping[str]) -> Any:
    name = parameter.name
    schema = follow(parameter.schema)
    if parameter.deep_object:
        return _deep_object(name, schema, query)
    values = query.getall(name, [])
    if not values:
        return None
    if schema.get("type") == "array":
        if not parameter.explode:
            values = [part for value in values for part in value.split(",")]
        items: Schema = schema.get("items") or {}
        return [_convert(value, items, f"{name}[{index}]") for index, value in enumerate(values)]
    if len(values) > 1:
        raise RequestValidationError(name, "was given more than once")
    return _convert(values[0], schema, name)


def _deep_object(name: str, schema: Schema, query: MultiMapping[str]) -> dict[str, Any] | None:
    """``name[a]=1&name[b][c]=2`` as ``{"a": 1, "b": {"c": 2}}``, leaves converted per their schema."""
    result: dict[str, Any] = {}
    for key, text in query.items():
        if not key.startswith(name + "["):
            continue
        keys = _BRACKETS.findall(key[len(name) :])
        target, node, path = result, schema, name
        for inner in keys[:-1]:
            node = follow((node.get("properties") or {}).get(inner, {}))
            path = f"{path}.{inner}"
            target = target.setdefault(inner, {})
        leaf = keys[-1]
        target[leaf] = _convert(text, (node.get("properties") or {}).get(leaf, {}), f"{path}.{leaf}")
    return result or None


def _convert(text: str, schema: Schema, name: str) -> Any:
    """A query, path or form value from its text to the JSON type its schema declares."""
    kind = follow(schema).get("type")
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise RequestValidationError(name, f"expected an integer, got {text!r}") from None
    if kind == "number":
        try:
            return float(text)
        except ValueError:
            raise RequestValidationError(name, f"expected a number, got {text!r}") from None
    if kind == "boolean":
        if text in ("true", "false"):
            return text == "true"
        raise RequestValidationError(name, f"expected true or false, got {text!r}")
    return text


def _form_fields(node: Schema, form: Mapping[str, str]) -> Mapping[str, Schema]:
    """The fields a form body may carry: the schema's own, and those of the variant its discriminator names by
    the form's tag (a form's values are text, converted by these)."""
    own: Mapping[str, Schema] = node.get("properties") or {}
    discriminator = node.get("discriminator")
    if not discriminator:
        return own
    variant = (discriminator.get("mapping") or {}).get(form.get(discriminator["propertyName"], ""))
    if variant is None:
        return own
    return {**own, **(follow({"$ref": variant}).get("properties") or {})}


def _body(operation: Operation, content: bytes, content_type: str) -> Any:
    if operation.body is None:
        if content.strip():
            raise RequestValidationError("body", f"{operation.operation_id} takes no request body")
        return None
    if not content.strip():
        if operation.body_required:
            raise RequestValidationError("body", "is required")
        return None
    if content_type == "application/x-www-form-urlencoded":
        form = dict(parse_qsl(content.decode("utf-8", "replace"), keep_blank_values=True))
        properties = _form_fields(follow({"$ref": operation.body}), form)
        body: Any = {
            key: _convert(value, properties.get(key, {}), f"body.{key}") for key, value in form.items()
        }
    else:
        try:
            body = msgspec.json.decode(content)
        except msgspec.DecodeError:
            raise RequestValidationError("body", "is not valid JSON") from None
    check(body, {"$ref": operation.body}, "body")
    return body
