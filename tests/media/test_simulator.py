"""The upload flow end to end against the project's simulator, whose S3 endpoint checks the policy fields, that the
file comes last, and the size range."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aiopinterest import Client
from aiopinterest.errors import MediaUploadError
from aiopinterest.media import PROCESSING_FAILED, SizedStream
from aiopinterest.testing import PinterestSimulator

from .conftest import FAST_POLL, random_bytes

PNG = b"\x89PNG\r\n\x1a\n" + b"png-body"
MAX_UPLOAD = 4 * 1024 * 1024


@pytest.fixture
async def simulator() -> AsyncIterator[PinterestSimulator]:
    async with PinterestSimulator(media_processing_delay=0.0, max_upload_bytes=MAX_UPLOAD) as simulator:
        yield simulator


@pytest.fixture
async def sim_client(simulator: PinterestSimulator) -> AsyncIterator[Client]:
    async with Client(access_token=simulator.access_token, base_url=simulator.base_url) as client:
        yield client


async def test_upload_stores_the_exact_bytes_with_the_file_last_and_no_token(
    tmp_path: Path, simulator: PinterestSimulator, sim_client: Client
) -> None:
    data = random_bytes(MAX_UPLOAD - 1)
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    media = await sim_client.media.upload(path, poll_interval=FAST_POLL)
    assert media.status == "succeeded"
    (upload,) = simulator.s3_uploads
    assert (upload.status, upload.error_code) == (204, None)
    assert upload.fields[-1] == "file"
    assert "Authorization" not in upload.headers
    assert upload.key is not None
    assert simulator.s3_objects[upload.key] == data


async def test_the_policy_size_range_is_enforced(simulator: PinterestSimulator, sim_client: Client) -> None:
    with pytest.raises(MediaUploadError) as caught:
        await sim_client.media.upload(random_bytes(MAX_UPLOAD + 1))
    assert (caught.value.code, caught.value.status) == ("EntityTooLarge", 400)
    assert simulator.s3_objects == {}


async def test_processing_failure_raises(simulator: PinterestSimulator, sim_client: Client) -> None:
    registration = await sim_client.media.upload(b"video", wait=False)
    assert registration.media_id is not None
    simulator.fail_media(registration.media_id)
    with pytest.raises(MediaUploadError) as caught:
        await sim_client.media.wait_for_processing(registration.media_id, poll_interval=FAST_POLL)
    assert caught.value.code == PROCESSING_FAILED


async def test_upload_waits_while_processing(simulator: PinterestSimulator, sim_client: Client) -> None:
    simulator.media_processing_delay = 0.05
    media = await sim_client.media.upload(b"video", poll_interval=FAST_POLL)
    assert media.status == "succeeded"


async def test_upload_many_against_the_simulator(simulator: PinterestSimulator, sim_client: Client) -> None:
    sources = [random_bytes(1000 + n) for n in range(6)]

    async def stream(data: bytes) -> AsyncIterator[bytes]:
        yield data

    outcomes = [
        outcome
        async for outcome in sim_client.media.upload_many(
            [*sources[:5], SizedStream(stream(sources[5]), size=len(sources[5]))], poll_interval=FAST_POLL
        )
    ]
    assert all(outcome.ok for outcome in outcomes)
    assert sorted(simulator.s3_objects.values()) == sorted(sources)


async def test_video_image_and_carousel_pins(simulator: PinterestSimulator, sim_client: Client) -> None:
    (board_id,) = simulator.seed(boards=1, pins_per_board=0)
    video = await sim_client.media.create_video_pin(
        b"video", board_id=board_id, title="Video", cover_image_key_frame_time=0, poll_interval=FAST_POLL
    )
    image = await sim_client.media.create_image_pin(PNG, board_id=board_id, title="Image")
    by_url = await sim_client.media.create_image_pin("https://example.com/a.jpg", board_id=board_id)
    carousel = await sim_client.media.create_carousel_pin([PNG, PNG], board_id=board_id, title="Carousel")
    for pin in (video, image, by_url, carousel):
        assert pin.id is not None
        fetched = await sim_client.pins.get(pin_id=pin.id)
        assert fetched.board_id == board_id
