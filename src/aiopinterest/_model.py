"""The base of every generated struct."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Self, TypeVar

import msgspec

M = TypeVar("M", bound="Model")


class _MissingStr(str):
    __slots__ = ()


class _MissingInt(int):
    __slots__ = ()


class _MissingFloat(float):
    __slots__ = ()


# The defaults of required fields, for a response that leaves one out: empty values of the field's own type (so
# code reads ``pin.id`` with no None check), and objects of their own, so that re-encoding a struct omits exactly
# what the server left out, and never a real "" or 0 it sent (msgspec compares such defaults by identity).
MISSING_STR: Final[str] = _MissingStr("")
MISSING_INT: Final[int] = _MissingInt(0)
MISSING_FLOAT: Final[float] = _MissingFloat(0.0)


def missing_list() -> list[Any]:
    """A required list's default: a factory of our own, since msgspec omits an empty list made by ``list``."""
    return []


def missing_dict() -> dict[str, Any]:
    """A required object's default (see :func:`missing_list`)."""
    return {}


class Model(msgspec.Struct, kw_only=True, omit_defaults=True, repr_omit_defaults=True, gc=False):
    """A Pinterest API object.

    Responses decode leniently: a field the server leaves out, a null where the spec promises a value, or an enum
    value the spec does not list yet never breaks a caller. A field the API always returns is typed without
    ``None`` and falls back to its type's empty value (``""``, ``0``, ``[]``, an empty struct) when missing;
    optional fields default to ``None``. Fields at their default are not encoded.

    Structs that are only sent (request bodies) are strict: required fields must be given, and optional ones
    default to ``msgspec.UNSET`` (``aiopinterest.UNSET``), so that ``None`` can mean JSON null where the spec
    allows it. Every body is checked against the spec before it is sent (:mod:`aiopinterest._validation`).

    ``gc=False``: decoded API objects never form reference cycles, and skipping GC tracking makes decoding large
    pages markedly cheaper.
    """

    def _as_variant(self, tag: object, variants: Mapping[str, type[M]]) -> M | Self:
        """Re-read this object as the variant its discriminator names; itself when the tag is not in the spec."""
        variant = variants.get(tag) if isinstance(tag, str) else None
        if variant is None:
            return self
        return msgspec.convert(msgspec.to_builtins(self), variant)
