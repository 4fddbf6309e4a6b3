"""Response bodies into their types, leniently: a null where the spec promises a value never breaks a call.

The client decodes every body with msgspec straight into its type; only when that fails does
:func:`decode_lenient` run (so the usual path costs nothing extra). It reads the body as plain JSON, removes
each null its type cannot hold, at any depth, and converts the rest:

- a null field: as if the server had left it out, so it takes its default (``None`` for an optional field, the
  empty value for a required one: ``""``, ``0``, ``[]``, an empty struct; see ``Model``);
- a null element of a list (or value of a map) of non-nullable items: dropped, since there is nothing to decode.

Anything else that does not fit its type (a string where a number belongs) still fails, as a
``msgspec.ValidationError`` naming the path, which the client reports as ``ResponseValidationError``.
"""

from __future__ import annotations

import functools
from typing import Any

import msgspec
from msgspec import inspect as mi

_CONTAINERS = (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)


def decode_lenient(content: bytes, response_type: Any) -> Any:
    """Decode ``content`` into ``response_type`` with the nulls it cannot hold taken out.

    Raises ``msgspec.DecodeError`` for what is not JSON and ``msgspec.ValidationError`` for a value that does not
    fit its type for another reason.
    """
    plain = msgspec.json.decode(content)
    return msgspec.convert(without_nulls(plain, _type_info(response_type)), response_type)


@functools.cache
def _type_info(response_type: Any) -> mi.Type:
    return mi.type_info(response_type)


def without_nulls(value: Any, info: mi.Type) -> Any:
    """``value`` (plain JSON) with every null that ``info`` does not allow removed, in place."""
    if isinstance(info, mi.UnionType):
        info = _member_for(value, info)
    if isinstance(value, dict):
        if isinstance(info, (mi.StructType, mi.TypedDictType, mi.DataclassType)):
            _clean_fields(value, info.fields)
        elif isinstance(info, mi.DictType):
            for key in [k for k, v in value.items() if v is None and not _nullable(info.value_type)]:
                del value[key]
            for item in value.values():
                without_nulls(item, info.value_type)
    elif isinstance(value, list) and isinstance(info, _CONTAINERS):
        item_type = info.item_type
        if not _nullable(item_type):
            value[:] = [item for item in value if item is not None]
        for item in value:
            without_nulls(item, item_type)
    return value


def _clean_fields(value: dict[str, Any], fields: tuple[mi.Field, ...]) -> None:
    for field in fields:
        item = value.get(field.encode_name)
        if item is None:
            if field.encode_name in value and not _nullable(field.type) and not field.required:
                del value[field.encode_name]
        else:
            without_nulls(item, field.type)


def _member_for(value: Any, union: mi.UnionType) -> mi.Type:
    """The member of a union that a JSON object or array decodes into (msgspec allows one of each)."""
    if isinstance(value, dict):
        wanted: tuple[type, ...] = (mi.StructType, mi.DictType, mi.TypedDictType, mi.DataclassType)
    elif isinstance(value, list):
        wanted = _CONTAINERS
    else:
        return union
    return next((t for t in union.types if isinstance(t, wanted)), union)


def _nullable(info: mi.Type) -> bool:
    if isinstance(info, mi.UnionType):
        return any(_nullable(t) for t in info.types)
    return isinstance(info, (mi.NoneType, mi.AnyType))
