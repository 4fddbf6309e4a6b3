"""Media registration, the S3 presigned POST endpoint, and the processing state machine."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import aiohttp
import msgspec
import pytest

import aiopinterest
from aiopinterest.errors import BadRequestError
from aiopinterest.models import Pin
from aiopinterest.testing import PinterestSimulator

from .conftest import FakeClock

VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4


@pytest.fixture
def pinterest_simulator_options(clock: FakeClock) -> dict[str, Any]:
    return {"clock": clock, "media_processing_delay": 5.0, "max_upload_bytes": 4096, "min_upload_bytes": 10}


def _form(
    fields: Iterable[tuple[str, str]], content: bytes | None = VIDEO, *, file_first: bool = False
) -> aiohttp.FormData:
    form = aiohttp.FormData(default_to_multipart=True)
    if content is not None and file_first:
        form.add_field("file", content, filename="clip.mp4", content_type="video/mp4")
    for name, value in fields:
        form.add_field(name, value)
    if content is not None and not file_first:
        form.add_field("file", content, filename="clip.mp4", content_type="video/mp4")
    return form


async def _post(
    http: aiohttp.ClientSession, url: str, form: aiohttp.FormData, **headers: str
) -> tuple[int, str]:
    async with http.post(url, data=form, headers=headers) as response:
        return response.status, await response.text()


async def test_media_goes_registered_processing_succeeded(
    pinterest_simulator: PinterestSimulator,
    pinterest_client: aiopinterest.Client,
    http: aiohttp.ClientSession,
    clock: FakeClock,
) -> None:
    upload = await pinterest_client.media.create(media_type="video")
    assert upload.media_id and upload.upload_url and upload.upload_parameters
    assert upload.upload_url.startswith(pinterest_simulator.origin)
    assert (await pinterest_client.media.get(media_id=upload.media_id)).status == "registered"
    fields = _fields(upload.upload_parameters)
    status, text = await _post(http, upload.upload_url, _form(fields.items()))
    assert status == 204, text
    assert pinterest_simulator.s3_objects[fields["key"]] == VIDEO
    assert (await pinterest_client.media.get(media_id=upload.media_id)).status == "processing"
    # A video pin needs processed media.
    with pytest.raises(BadRequestError, match=r"media_source\.media_id"):
        await _video_pin(pinterest_client, upload.media_id)
    clock.advance(5.0)
    assert (await pinterest_client.media.get(media_id=upload.media_id)).status == "succeeded"
    pin = await _video_pin(pinterest_client, upload.media_id)
    assert pin.media is not None and pin.media.media_type == "video" and pin.creative_type == "VIDEO"
    assert [m.media_id async for m in pinterest_client.media.list()] == [upload.media_id]


async def test_media_can_be_made_to_fail(
    pinterest_simulator: PinterestSimulator,
    pinterest_client: aiopinterest.Client,
    http: aiohttp.ClientSession,
    clock: FakeClock,
) -> None:
    upload = await pinterest_client.media.create(media_type="video")
    assert upload.media_id and upload.upload_url and upload.upload_parameters
    pinterest_simulator.fail_media(upload.media_id)
    status, _ = await _post(http, upload.upload_url, _form(_fields(upload.upload_parameters).items()))
    assert status == 204
    clock.advance(5.0)
    assert (await pinterest_client.media.get(media_id=upload.media_id)).status == "failed"


async def test_the_clients_upload_flow_works_against_the_simulator(
    pinterest_simulator: PinterestSimulator, pinterest_client: aiopinterest.Client
) -> None:
    pinterest_simulator.media_processing_delay = 0.0
    media = await pinterest_client.media.upload(
        VIDEO, content_type="video/mp4", poll_interval=0.01, timeout=10
    )
    assert media.status == "succeeded"
    [upload] = pinterest_simulator.s3_uploads
    assert upload.status == 204
    assert "Authorization" not in upload.headers
    assert upload.fields[-1] == "file"
    assert list(pinterest_simulator.s3_objects.values()) == [VIDEO]


def _fields(parameters: Any) -> dict[str, str]:
    encoded: dict[str, str] = msgspec.to_builtins(parameters)
    return encoded


async def _video_pin(client: aiopinterest.Client, media_id: str) -> Pin:
    board = await client.boards.create(name="Videos")
    assert board.id
    return await client.pins.create(
        board_id=board.id, media_source={"source_type": "video_id", "media_id": media_id}
    )


@pytest.mark.parametrize(
    ("mutate", "status", "code"),
    [
        pytest.param(lambda f: f.pop("policy"), 400, "InvalidArgument", id="missing policy"),
        pytest.param(lambda f: f.pop("x-amz-signature"), 400, "InvalidArgument", id="missing signature"),
        pytest.param(lambda f: f.pop("x-amz-security-token"), 403, "AccessDenied", id="missing policy field"),
        pytest.param(lambda f: f.update({"key": "uploads/other"}), 403, "AccessDenied", id="changed key"),
        pytest.param(
            lambda f: f.update({"x-amz-signature": "0" * 64}),
            403,
            "SignatureDoesNotMatch",
            id="bad signature",
        ),
    ],
)
async def test_s3_checks_the_policy_fields(
    pinterest_client: aiopinterest.Client,
    pinterest_simulator: PinterestSimulator,
    http: aiohttp.ClientSession,
    mutate: Any,
    status: int,
    code: str,
) -> None:
    upload = await pinterest_client.media.create(media_type="video")
    assert upload.upload_url and upload.upload_parameters
    fields = _fields(upload.upload_parameters)
    mutate(fields)
    answer, text = await _post(http, upload.upload_url, _form(fields.items()))
    assert (answer, _code(text)) == (status, code), text
    assert pinterest_simulator.s3_objects == {}


@pytest.mark.parametrize(
    ("content", "file_first", "status", "code"),
    [
        pytest.param(b"x" * 4097, False, 400, "EntityTooLarge", id="too large"),
        pytest.param(b"x" * 9, False, 400, "EntityTooSmall", id="too small"),
        pytest.param(VIDEO, True, 400, "InvalidArgument", id="file not last"),
        pytest.param(None, False, 400, "InvalidArgument", id="no file"),
    ],
)
async def test_s3_checks_the_file(
    pinterest_client: aiopinterest.Client,
    pinterest_simulator: PinterestSimulator,
    http: aiohttp.ClientSession,
    content: bytes | None,
    file_first: bool,
    status: int,
    code: str,
) -> None:
    upload = await pinterest_client.media.create(media_type="video")
    assert upload.upload_url and upload.upload_parameters
    form = _form(_fields(upload.upload_parameters).items(), content, file_first=file_first)
    answer, text = await _post(http, upload.upload_url, form)
    assert (answer, _code(text)) == (status, code), text
    assert text.startswith("<?xml") and "<Message>" in text
    assert pinterest_simulator.s3_objects == {}


async def test_s3_refuses_an_authorization_header(
    pinterest_client: aiopinterest.Client,
    pinterest_simulator: PinterestSimulator,
    http: aiohttp.ClientSession,
) -> None:
    upload = await pinterest_client.media.create(media_type="video")
    assert upload.upload_url and upload.upload_parameters
    form = _form(_fields(upload.upload_parameters).items())
    answer, text = await _post(
        http, upload.upload_url, form, Authorization=f"Bearer {pinterest_simulator.access_token}"
    )
    assert (answer, _code(text)) == (400, "InvalidArgument")
    assert pinterest_simulator.s3_uploads[-1].headers["Authorization"].startswith("Bearer")


def _code(xml: str) -> str:
    return xml.split("<Code>", 1)[1].split("</Code>", 1)[0] if "<Code>" in xml else ""
