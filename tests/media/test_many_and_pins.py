"""upload_many, and the Pin helpers on the media namespace."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from aiopinterest import Client
from aiopinterest.errors import MediaUploadError, RequestValidationError
from aiopinterest.media import CarouselImage, MediaSource, SizedStream, UploadOutcome

from .conftest import FAST_POLL, FakeS3, PinterestApi, s3_error_xml

PNG = b"\x89PNG\r\n\x1a\n" + b"png-body"
JPEG = b"\xff\xd8\xff\xe0" + b"jpeg-body"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --- upload_many ---------------------------------------------------------------------------------------------


async def test_upload_many_yields_results_and_errors_per_item(
    tmp_path: Path, client: Client, fake_s3: FakeS3
) -> None:
    sources: list[MediaSource] = [b"first", tmp_path / "missing.mp4", b"third", b"fourth"]
    fake_s3.answers.append((403, s3_error_xml("AccessDenied", "Access Denied")))
    outcomes = [
        outcome async for outcome in client.media.upload_many(sources, concurrency=1, poll_interval=FAST_POLL)
    ]
    assert sorted(outcome.index for outcome in outcomes) == [0, 1, 2, 3]
    by_index = {outcome.index: outcome for outcome in outcomes}
    # concurrency=1: the first upload meets the scripted AccessDenied.
    assert isinstance(by_index[0].error, MediaUploadError)
    assert by_index[0].error.code == "AccessDenied"
    assert isinstance(by_index[1].error, RequestValidationError)
    assert by_index[2].ok and by_index[2].media is not None and by_index[2].media.status == "succeeded"
    assert by_index[3].ok
    assert sorted(fake_s3.stored.values()) == [b"fourth", b"third"]
    assert "third" not in repr(by_index[2])


async def test_upload_many_keeps_at_most_concurrency_uploads_in_flight(
    client: Client, api: PinterestApi, fake_s3: FakeS3
) -> None:
    fake_s3.gate = asyncio.Event()
    sources = [b"a", b"b", b"c", b"d", b"e"]

    async def consume() -> list[UploadOutcome]:
        return [o async for o in client.media.upload_many(sources, concurrency=2, poll_interval=FAST_POLL)]

    task = asyncio.ensure_future(consume())
    with anyio.fail_after(5):
        await fake_s3.until_held(2)
    # Two uploads are held at S3: no third one may have been registered.
    assert api.registrations == 2
    fake_s3.gate.set()
    outcomes = await task
    assert sorted(o.index for o in outcomes if o.ok) == [0, 1, 2, 3, 4]
    assert sorted(fake_s3.stored.values()) == sorted(sources)


async def test_leaving_upload_many_early_cancels_the_running_uploads(
    tmp_path: Path, client: Client, api: PinterestApi, fake_s3: FakeS3
) -> None:
    gate = fake_s3.gate = asyncio.Event()
    # Larger than the socket buffers, so that the bodies cannot have been sent whole before the cancellation.
    large = b"x" * (32 * 1024 * 1024)
    results = client.media.upload_many([large, tmp_path / "missing.mp4", large], concurrency=3)
    with anyio.fail_after(5):
        first = await anext(results)
        await fake_s3.until_held(2)
        await results.aclose()
    assert (first.index, first.ok) == (1, False)
    # The held uploads were abandoned part-way: releasing S3 now stores nothing.
    gate.set()
    with anyio.fail_after(5):
        await fake_s3.until_handled(len(fake_s3.received))
    assert fake_s3.stored == {}
    assert api.status_reads == 0


async def test_an_exception_that_is_no_upload_outcome_stops_upload_many_and_is_raised(
    client: Client, api: PinterestApi, fake_s3: FakeS3
) -> None:
    gate = fake_s3.gate = asyncio.Event()
    # Larger than the socket buffers, so that the body cannot have been sent whole before the cancellation.
    large = b"x" * (32 * 1024 * 1024)

    async def broken() -> AsyncIterator[bytes]:
        yield b"first"
        await fake_s3.until_held(2)
        raise RuntimeError("the caller's stream is broken")

    sources: list[MediaSource] = [large, SizedStream(broken(), size=10)]
    with anyio.fail_after(5), pytest.raises(RuntimeError, match="stream is broken") as caught:
        async for _ in client.media.upload_many(sources, concurrency=2):
            pass
    assert "fan_out input: source #1" in caught.value.__notes__
    # The other upload was abandoned part-way: releasing S3 now stores nothing.
    gate.set()
    with anyio.fail_after(5):
        await fake_s3.until_handled(len(fake_s3.received))
    assert fake_s3.stored == {}
    assert api.status_reads == 0


async def test_upload_many_rejects_a_concurrency_below_one(client: Client) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        async for _ in client.media.upload_many([b"a"], concurrency=0):
            pass


# --- Pin helpers ---------------------------------------------------------------------------------------------


async def test_video_pin_with_cover_url(client: Client, api: PinterestApi) -> None:
    pin = await client.media.create_video_pin(
        b"video",
        board_id="42",
        title="Clip",
        description="A clip",
        cover_image_url="https://example.com/cover.jpg",
        poll_interval=FAST_POLL,
    )
    assert pin.id == "5001"
    assert api.pins == [
        {
            "board_id": "42",
            "title": "Clip",
            "description": "A clip",
            "media_source": {
                "source_type": "video_id",
                "media_id": "1001",
                "cover_image_url": "https://example.com/cover.jpg",
            },
        }
    ]


@pytest.mark.parametrize(
    "cover",
    [{}, {"cover_image_url": "https://example.com/c.jpg", "cover_image_key_frame_time": 1}],
    ids=["neither", "both"],
)
async def test_video_pin_needs_exactly_one_cover(
    cover: dict[str, object], client: Client, api: PinterestApi
) -> None:
    with pytest.raises(RequestValidationError):
        await client.media.create_video_pin(b"video", board_id="42", **cover)  # type: ignore[arg-type]
    assert api.registrations == 0


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"board_id": "not-a-number", "cover_image_key_frame_time": 1}, "body.board_id"),
        ({"board_id": "42", "title": "t" * 101, "cover_image_key_frame_time": 1}, "body.title"),
        ({"board_id": "42", "cover_image_key_frame_time": -1}, "cover_image_key_frame_time"),
    ],
    ids=["board_id", "title", "key frame"],
)
async def test_video_pin_fields_are_checked_before_uploading(
    arguments: dict[str, object], field: str, client: Client, api: PinterestApi
) -> None:
    with pytest.raises(RequestValidationError) as caught:
        await client.media.create_video_pin(b"video", **arguments)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert api.registrations == 0


async def test_image_pin_from_a_url(client: Client, api: PinterestApi) -> None:
    await client.media.create_image_pin(
        "https://example.com/tree.jpg", board_id="42", link="https://example.com"
    )
    assert api.pins[0]["media_source"] == {"source_type": "image_url", "url": "https://example.com/tree.jpg"}
    assert api.pins[0]["link"] == "https://example.com"
    assert api.registrations == 0


@pytest.mark.parametrize(("data", "content_type"), [(PNG, "image/png"), (JPEG, "image/jpeg")])
async def test_image_pin_from_a_local_file(
    data: bytes, content_type: str, tmp_path: Path, client: Client, api: PinterestApi
) -> None:
    path = tmp_path / "image.bin"
    path.write_bytes(data)
    await client.media.create_image_pin(path, board_id="42")
    assert api.pins[0]["media_source"] == {
        "source_type": "image_base64",
        "content_type": content_type,
        "data": b64(data),
    }


@pytest.mark.parametrize(
    "image", [b"GIF89a...", b"", Path("missing.png")], ids=["not jpeg or png", "empty", "missing file"]
)
async def test_image_pin_refuses_bad_images(image: bytes | Path, client: Client, api: PinterestApi) -> None:
    with pytest.raises(RequestValidationError) as caught:
        await client.media.create_image_pin(image, board_id="42")
    assert caught.value.field == "image"
    assert api.pins == []


async def test_carousel_from_local_images(tmp_path: Path, client: Client, api: PinterestApi) -> None:
    path = tmp_path / "b.jpg"
    path.write_bytes(JPEG)
    await client.media.create_carousel_pin(
        [PNG, CarouselImage(path, title="Second", link="https://example.com/2")], board_id="42", title="Set"
    )
    assert api.pins[0]["media_source"] == {
        "source_type": "multiple_image_base64",
        "items": [
            {"content_type": "image/png", "data": b64(PNG)},
            {
                "content_type": "image/jpeg",
                "data": b64(JPEG),
                "title": "Second",
                "link": "https://example.com/2",
            },
        ],
    }


async def test_carousel_from_urls(client: Client, api: PinterestApi) -> None:
    await client.media.create_carousel_pin(
        ["https://example.com/1.jpg", CarouselImage("https://example.com/2.jpg", description="two")],
        board_id="42",
    )
    assert api.pins[0]["media_source"] == {
        "source_type": "multiple_image_urls",
        "items": [
            {"url": "https://example.com/1.jpg"},
            {"url": "https://example.com/2.jpg", "description": "two"},
        ],
    }


async def test_carousel_cannot_mix_urls_and_local_images(client: Client, api: PinterestApi) -> None:
    with pytest.raises(RequestValidationError) as caught:
        await client.media.create_carousel_pin(["https://example.com/1.jpg", PNG], board_id="42")
    assert caught.value.field == "images"
    assert api.pins == []


@pytest.mark.parametrize("count", [1, 6])
async def test_carousel_takes_two_to_five_images(count: int, client: Client, api: PinterestApi) -> None:
    with pytest.raises(RequestValidationError) as caught:
        await client.media.create_carousel_pin([PNG] * count, board_id="42")
    assert caught.value.field == "body.media_source.items"
    assert api.pins == []
