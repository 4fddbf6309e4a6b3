"""The S3 POST and the upload flow, against a scriptable S3 endpoint and a Pinterest API stand-in."""

from __future__ import annotations

import asyncio
import io
import tracemalloc
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from aiopinterest import Client
from aiopinterest.errors import ConnectError, MediaUploadError, RequestValidationError
from aiopinterest.media import (
    PROCESSING_FAILED,
    PROCESSING_TIMEOUT,
    SOURCE_CHANGED,
    SOURCE_NOT_REPLAYABLE,
    UPLOAD_TIMEOUT,
    SizedStream,
)

from .conftest import ACCESS_TOKEN, FAST_POLL, FakeS3, PinterestApi, random_bytes, s3_error_xml

# Three chunks of 4 MiB, the last a short one.
SIZE = 2 * 4 * 1024 * 1024 + 5


async def one_shot(data: bytes, chunk: int = 65_536) -> AsyncIterator[bytes]:
    for offset in range(0, len(data), chunk):
        yield data[offset : offset + chunk]


class Replayable:
    """An async iterable that starts afresh on every ``async for``."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.iterations = 0

    def __aiter__(self) -> AsyncIterator[bytes]:
        self.iterations += 1
        return one_shot(self.data)


async def test_fields_in_given_order_then_the_file_last(client: Client, fake_s3: FakeS3) -> None:
    data = random_bytes(SIZE)
    registration = await client.media.upload(data, wait=False, content_type="video/mp4")
    (upload,) = fake_s3.received
    _, parameters = fake_s3.presign(registration.media_id or "")
    assert upload.field_names == [*parameters, "file"]
    assert upload.fields == parameters
    assert upload.content == data
    assert upload.file_content_type == "video/mp4"
    assert upload.filename == "media"
    assert upload.headers["Content-Length"] == str(int(upload.headers["Content-Length"]))
    assert "Transfer-Encoding" not in upload.headers


async def test_file_name_and_type_come_from_the_path(tmp_path: Path, client: Client, fake_s3: FakeS3) -> None:
    path = tmp_path / "holiday clip.mov"
    path.write_bytes(b"movie")
    await client.media.upload(path, wait=False)
    (upload,) = fake_s3.received
    assert upload.filename == "holiday clip.mov"
    assert upload.file_content_type == "video/quicktime"


async def test_no_authorization_header_reaches_s3(client: Client, api: PinterestApi, fake_s3: FakeS3) -> None:
    await client.media.upload(b"video bytes", poll_interval=FAST_POLL)
    assert all(header == f"Bearer {ACCESS_TOKEN}" for header in api.authorizations)
    (upload,) = fake_s3.received
    assert not any(name.lower() == "authorization" for name in upload.headers)
    assert not any(ACCESS_TOKEN in value for value in upload.headers.values())


async def test_503_slowdown_resends_the_whole_file(client: Client, fake_s3: FakeS3) -> None:
    fake_s3.answers.append((503, s3_error_xml("SlowDown", "Please reduce your request rate.")))
    data = random_bytes(SIZE)
    registration = await client.media.upload(data, wait=False)
    assert [upload.content == data for upload in fake_s3.received] == [True, True]
    assert fake_s3.stored == {f"uploads/{registration.media_id}": data}


async def test_connection_lost_mid_body_resends_the_file_from_the_start(
    tmp_path: Path, client: Client, fake_s3: FakeS3
) -> None:
    data = random_bytes(SIZE)
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    fake_s3.drop_after.append(SIZE // 2)
    registration = await client.media.upload(path, wait=False)
    assert len(fake_s3.received) == 2
    assert fake_s3.stored == {f"uploads/{registration.media_id}": data}


async def test_a_re_iterable_stream_is_replayed(client: Client, fake_s3: FakeS3) -> None:
    data = random_bytes(SIZE)
    stream = Replayable(data)
    fake_s3.answers.append((500, s3_error_xml("InternalError", "We encountered an internal error.")))
    registration = await client.media.upload(SizedStream(stream, size=SIZE), wait=False)
    assert stream.iterations == 2
    assert fake_s3.stored == {f"uploads/{registration.media_id}": data}


async def test_file_object_is_rewound_for_a_retry(client: Client, fake_s3: FakeS3) -> None:
    data = random_bytes(SIZE)
    fake_s3.answers.append((503, s3_error_xml("SlowDown", "Please reduce your request rate.")))
    registration = await client.media.upload(io.BytesIO(data), wait=False)
    assert fake_s3.stored == {f"uploads/{registration.media_id}": data}


async def test_s3_xml_error_becomes_media_upload_error_without_secrets(
    client: Client, fake_s3: FakeS3
) -> None:
    fake_s3.answers.append(
        (403, s3_error_xml("AccessDenied", "Invalid according to Policy: Policy expired."))
    )
    with pytest.raises(MediaUploadError) as caught:
        await client.media.upload(b"video bytes")
    error = caught.value
    assert (error.code, error.status) == ("AccessDenied", 403)
    assert "Policy expired" in str(error)
    _, parameters = fake_s3.presign("1001")
    for secret in (parameters["x-amz-signature"], parameters["x-amz-security-token"], parameters["policy"]):
        assert secret not in str(error)
        assert secret not in repr(error)
    assert len(fake_s3.received) == 1


async def test_a_non_xml_error_body_is_quoted(client: Client, fake_s3: FakeS3) -> None:
    fake_s3.answers.append((400, "bad gateway page"))
    with pytest.raises(MediaUploadError) as caught:
        await client.media.upload(b"video bytes")
    assert caught.value.code is None
    assert "bad gateway page" in str(caught.value)


async def test_progress_is_reported_as_bytes_go_out(client: Client) -> None:
    seen: list[tuple[int, int]] = []
    await client.media.upload(
        random_bytes(SIZE), wait=False, on_progress=lambda sent, total: seen.append((sent, total))
    )
    assert len(seen) > 1
    assert [sent for sent, _ in seen] == sorted({sent for sent, _ in seen})
    assert {total for _, total in seen} == {SIZE}
    assert seen[-1] == (SIZE, SIZE)


async def test_progress_callback_may_be_a_coroutine_function(client: Client) -> None:
    seen: list[int] = []

    async def progress(sent: int, total: int) -> None:
        seen.append(sent)

    await client.media.upload(b"x" * 10, wait=False, on_progress=progress)
    assert seen == [10]


async def test_a_failing_progress_callback_stops_the_upload_without_retry(
    client: Client, fake_s3: FakeS3
) -> None:
    def progress(sent: int, total: int) -> None:
        raise KeyError("callback bug")

    with pytest.raises(KeyError, match="callback bug"):
        await client.media.upload(random_bytes(SIZE), wait=False, on_progress=progress)
    # Not retried; the server may not even have seen the aborted request yet.
    assert len(fake_s3.received) <= 1
    assert fake_s3.stored == {}


async def test_a_one_shot_stream_is_not_retried_after_a_5xx(client: Client, fake_s3: FakeS3) -> None:
    fake_s3.answers.append((503, s3_error_xml("SlowDown", "Please reduce your request rate.")))
    with pytest.raises(MediaUploadError) as caught:
        await client.media.upload(SizedStream(one_shot(random_bytes(SIZE)), size=SIZE), wait=False)
    assert (caught.value.code, caught.value.status) == ("SlowDown", 503)
    assert "one-shot" in str(caught.value)
    assert len(fake_s3.received) == 1
    assert fake_s3.stored == {}


async def test_a_one_shot_stream_fails_clearly_when_the_connection_drops(
    client: Client, fake_s3: FakeS3
) -> None:
    fake_s3.drop_after.append(SIZE // 2)
    with pytest.raises(MediaUploadError) as caught:
        await client.media.upload(SizedStream(one_shot(random_bytes(SIZE)), size=SIZE), wait=False)
    assert caught.value.code == SOURCE_NOT_REPLAYABLE
    assert len(fake_s3.received) == 1
    assert fake_s3.stored == {}


@pytest.mark.parametrize("actual", [SIZE - 1, SIZE + 1])
async def test_a_source_of_the_wrong_size_sends_no_complete_file(
    actual: int, client: Client, fake_s3: FakeS3
) -> None:
    with pytest.raises(MediaUploadError) as caught:
        await client.media.upload(SizedStream(Replayable(random_bytes(actual)), size=SIZE), wait=False)
    assert caught.value.code == SOURCE_CHANGED
    assert fake_s3.stored == {}
    assert not any(upload.complete for upload in fake_s3.received)


async def test_connect_failure_to_s3_is_a_connect_error(
    client: Client, api: PinterestApi, fake_s3: FakeS3
) -> None:
    url, parameters = fake_s3.presign("1")
    await fake_s3.close()
    api.presign = lambda media_id: (url, parameters)
    with pytest.raises(ConnectError) as caught:
        await client.media.upload(b"video", wait=False)
    assert caught.value.attempts == client.retry.max_attempts


# --- processing --------------------------------------------------------------------------------------------


async def test_waits_through_registered_and_processing(client: Client, api: PinterestApi) -> None:
    api.statuses = ["registered", "processing", "processing", "succeeded"]
    media = await client.media.upload(b"video", poll_interval=FAST_POLL)
    assert media.status == "succeeded"
    assert api.status_reads == 4


async def test_wait_false_returns_the_registration_without_polling(client: Client, api: PinterestApi) -> None:
    registration = await client.media.upload(b"video", wait=False)
    assert registration.media_id == "1001"
    assert registration.upload_url is not None
    assert api.status_reads == 0


async def test_failed_processing_raises(client: Client, api: PinterestApi) -> None:
    api.statuses = ["processing", "failed"]
    with pytest.raises(MediaUploadError) as caught:
        await client.media.upload(b"video", poll_interval=FAST_POLL)
    assert caught.value.code == PROCESSING_FAILED
    assert "1001" in str(caught.value)


async def test_processing_that_never_ends_times_out(client: Client, api: PinterestApi) -> None:
    api.statuses = ["processing"]
    with pytest.raises(MediaUploadError) as caught:
        await client.media.upload(b"video", timeout=0.2, poll_interval=FAST_POLL)
    assert caught.value.code == PROCESSING_TIMEOUT
    assert "'processing'" in str(caught.value)


# --- bad input fails before anything is registered -----------------------------------------------------------


class Unseekable(io.BufferedIOBase):
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False


def bad_source(kind: str, tmp_path: Path) -> Any:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    makers: dict[str, Callable[[], Any]] = {
        "missing file": lambda: tmp_path / "missing.mp4",
        "empty file": lambda: empty,
        "directory": lambda: tmp_path,
        "empty bytes": lambda: b"",
        "empty file object": lambda: io.BytesIO(b""),
        "unseekable file": Unseekable,
        "async iterable without size": lambda: Replayable(b"abc"),
        "zero size stream": lambda: SizedStream(Replayable(b"abc"), size=0),
        "not a source": lambda: 42,
    }
    return makers[kind]()


@pytest.mark.parametrize(
    "kind",
    [
        "missing file",
        "empty file",
        "directory",
        "empty bytes",
        "empty file object",
        "unseekable file",
        "async iterable without size",
        "zero size stream",
        "not a source",
    ],
)
async def test_bad_sources_fail_before_registering(
    kind: str, tmp_path: Path, client: Client, api: PinterestApi
) -> None:
    with pytest.raises(RequestValidationError) as caught:
        await client.media.upload(bad_source(kind, tmp_path))
    assert caught.value.field == "source"
    assert api.registrations == 0


async def test_a_media_type_the_spec_does_not_allow_fails_before_registering(
    client: Client, api: PinterestApi
) -> None:
    with pytest.raises(RequestValidationError) as caught:
        await client.media.upload(b"image", media_type="image")
    assert caught.value.field == "media_type"
    assert api.registrations == 0


async def test_a_content_type_with_a_line_break_is_refused(client: Client, api: PinterestApi) -> None:
    with pytest.raises(RequestValidationError):
        await client.media.upload(b"video", content_type="video/mp4\r\nX-Injected: 1")
    assert api.registrations == 0


async def test_a_poll_interval_that_is_not_positive_fails_before_registering(
    client: Client, api: PinterestApi
) -> None:
    with pytest.raises(ValueError, match="poll_interval"):
        await client.media.upload(b"video", poll_interval=0)
    assert api.registrations == 0


async def test_a_large_file_is_streamed_not_loaded(tmp_path: Path, client: Client, fake_s3: FakeS3) -> None:
    size = 64 * 1024 * 1024
    path = tmp_path / "large.mp4"
    with path.open("wb") as file:
        file.truncate(size)
    fake_s3.discard = True
    tracemalloc.start()
    try:
        await client.media.upload(path, wait=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert fake_s3.discarded > size
    # Python allocations stay at a few chunks, whatever the file size.
    assert peak < 16 * 1024 * 1024


async def test_an_upload_that_cannot_reach_s3_in_time_times_out(client: Client, fake_s3: FakeS3) -> None:
    fake_s3.gate = asyncio.Event()
    with pytest.raises(MediaUploadError) as caught:
        await client.media.upload(b"video", timeout=0.2)
    assert caught.value.code == UPLOAD_TIMEOUT
    fake_s3.gate.set()
