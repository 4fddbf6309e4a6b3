"""Items as JSON text: splitting a response into its items without decoding them, and adding parent ids.

Every item is written as the API sent it (a ``msgspec.Raw`` slice of the response). Where an item lacks a
field its parent knows (a board section's ``board_id``), the field is put in front of the item's own fields;
nothing else of the item is touched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import msgspec

from .streams import Shape


class _Items(msgspec.Struct):
    items: list[msgspec.Raw] | None = None


class _Daily(msgspec.Struct):
    daily_metrics: list[msgspec.Raw] | None = None


class _DailyBySplit(msgspec.Struct):
    all: _Daily | None = None


_DECODERS: dict[Shape, msgspec.json.Decoder[Any]] = {
    "items": msgspec.json.Decoder(_Items),
    "rows": msgspec.json.Decoder(list[msgspec.Raw]),
    "daily": msgspec.json.Decoder(_DailyBySplit),
    "daily_by_id": msgspec.json.Decoder(dict[str, _DailyBySplit]),
}


def split(shape: Shape, content: bytes) -> list[bytes]:
    """The items of one (non-paginated) response body, each as its JSON text."""
    if shape == "object":
        return [content.strip()] if content.strip() not in (b"", b"null") else []
    if shape == "pages":
        raise ValueError("paginated responses are split by the paginator")
    value = _DECODERS[shape].decode(content)
    if shape == "items":
        return [bytes(item) for item in value.items or ()]
    if shape == "rows":
        return [bytes(item) for item in value]
    if shape == "daily":
        return _days(value)
    return [with_field(day, "pin_id", pin_id) for pin_id, split_ in value.items() for day in _days(split_)]


def _days(value: _DailyBySplit | None) -> list[bytes]:
    if value is None or value.all is None:
        return []
    return [bytes(day) for day in value.all.daily_metrics or ()]


def with_parent_fields(
    records: list[bytes], fields: Mapping[str, str], context: Mapping[str, str]
) -> list[bytes]:
    """``records`` with each ``field`` an item lacks at its top level set to the parent id ``context[key]``."""
    for field, key in fields.items():
        value = context.get(key)
        if value is not None:
            present = has_fields(records, field)
            records = [
                record if has else with_field(record, field, value)
                for record, has in zip(records, present, strict=True)
            ]
    return records


def has_fields(records: list[bytes], field: str) -> list[bool]:
    """Whether each JSON object of ``records`` has ``field`` at its top level (with any value, null included).

    An item that does not even contain the field's name is answered without parsing; the others are parsed
    reading that key only.
    """
    needle, decode = _probe(field)
    return [needle in record and decode(record).value is not msgspec.UNSET for record in records]


def has_field(record: bytes, field: str) -> bool:
    """:func:`has_fields` for one record."""
    return has_fields([record], field)[0]


def with_field(record: bytes, field: str, value: str) -> bytes:
    """``{"field": value, ...the record's own fields}``."""
    body = record.lstrip()[1:]
    separator = b"" if body.lstrip().startswith(b"}") else b","
    return b"{" + msgspec.json.encode(field) + b":" + msgspec.json.encode(value) + separator + body


@cache
def _probe(field: str) -> tuple[bytes, Callable[[bytes], Any]]:
    # One struct per field name: decoding it reads that key only and skips every other value.
    probe = msgspec.defstruct("_Probe", [("value", Any, msgspec.field(default=msgspec.UNSET, name=field))])
    return msgspec.json.encode(field), msgspec.json.Decoder(probe).decode
