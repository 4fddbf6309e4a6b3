"""The generator's contracts: naming, the operation table, models by schema name, reproducible output."""

from __future__ import annotations

import inspect
import subprocess
import sys
import typing

import msgspec
import pytest

import aiopinterest
from aiopinterest import OPERATIONS, models
from aiopinterest._validation import resolve
from codegen import source
from codegen.__main__ import render
from codegen.operations import method_name


@pytest.mark.parametrize(
    ("operation_id", "tag", "expected"),
    [
        ("pins/get", "pins", "get"),
        ("boards/list_pins", "boards", "list_pins"),
        ("board_sections/list_pins", "boards", "sections_list_pins"),
        ("multi_pins/analytics", "pins", "multi_pins_analytics"),
        ("user_account/analytics/top_video_pins", "user_account", "analytics_top_video_pins"),
        ("media/create", "media", "create"),
    ],
)
def test_naming_rule(operation_id: str, tag: str, expected: str) -> None:
    assert method_name(operation_id, tag) == expected


def test_every_operation_is_a_method_with_a_distinct_name() -> None:
    assert len(OPERATIONS) == 231
    names = {(op.namespace, op.name) for op in OPERATIONS.values()}
    assert len(names) == 231
    client = aiopinterest.Client(access_token="unused")
    for op in OPERATIONS.values():
        method = getattr(getattr(client, op.namespace), op.name)
        assert callable(method), op.operation_id
        assert inspect.iscoroutinefunction(method) != op.paginated, op.operation_id


def test_operation_records() -> None:
    op = OPERATIONS["boards/list_pins"]
    assert (op.operation_id, op.method, op.path) == ("boards/list_pins", "GET", "/boards/{board_id}/pins")
    assert (op.namespace, op.name, op.ratelimit_category) == ("boards", "list_pins", "org_read")
    assert "pins:read" in op.scopes
    assert op.paginated and op.item == "Pin" and op.max_page_size == 250
    assert sum(o.paginated for o in OPERATIONS.values()) == 56
    assert OPERATIONS["pins/get"].response_type is models.Pin
    assert OPERATIONS["pins/create"].body_type is models.PinCreate
    categories = {o.ratelimit_category for o in OPERATIONS.values()}
    assert len(categories) == 13
    arrays = [
        p for o in OPERATIONS.values() for p in o.parameters if resolve(p.schema).get("type") == "array"
    ]
    assert len([p for p in arrays if not p.explode]) == 26


def test_signature_is_keyword_only_and_typed() -> None:
    from aiopinterest._generated.resources.pins import PinsResource

    signature = inspect.signature(PinsResource.get)
    parameters = list(signature.parameters.values())[1:]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters)
    assert signature.parameters["pin_id"].default is inspect.Parameter.empty
    assert signature.parameters["pin_metrics"].default is msgspec.UNSET
    hints = typing.get_type_hints(PinsResource.get)
    assert hints["return"] is models.Pin
    assert hints["pin_id"] is str


def test_every_component_schema_is_importable_by_name() -> None:
    try:
        spec = source.load(source.locate(download=False))
    except source.SpecNotFound as exc:
        pytest.skip(str(exc))
    names = list(spec["components"]["schemas"])
    assert len(names) == 727
    dotted = {"Pinterest.Lib.Error": "Error", "Pinterest.Lib.PaginationOrder": "PaginationOrder"}
    for name in names:
        exported = dotted.get(name, name.rsplit(".", 1)[-1])
        assert hasattr(models, exported), name
    assert issubclass(models.Pin, msgspec.Struct)


def test_responses_decode_leniently_and_requests_keep_renamed_fields() -> None:
    pin = msgspec.json.decode(
        b'{"id": "1", "creative_type": "HOLOGRAM", "board_id": null, "unknown": {"a": 1},'
        b' "media": {"media_type": "image", "images": {"150x150": {"width": 150}}}}',
        type=models.Pin,
    )
    assert pin.creative_type == "HOLOGRAM"
    assert pin.media is not None and pin.media.images is not None
    assert pin.media.images.x150x150 is not None and pin.media.images.x150x150.width == 150
    assert (
        msgspec.json.encode(models.ImageSize(x150x150=models.ImageDetails(width=1)))
        == b'{"150x150":{"width":1}}'
    )


def test_generated_code_is_reproducible_and_committed() -> None:
    """`make generate` twice gives the same bytes, and they are the ones committed."""
    try:
        first = render()
    except source.SpecNotFound as exc:
        pytest.skip(str(exc))
    assert render() == first
    result = subprocess.run(
        [sys.executable, "-m", "codegen", "check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_variant_follows_every_discriminator_mapping() -> None:
    from aiopinterest._validation import schema_table

    checked = 0
    for name, node in schema_table().items():
        discriminator = node.get("discriminator")
        model = getattr(models, name)
        if not discriminator or not hasattr(model, "variant"):
            continue
        field = discriminator["propertyName"]
        for tag, target in discriminator["mapping"].items():
            value = msgspec.convert({field: tag}, model)
            assert type(value.variant()) is getattr(models, target), (name, tag)
            checked += 1
        unknown = msgspec.convert({field: "A_TAG_FROM_THE_FUTURE"}, model)
        assert unknown.variant() is unknown
    # The discriminated unions the client decodes; a request-only union is built from its variant instead.
    assert checked >= 40
