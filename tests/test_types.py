"""Types users can rely on, bad input refused before sending, and lenient decoding at any depth (issue 14)."""

from __future__ import annotations

import contextlib
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

# The spec's schemas, read to enumerate cases (fields, nullable fields), never to check what a test asserts.
from aiopinterest._validation import resolve, schema_table
from aiopinterest.errors import RequestValidationError, ResponseValidationError
from aiopinterest.testing._synthesis import Synthesiser

PIN_WITH_NULLS = {
    "id": None,
    "title": None,
    "created_at": "2026-11-30T08:15:00",
    "board_owner": None,
    "media": {"media_type": "multiple_images", "items": [None, {"title": "second"}]},
}


class Recorder:
    """A loopback API answering every request with ``answer`` (a Pin by default); keeps each JSON body it got."""

    def __init__(self) -> None:
        self.bodies: list[object] = []
        self.answer: object = {"id": "1"}
        self.base_url = ""

    async def handle(self, request: web.Request) -> web.Response:
        content = await request.read()
        self.bodies.append(json.loads(content) if content else None)
        return web.json_response(self.answer)


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    recorder = Recorder()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recorder.handle)
    async with TestServer(app, host="127.0.0.1") as server:
        recorder.base_url = str(server.make_url("/v5"))
        yield recorder


@pytest.fixture
async def client(recorder: Recorder) -> AsyncIterator[aiopinterest.Client]:
    async with aiopinterest.Client(access_token="t", base_url=recorder.base_url) as client:
        yield client


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


async def test_a_null_element_in_a_list_of_structs_is_dropped_at_any_depth(
    recorder: Recorder, client: aiopinterest.Client
) -> None:
    # What Prism's dynamic mock answered on product_group_promotions/create.
    recorder.answer = {"items": [{"exceptions": [None, {"code": 2, "message": "m"}]}, None]}
    with pytest.raises(msgspec.ValidationError, match=r"\$\.items\[0\]\.exceptions\[0\]"):
        msgspec.json.decode(json.dumps(recorder.answer), type=models.ProductGroupPromotionResponse)
    decoded = await client.product_group_promotions.create(
        ad_account_id="1", ad_group_id="2", product_group_promotion=[{"catalog_product_group_name": "g"}]
    )
    assert [[e.code for e in item.exceptions or []] for item in decoded.items or []] == [[2]]


async def test_a_value_of_the_wrong_type_still_fails_naming_its_path(
    recorder: Recorder, client: aiopinterest.Client
) -> None:
    recorder.answer = {"id": "1", "pin_count": "many"}
    with pytest.raises(ResponseValidationError) as caught:
        await client.boards.get(board_id="1")
    assert caught.value.field == "$.pin_count"


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


async def test_a_union_field_takes_each_variant_struct(
    recorder: Recorder, client: aiopinterest.Client
) -> None:
    source = models.PinMediaSourceImageURL(source_type="image_url", url="https://example.com/a.jpg")
    await client.pins.create(body=models.PinCreate(board_id="1", media_source=source))
    assert recorder.bodies == [
        {
            "board_id": "1",
            "media_source": {"source_type": "image_url", "url": "https://example.com/a.jpg"},
        }
    ]


# -- "not given" and null -------------------------------------------------------------------------------------


