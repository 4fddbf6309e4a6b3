"""Types users can rely on, bad input refused before sending, and lenient decoding at any depth (issue 14)."""

from __future__ import annotations

import datetime
import json
import typing
from collections.abc import AsyncIterator

import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

import aiopinterest
from aiopinterest import OPERATIONS, UNSET, models
from aiopinterest._decoding import decode_lenient
from aiopinterest._request_builder import build_request
from aiopinterest._validation import resolve, schema_table
from aiopinterest.errors import RequestValidationError

PIN_WITH_NULLS = {
    "id": None,
    "title": None,
    "created_at": "2026-11-30T08:15:00",
    "board_owner": None,
    "media": {"media_type": "multiple_images", "items": [None, {"title": "second"}]},
}


def body(operation_id: str, **kwargs: object) -> dict[str, object]:
    prepared = build_request(OPERATIONS[operation_id], **kwargs)  # type: ignore[arg-type]
    assert prepared.body is not None
    result: dict[str, object] = json.loads(prepared.body)
    return result


# -- types ----------------------------------------------------------------------------------------------------


def test_fields_the_api_always_returns_are_typed_without_none() -> None:
    hints = typing.get_type_hints(models.Board)
    assert hints["id"] is str and hints["name"] is str
    assert typing.get_type_hints(models.Pin)["id"] is str
    assert hints["owner"] == models.BoardOwner | None  # was Any: the spec names BoardOwner
    assert hints["created_at"] == datetime.datetime | None


# Keywords that say nothing of a value's type: a schema of only these is untyped, and Any is right for it.
_TYPELESS = {"nullable", "readOnly", "default", "example", "title", "description"}


def _property_schemas(node: dict[str, typing.Any], found: dict[str, list[dict[str, typing.Any]]]) -> None:
    """Every schema each property of a struct has: its own, and for a union, each variant's."""
    for name, schema in (node.get("properties") or {}).items():
        found.setdefault(name, []).append(schema)
    for member in node.get("oneOf") or node.get("anyOf") or []:
        _property_schemas(resolve(member), found)


def test_no_field_is_any_where_the_spec_gives_it_a_schema() -> None:
    untyped = []
    for name, node in schema_table().items():
        struct = getattr(models, name, None)
        if not (isinstance(struct, type) and issubclass(struct, msgspec.Struct)):
            continue
        schemas: dict[str, list[dict[str, typing.Any]]] = {}
        _property_schemas(dict(node), schemas)
        for field in msgspec.structs.fields(struct):
            of_field = schemas.get(field.encode_name, [])
            typed = any(set(resolve(s)) - _TYPELESS for s in of_field)
            typed_items = any(set(resolve(s).get("items") or {}) - _TYPELESS for s in of_field)
            members = typing.get_args(field.type)
            lists = [m for m in members if typing.get_origin(m) is list] or [field.type]
            any_items = any(
                typing.get_args(m) == (typing.Any,) for m in lists if typing.get_origin(m) is list
            )
            if (field.type is typing.Any and typed) or (any_items and typed_items):
                untyped.append(f"{name}.{field.encode_name}")
    assert untyped == []


def test_a_response_missing_a_required_field_decodes_and_re_encodes_without_inventing_it() -> None:
    board = msgspec.json.decode(b'{"name": "Recipes"}', type=models.Board)
    assert board.id == "" and isinstance(board.id, str)
    assert msgspec.json.decode(msgspec.json.encode(board)) == {"name": "Recipes"}
    # A real empty value the server sent is kept, unlike the marker of a missing one.
    sent = msgspec.json.decode(b'{"id": "", "name": "Recipes"}', type=models.Board)
    assert msgspec.json.decode(msgspec.json.encode(sent)) == {"id": "", "name": "Recipes"}
    issue = msgspec.json.decode(b'{"item_number": 0, "errors": {}}', type=models.CatalogsItemValidationIssues)
    assert msgspec.json.decode(msgspec.json.encode(issue))["item_number"] == 0


