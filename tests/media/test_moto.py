"""Uploads to a real S3 implementation (moto in server mode): the stored object equals the source."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aiopinterest import Client
from aiopinterest.errors import MediaUploadError
from aiopinterest.media import MediaSource, SizedStream

from .conftest import FAST_POLL, MotoBucket, PinterestApi, random_bytes

# Not a multiple of the chunk size (4 MiB), so the last chunk is a short one.
SIZE = 4 * 1024 * 1024 + 17


async def one_shot(data: bytes, chunk: int = 100_000) -> AsyncIterator[bytes]:
    for offset in range(0, len(data), chunk):
        yield data[offset : offset + chunk]


@pytest.mark.parametrize("kind", ["path", "bytes", "file object", "stream"])
async def test_stored_object_equals_the_source(
    kind: str, tmp_path: Path, moto_client: Client, moto_bucket: MotoBucket
) -> None:
    data = random_bytes(SIZE)
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    with path.open("rb") as file:
        sources: dict[str, MediaSource] = {
            "path": path,
            "bytes": data,
            "file object": file,
            "stream": SizedStream(one_shot(data), size=SIZE),
        }
        media = await moto_client.media.upload(sources[kind], poll_interval=FAST_POLL)
    assert media.status == "succeeded"
    assert media.media_id is not None
    assert moto_bucket.stored(media.media_id) == data


async def test_a_file_object_is_sent_from_its_current_position(
    moto_client: Client, moto_bucket: MotoBucket
) -> None:
    data = random_bytes(10_000)
    file = io.BytesIO(b"HEADER" + data)
    file.seek(6)
    registration = await moto_client.media.upload(file, wait=False)
    assert registration.media_id is not None
    assert moto_bucket.stored(registration.media_id) == data


async def test_s3_error_becomes_media_upload_error(
    moto_client: Client, moto_api: PinterestApi, moto_bucket: MotoBucket
) -> None:
    missing = MotoBucket(moto_bucket.s3, moto_bucket.name + "-missing")
    moto_api.presign = missing.presign
    with pytest.raises(MediaUploadError) as caught:
        await moto_client.media.upload(random_bytes(5000), wait=False)
    assert caught.value.code == "NoSuchBucket"
    assert caught.value.status == 404


async def test_video_pin_from_a_local_file(
    tmp_path: Path, moto_client: Client, moto_api: PinterestApi, moto_bucket: MotoBucket
) -> None:
    data = random_bytes(200_000)
    path = tmp_path / "clip.mov"
    path.write_bytes(data)
    pin = await moto_client.media.create_video_pin(
        path, board_id="123", title="Clip", cover_image_key_frame_time=1, poll_interval=FAST_POLL
    )
    assert pin.id is not None
    (sent,) = moto_api.pins
    media_id = sent["media_source"]["media_id"]
    assert sent["media_source"] == {
        "source_type": "video_id",
        "media_id": media_id,
        "cover_image_key_frame_time": 1,
    }
    assert sent["board_id"] == "123"
    assert moto_bucket.stored(media_id) == data
