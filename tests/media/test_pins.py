"""The Pin helpers of the media namespace: video, image and carousel Pins, every argument checked first."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from aiopinterest import Client
from aiopinterest.errors import RequestValidationError
from aiopinterest.media import CarouselImage

from .conftest import FAST_POLL, PinterestApi

PNG = b"\x89PNG\r\n\x1a\n" + b"png-body"
JPEG = b"\xff\xd8\xff\xe0" + b"jpeg-body"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


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