def test_dates_decode_as_datetime() -> None:
    pin = msgspec.json.decode(b'{"id": "1", "created_at": "2026-11-30T08:15:00"}', type=models.Pin)
    assert pin.created_at == datetime.datetime(2026, 11, 30, 8, 15)
    # format: date, as datetime.date
    analytics = msgspec.json.decode(b'{"DATE": "2026-11-30"}', type=models.AdPinAnalytics)
    assert analytics.DATE == datetime.date(2026, 11, 30) and type(analytics.DATE) is datetime.date


def test_a_null_element_in_a_list_of_structs_is_dropped_at_any_depth() -> None:
    # What Prism's dynamic mock answered on product_group_promotions/create.
    content = b'{"items": [{"exceptions": [null, {"code": 2, "message": "m"}]}, null]}'
    response_type = OPERATIONS["product_group_promotions/create"].response_type
    with pytest.raises(msgspec.ValidationError, match=r"\$\.items\[0\]\.exceptions\[0\]"):
        msgspec.json.decode(content, type=response_type)
    decoded = decode_lenient(content, response_type)
    assert [[e.code for e in item.exceptions or []] for item in decoded.items] == [[2]]


def test_a_value_of_the_wrong_type_still_fails_naming_its_path() -> None:
    with pytest.raises(msgspec.ValidationError, match=r"\$\.pin_count"):
        decode_lenient(b'{"id": "1", "pin_count": "many"}', models.Board)


@pytest.fixture
async def server_of_nulls() -> AsyncIterator[str]:
    async def pin(request: web.Request) -> web.Response:
        return web.json_response(PIN_WITH_NULLS)

    app = web.Application()
    app.router.add_get("/v5/pins/{pin_id}", pin)
    async with TestServer(app, host="127.0.0.1") as server:
        yield str(server.make_url("/v5"))


async def test_the_client_decodes_unexpected_nulls_at_any_depth(server_of_nulls: str) -> None:
    async with aiopinterest.Client(access_token="t", base_url=server_of_nulls) as client:
        pin = await client.pins.get(pin_id="1")
    assert pin.id == "" and pin.title is None and pin.board_owner is None
    assert pin.media is not None and [item.title for item in pin.media.items or []] == ["second"]


def test_a_union_field_takes_each_variant_struct() -> None:
    source = models.PinMediaSourceImageURL(source_type="image_url", url="https://example.com/a.jpg")
    sent = body("pins/create", body=models.PinCreate(board_id="1", media_source=source))
    assert sent == {
        "board_id": "1",
        "media_source": {"source_type": "image_url", "url": "https://example.com/a.jpg"},
    }


# -- "not given" and null -------------------------------------------------------------------------------------


def test_none_clears_a_nullable_field_and_unset_leaves_it_out_in_keyword_and_struct_form() -> None:
    from aiopinterest._resource import Resource

    operation = OPERATIONS["pins/update"]
    fields = {"alt_text": None, "title": "New", "link": UNSET}
    keyword = body("pins/update", path={"pin_id": "1"}, body=Resource._body(operation, None, fields))
    struct = body("pins/update", path={"pin_id": "1"}, body=models.PinUpdate(alt_text=None, title="New"))
    assert keyword == struct == {"alt_text": None, "title": "New"}


def _nullable_body_fields() -> list[tuple[str, str, str, bool]]:
    """(operation, struct, field, whether the body is a list of that struct) for every nullable field a request
    body carries at its top level or in its items."""
    found = []
    for operation in OPERATIONS.values():
        if operation.body is None:
            continue
        node = resolve({"$ref": operation.body})
        in_list = node.get("type") == "array" and "$ref" in (node.get("items") or {})
        struct = node["items"]["$ref"] if in_list else operation.body
        for name, schema in (resolve({"$ref": struct}).get("properties") or {}).items():
            if resolve(schema).get("nullable"):
                found.append((operation.operation_id, struct, name, in_list))
    return found


