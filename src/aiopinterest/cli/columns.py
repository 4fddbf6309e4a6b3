"""Flat, typed columns for CSV and Parquet, from the spec's schema (the generated structs' fields).

A nested struct becomes its fields with dotted names (``media.media_type``, ``board_owner.username``), down to
:data:`MAX_DEPTH`; arrays, free-form objects and unions of several kinds are one column holding their JSON text.
Every column says its type: ``string``, ``int``, ``float``, ``bool`` or ``json``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import msgspec
from msgspec import inspect

ColumnType = Literal["string", "int", "float", "bool", "json"]
MAX_DEPTH: Final = 3
_SCALARS: Final[Mapping[type[inspect.Type], ColumnType]] = {
    inspect.StrType: "string",
    inspect.LiteralType: "string",
    inspect.IntType: "int",
    inspect.FloatType: "float",
    inspect.BoolType: "bool",
}


@dataclass(frozen=True, slots=True)
class Column:
    """One output column: ``name`` as written, ``path`` of keys into the decoded item, its ``type``, and the
    parent id to use when the item has no value (``fallback``: a key of the parent's context)."""

    name: str
    path: tuple[str, ...]
    type: ColumnType
    fallback: str | None = None


def struct_columns(item_type: Any) -> list[Column]:
    """The columns of a struct type, in field order."""
    return list(_columns(inspect.type_info(item_type), (), 0))


def _columns(info: inspect.Type, prefix: tuple[str, ...], depth: int) -> Sequence[Column]:
    info = _without_none(info)
    if isinstance(info, inspect.StructType) and depth < MAX_DEPTH:
        return [
            column
            for field in info.fields
            for column in _columns(field.type, (*prefix, field.encode_name), depth + 1)
        ]
    return [Column(".".join(prefix), prefix, _scalar_type(info))]


def _without_none(info: inspect.Type) -> inspect.Type:
    if isinstance(info, inspect.UnionType):
        members = [member for member in info.types if not isinstance(member, inspect.NoneType)]
        if len(members) == 1:
            return members[0]
        if all(isinstance(member, (inspect.LiteralType, inspect.StrType)) for member in members):
            return inspect.StrType()  # an enum with the lenient fallback to any string
        return inspect.UnionType(tuple(members))
    return info


def _scalar_type(info: inspect.Type) -> ColumnType:
    return _SCALARS.get(type(info), "json")


def declared_columns(columns: Sequence[tuple[str, str]]) -> list[Column]:
    """Columns declared by a stream for free-form items: dotted names are paths into nested objects."""
    return [Column(name, tuple(name.split(".")), _checked_type(kind)) for name, kind in columns]


def _checked_type(kind: str) -> ColumnType:
    if kind not in ("string", "int", "float", "bool", "json"):
        raise ValueError(f"unknown column type {kind!r}")
    return kind  # type: ignore[return-value]


def with_parent_fields(columns: list[Column], parent_fields: Mapping[str, str]) -> list[Column]:
    """The columns with each parent field falling back to the parent's id; fields the schema lacks come first."""
    names = {column.name for column in columns}
    added = [
        Column(field, (field,), "string", context)
        for field, context in parent_fields.items()
        if field not in names
    ]
    fallbacks = {field: context for field, context in parent_fields.items() if field in names}
    updated = [
        Column(column.name, column.path, column.type, fallbacks[column.name])
        if column.name in fallbacks
        else column
        for column in columns
    ]
    return added + updated


def row_reader(columns: Sequence[Column]) -> Callable[[Mapping[str, Any], Mapping[str, str]], list[Any]]:
    """A function from a decoded item (plain JSON objects) and its parent's context to the row of values.

    Values are converted to the column's type where JSON allows two readings (an integral float), and JSON
    columns hold the value's JSON text; a missing value is ``None``.
    """
    encode = msgspec.json.encode

    def read(item: Mapping[str, Any], context: Mapping[str, str]) -> list[Any]:
        row: list[Any] = []
        for column in columns:
            value: Any = item
            for key in column.path:
                value = value.get(key) if isinstance(value, dict) else None
                if value is None:
                    break
            if value is None and column.fallback is not None:
                value = context.get(column.fallback)
            row.append(_convert(value, column.type, encode))
        return row

    return read


def _convert(value: Any, kind: ColumnType, encode: Callable[[Any], bytes]) -> Any:
    if value is None:
        return None
    if kind == "json":
        return encode(value).decode()
    if kind == "string":
        return value if isinstance(value, str) else encode(value).decode()
    if kind == "float":
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if kind == "int":
        return value if isinstance(value, int) and not isinstance(value, bool) else _integral(value)
    return value if isinstance(value, bool) else None


def _integral(value: Any) -> int | None:
    return int(value) if isinstance(value, float) and value.is_integer() else None
