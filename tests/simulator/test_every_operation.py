"""Every operation of the spec, called through ``aiopinterest.Client`` with minimal valid arguments, answers a
decoded 2xx from the simulator.

Arguments come from the simulator's synthesiser (required parameters and required body fields only); ids that
the organic store checks are replaced by real ones created first.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import aiohttp
import msgspec
import pytest

import aiopinterest
from aiopinterest import OPERATIONS, Operation

# The client's validator, on purpose: the synthesiser builds values with the simulator's own checks, so these
# tests also show that the two independent implementations agree.
from aiopinterest._validation import validate
from aiopinterest.errors import RequestValidationError
from aiopinterest.testing import PinterestSimulator, Synthesiser

IMAGE = {"source_type": "image_url", "url": "https://example.com/cat.jpg"}
_TODAY = datetime.datetime.now(datetime.UTC).date()
# Analytics dates must lie within the last 90 days (8 with granularity HOUR); the client checks before sending.
DATES = {"start_date": str(_TODAY - datetime.timedelta(days=5)), "end_date": str(_TODAY)}
# Deleting comes last, innermost first, so nothing else loses the objects it needs.
DELETE_ORDER = ("pins/delete", "board_sections/delete", "boards/delete")


@pytest.fixture
def pinterest_simulator_options() -> dict[str, Any]:
    return {"media_processing_delay": 0.0, "report_delay": 0.0}


async def _real_ids(simulator: PinterestSimulator, client: aiopinterest.Client) -> dict[str, Any]:
    """Objects the stateful operations look up: a board with a section and a pin, processed media, a report."""
    board = await client.boards.create(name="Smoke")
    assert board.id
    section = await client.boards.sections_create(board_id=board.id, name="Section")
    pin = await client.pins.create(board_id=board.id, media_source=IMAGE)
    upload = await client.media.create(media_type="video")
    assert upload.upload_url and upload.upload_parameters and upload.media_id
    form = aiohttp.FormData(msgspec.to_builtins(upload.upload_parameters))
    form.add_field("file", b"video bytes", filename="clip.mp4")
    async with aiohttp.ClientSession() as http, http.post(upload.upload_url, data=form) as response:
        assert response.status == 204
    report = await client.ad_accounts.analytics_create_report(
        ad_account_id="123",
        granularity="DAY",
        level="ADVERTISER",
        columns=["SPEND_IN_DOLLAR"],
        **DATES,
    )
    return {
        "board_id": board.id,
        "section_id": section.id,
        "pin_id": pin.id,
        "pin_ids": [pin.id],
        "media_id": upload.media_id,
        "token": report.token,
        **DATES,
    }


def _arguments(operation: Operation, synthesiser: Synthesiser, real: Mapping[str, Any]) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    for parameter in operation.parameters:
        if not parameter.required:
            continue
        value = real.get(parameter.name)
        if value is None or not _valid(value, parameter.schema):
            value = synthesiser.value(parameter.schema, parameter.name, minimal=True)
        arguments[parameter.name] = value
    if operation.body is not None:
        body = synthesiser.model(operation.body, minimal=True)
        if operation.operation_id == "pins/create":
            body.update(board_id=real["board_id"], media_source=IMAGE)
        elif operation.operation_id == "pins/save":
            body.update(board_id=real["board_id"])
        elif operation.operation_id == "analytics/create_report":
            body.update(DATES)
        arguments["body"] = body
    return arguments


def _valid(value: Any, schema: Mapping[str, Any]) -> bool:
    try:
        validate(value, schema, "value")
    except RequestValidationError:
        return False
    return True


def _call_order(operation: Operation) -> tuple[int, int]:
    if operation.operation_id in DELETE_ORDER:
        return 2, DELETE_ORDER.index(operation.operation_id)
    return (1 if operation.method == "DELETE" else 0), 0


async def test_every_operation_answers_a_decoded_2xx(
    pinterest_simulator: PinterestSimulator, pinterest_client: aiopinterest.Client
) -> None:
    assert len(OPERATIONS) == 231
    real = await _real_ids(pinterest_simulator, pinterest_client)
    synthesiser = Synthesiser(seed=0)
    for operation in sorted(OPERATIONS.values(), key=_call_order):
        method = getattr(getattr(pinterest_client, operation.namespace), operation.name)
        arguments = _arguments(operation, synthesiser, real)
        try:
            result = await method(**arguments)
        except aiopinterest.PinterestError as error:
            pytest.fail(f"{operation.operation_id}: {error}")
        if operation.response is not None and operation.response_status != 204:
            assert result is not None, operation.operation_id
    answered = {request.operation_id for request in pinterest_simulator.requests if request.status == 200}
    answered |= {
        request.operation_id for request in pinterest_simulator.requests if request.status in (201, 204)
    }
    assert answered >= set(OPERATIONS)


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_synthesised_responses_are_schema_valid_and_decode(seed: int) -> None:
    synthesiser = Synthesiser(seed=seed)
    for operation in OPERATIONS.values():
        if operation.response is None:
            continue
        value = synthesiser.model(operation.response)
        validate(value, {"$ref": operation.response}, "response")
        msgspec.json.decode(msgspec.json.encode(value), type=operation.response_type)
        assert synthesiser.model(operation.response) == value