@pytest.mark.parametrize(("operation_id", "struct", "field", "in_list"), _nullable_body_fields())
def test_every_nullable_body_field_is_sent_as_null_in_keyword_and_struct_form(
    operation_id: str, struct: str, field: str, in_list: bool
) -> None:
    from aiopinterest._resource import Resource
    from aiopinterest.testing._synthesis import Synthesiser

    operation = OPERATIONS[operation_id]
    path = {p.name: "1" for p in operation.parameters if p.location == "path"}
    given = {**Synthesiser().model(struct), field: None}
    as_struct = msgspec.convert(given, getattr(models, struct), str_keys=True)
    sent = body(operation_id, path=path, body=[as_struct] if in_list else as_struct)
    assert (sent[0] if in_list else sent)[field] is None  # null on the wire, not left out
    if not in_list:
        assert body(operation_id, path=path, body=Resource._body(operation, None, given)) == sent


def test_none_is_refused_where_the_spec_does_not_allow_null() -> None:
    with pytest.raises(RequestValidationError, match=r"body\.board_id: must not be null"):
        build_request(OPERATIONS["pins/update"], path={"pin_id": "1"}, body={"board_id": None})


# -- bad input ------------------------------------------------------------------------------------------------


def test_an_unknown_body_field_is_refused_naming_the_closest_valid_one() -> None:
    source = {"source_type": "image_url", "url": "https://example.com/a.jpg"}
    with pytest.raises(RequestValidationError) as caught:
        build_request(OPERATIONS["pins/create"], body={"board_id": "1", "media_source": source, "titel": "x"})
    assert caught.value.field == "body.titel"
    assert "is not a known field (did you mean 'title'?" in str(caught.value)
    closest = r"body\.descripton: is not a known field \(did you mean 'description'"
    with pytest.raises(RequestValidationError, match=closest):
        build_request(OPERATIONS["boards/create"], body={"name": "Recipes", "descripton": "x"})


@pytest.mark.parametrize(
    ("operation_id", "query", "field"),
    [
        ("pins/analytics", {"start_date": "2026-13-01", "end_date": "2026-12-01"}, "start_date"),
        ("pins/analytics", {"start_date": "2026-11-30", "end_date": "2026-11-01"}, "end_date"),
    ],
)
def test_dates_are_checked_and_ordered(operation_id: str, query: dict[str, object], field: str) -> None:
    base = {"metric_types": ["IMPRESSION"], **query}
    with pytest.raises(RequestValidationError) as caught:
        build_request(OPERATIONS[operation_id], path={"pin_id": "1"}, query=base)
    assert caught.value.field == field


def test_date_time_and_uri_formats_are_checked_in_bodies() -> None:
    from aiopinterest._validation import validate

    validate("2026-11-30T08:15:00Z", {"type": "string", "format": "date-time"}, "at")
    validate("https://example.com/a", {"type": "string", "format": "uri"}, "url")
    with pytest.raises(RequestValidationError, match="at: 'yesterday' is not a valid date-time"):
        validate("yesterday", {"type": "string", "format": "date-time"}, "at")
    with pytest.raises(RequestValidationError, match="is not a valid uri"):
        validate("example.com/a b", {"type": "string", "format": "uri"}, "url")


def test_a_pin_needs_media_and_a_board_unless_it_is_ad_only() -> None:
    create = OPERATIONS["pins/create"]
    source = {"source_type": "image_url", "url": "https://example.com/a.jpg"}
    with pytest.raises(RequestValidationError, match=r"body\.media_source: is required"):
        build_request(create, body={"board_id": "1"})
    with pytest.raises(
        RequestValidationError, match=r"body\.board_id: is required unless is_removable is true"
    ):
        build_request(create, body={"media_source": source})
    build_request(create, body={"media_source": source, "is_removable": True})


async def test_a_bookmark_or_page_size_of_the_wrong_type_is_a_validation_error() -> None:
    client = aiopinterest.Client(access_token="unused")
    with pytest.raises(RequestValidationError) as caught:
        client.boards.list_pins(board_id="1", bookmark=42)  # type: ignore[arg-type]
    assert caught.value.field == "bookmark"
    with pytest.raises(RequestValidationError) as caught:
        client.boards.list_pins(board_id="1", page_size="10")  # type: ignore[arg-type]
    assert caught.value.field == "page_size"
    with pytest.raises(RequestValidationError, match="page_size"):
        client.boards.list_pins(board_id="1", page_size=1000)
    await client.close()
