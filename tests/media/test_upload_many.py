"""upload_many: many uploads at bounded concurrency, each outcome as it completes."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from aiopinterest import Client
from aiopinterest.errors import MediaUploadError, RequestValidationError
from aiopinterest.media import MediaSource, SizedStream, UploadOutcome

from .conftest import FAST_POLL, FakeS3, PinterestApi, s3_error_xml


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


async def test_breaking_out_of_upload_many_cancels_the_running_uploads(
    tmp_path: Path, client: Client, api: PinterestApi, fake_s3: FakeS3
) -> None:
    gate = fake_s3.gate = asyncio.Event()
    large = b"x" * (32 * 1024 * 1024)
    with anyio.fail_after(5):
        async for _ in client.media.upload_many([large, tmp_path / "missing.mp4", large], concurrency=3):
            await fake_s3.until_held(2)
            break
        # Abandoned without aclose(): asyncio's finaliser closes the generator from a task of its own.
        gc.collect()
        while client.metrics["external"].in_flight:  # noqa: ASYNC110 (a plain counter, with no event to wait on)
            await asyncio.sleep(0.01)
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