async def test_none_clears_a_nullable_field_and_unset_leaves_it_out_in_keyword_and_struct_form(
    recorder: Recorder, client: aiopinterest.Client
) -> None:
    await client.pins.update(pin_id="1", alt_text=None, title="New", link=UNSET)
    await client.pins.update(pin_id="1", body=models.PinUpdate(alt_text=None, title="New"))
    keyword, struct = recorder.bodies
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
async def test_every_nullable_body_field_is_sent_as_null_in_keyword_and_struct_form(
    recorder: Recorder, client: aiopinterest.Client, operation_id: str, struct: str, field: str, in_list: bool
) -> None:
    operation = OPERATIONS[operation_id]
    method = getattr(getattr(client, operation.namespace), operation.name)
    path = {p.name: "1" for p in operation.parameters if p.location == "path"}
    given = {**Synthesiser().model(struct), field: None}
    as_struct = msgspec.convert(given, getattr(models, struct), str_keys=True)
    # The recorder answers a Pin whatever the operation: what was sent is all this test looks at.
    with contextlib.suppress(ResponseValidationError):
        await method(**path, body=[as_struct] if in_list else as_struct)
    if not in_list:
        with contextlib.suppress(ResponseValidationError):
            await method(**path, **given)
    sent = recorder.bodies
    assert (sent[0][0] if in_list else sent[0])[field] is None  # null on the wire, not left out
    if not in_list:
        assert sent[1] == sent[0]


async def test_none_is_refused_where_the_spec_does_not_allow_null(
    recorder: Recorder, client: aiopinterest.Client
) -> None:
    with pytest.raises(RequestValidationError, match=r"body\.board_id: must not be null"):
        await client.pins.update(pin_id="1", body={"board_id": None})
    assert recorder.bodies == []  # refused before sending


# -- bad input ------------------------------------------------------------------------------------------------


async def test_an_unknown_body_field_is_refused_naming_the_closest_valid_one(
    recorder: Recorder, client: aiopinterest.Client
) -> None:
    source = {"source_type": "image_url", "url": "https://example.com/a.jpg"}
    with pytest.raises(RequestValidationError) as caught:
        await client.pins.create(body={"board_id": "1", "media_source": source, "titel": "x"})
    assert caught.value.field == "body.titel"
    assert "is not a known field (did you mean 'title'?" in str(caught.value)
    closest = r"body\.descripton: is not a known field \(did you mean 'description'"
    with pytest.raises(RequestValidationError, match=closest):
        await client.boards.create(body={"name": "Recipes", "descripton": "x"})
    assert recorder.bodies == []


@pytest.mark.parametrize(
    ("start_date", "end_date", "field"),
    [("2026-13-01", "2026-12-01", "start_date"), ("2026-11-30", "2026-11-01", "end_date")],
)
async def test_dates_are_checked_and_ordered(
    recorder: Recorder, client: aiopinterest.Client, start_date: str, end_date: str, field: str
) -> None:
    with pytest.raises(RequestValidationError) as caught:
        await client.pins.analytics(
            pin_id="1", start_date=start_date, end_date=end_date, metric_types=["IMPRESSION"]
        )
    assert caught.value.field == field
    assert recorder.bodies == []


def test_date_time_and_uri_formats_are_checked_in_bodies() -> None:
    # Unit test of the internal checker: no request field of spec 5.23 has these formats, so no call reaches them.
    from aiopinterest._validation import validate

    validate("2026-11-30T08:15:00Z", {"type": "string", "format": "date-time"}, "at")
    validate("https://example.com/a", {"type": "string", "format": "uri"}, "url")
    with pytest.raises(RequestValidationError, match="at: 'yesterday' is not a valid date-time"):
        validate("yesterday", {"type": "string", "format": "date-time"}, "at")
    with pytest.raises(RequestValidationError, match="is not a valid uri"):
        validate("example.com/a b", {"type": "string", "format": "uri"}, "url")


async def test_a_pin_needs_media_and_a_board_unless_it_is_ad_only(
    recorder: Recorder, client: aiopinterest.Client
) -> None:
    source = {"source_type": "image_url", "url": "https://example.com/a.jpg"}
    with pytest.raises(RequestValidationError, match=r"body\.media_source: is required"):
        await client.pins.create(board_id="1")
    with pytest.raises(
        RequestValidationError, match=r"body\.board_id: is required unless is_removable is true"
    ):
        await client.pins.create(media_source=source)
    assert recorder.bodies == []
    await client.pins.create(media_source=source, is_removable=True)
    assert recorder.bodies == [{"media_source": source, "is_removable": True}]


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
