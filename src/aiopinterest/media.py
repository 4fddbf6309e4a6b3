"""``client.media``: the generated media operations plus the direct-upload flow built on them.

Pinterest's direct upload: ``POST /media`` registers the upload and answers with an S3 presigned POST
(``upload_url`` and ``upload_parameters``); the file goes to S3 as ``multipart/form-data``, the policy fields
first and the file last; ``GET /media/{media_id}`` then moves registered -> processing -> succeeded (or failed);
the ``media_id`` makes a video Pin.

The S3 POST is streamed: the request body is written chunk by chunk straight from the source, so memory use does
not grow with the file. Its length is computed up front and sent as ``Content-Length``, because S3 rejects
chunked transfer encoding on POST.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import mimetypes
import os
import secrets
import stat
from abc import ABC, abstractmethod
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final, Literal, TypeAlias, TypedDict, Unpack, overload
from xml.etree import ElementTree

import anyio
import anyio.to_thread
import msgspec
from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import Payload

from ._generated.models import (
    Media,
    MediaUpload,
    Pin,
    PinMediaSourceImageBase64,
    PinMediaSourceImagesBase64,
    PinMediaSourceImagesBase64Item,
    PinMediaSourceImagesURL,
    PinMediaSourceImagesURLItem,
    PinMediaSourceImageURL,
    PinMediaSourceVideoID,
)
from ._generated.resources.media import MediaResource
from ._options import RawResponse, RequestOptions
from ._validation import schema_table, validate
from .errors import (
    MediaUploadError,
    PinterestError,
    RequestValidationError,
    ResponseValidationError,
    TransportError,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_POLL_INTERVAL",
    "PROCESSING_FAILED",
    "PROCESSING_TIMEOUT",
    "SOURCE_CHANGED",
    "SOURCE_NOT_REPLAYABLE",
    "SOURCE_UNREADABLE",
    "UPLOAD_TIMEOUT",
    "CarouselImage",
    "ImageSource",
    "MediaNamespace",
    "MediaSource",
    "PinFields",
    "ProgressCallback",
    "SizedStream",
    "UploadOutcome",
]

# ``MediaUploadError.code`` values raised by this module; S3's own codes (AccessDenied, EntityTooLarge, ...)
# are passed through as S3 sent them.
#: The source yielded more or fewer bytes than its size said (a file changed while it was being sent).
SOURCE_CHANGED: Final = "SourceSizeMismatch"
#: Reading the source failed (an I/O error).
SOURCE_UNREADABLE: Final = "SourceReadFailed"
#: The S3 POST failed after streaming began and the source is one-shot, so it cannot be sent again.
SOURCE_NOT_REPLAYABLE: Final = "SourceNotReplayable"
#: The upload (registration and S3 POST) did not finish within the call's timeout.
UPLOAD_TIMEOUT: Final = "UploadTimeout"
#: Pinterest reported the media as ``failed``.
PROCESSING_FAILED: Final = "ProcessingFailed"
#: The media was still registered or processing when the timeout ran out.
PROCESSING_TIMEOUT: Final = "ProcessingTimeout"

#: Seconds a whole ``upload`` may take by default: registering, sending the file, waiting for processing.
DEFAULT_TIMEOUT: Final = 1800.0
#: Longest pause between two status checks while waiting for processing.
MAX_POLL_INTERVAL: Final = 15.0
# Large enough that per-chunk overhead (a worker-thread hop per file read) is negligible, small enough that
# memory stays flat.
_CHUNK_SIZE: Final = 1024 * 1024
_DEFAULT_FILENAME: Final = "media"
_DEFAULT_CONTENT_TYPE: Final = "application/octet-stream"
_ERROR_SNIPPET: Final = 200
# The image types the spec's ContentType allows for base64 images, by their leading bytes: sniffed rather than
# guessed from a file name, because Pinterest decodes the bytes, not the name.
_IMAGE_SIGNATURES: Final[Mapping[bytes, str]] = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}


@dataclass(frozen=True, slots=True)
class SizedStream:
    """An asynchronous stream of bytes whose total size is known in advance, for :meth:`MediaNamespace.upload`.

    S3 needs the length before the first byte, so a stream must say how long it is. ``chunks`` may be an async
    iterator (one-shot: a failed upload cannot be retried, and raises ``MediaUploadError`` with code
    ``SourceNotReplayable``), or an async iterable whose ``__aiter__`` starts afresh each time (retried uploads
    stream it again from the start).

    >>> await client.media.upload(SizedStream(response.content.iter_chunked(65536), size=length))
    """

    chunks: AsyncIterable[bytes]
    size: int
    filename: str | None = None


#: What :meth:`MediaNamespace.upload` sends: a file path, bytes, a binary file object (sent from its current
#: position to its end; seekable, so that its size is known and a retry can rewind it), or a :class:`SizedStream`.
MediaSource: TypeAlias = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] | SizedStream
#: ``on_progress(sent_bytes, total_bytes)``: called in the event loop as the file goes out (keep it quick), once
#: per chunk; may be a coroutine function. ``total_bytes`` is the size of the file alone, without form fields.
#: A retried upload starts counting again from 0.
ProgressCallback: TypeAlias = Callable[[int, int], Awaitable[None] | None]
#: An image for the Pin helpers: an ``http(s)://`` URL string (Pinterest fetches it), a local path or the image's
#: bytes (sent base64-encoded; JPEG or PNG, the types the spec allows).
ImageSource: TypeAlias = str | os.PathLike[str] | bytes


@dataclass(frozen=True, slots=True)
class CarouselImage:
    """One image of a carousel Pin, with its own title, description and link."""

    image: ImageSource = field(repr=False)
    title: str | None = None
    description: str | None = None
    link: str | None = None


@dataclass(frozen=True, slots=True)
class UploadOutcome:
    """One item of :meth:`MediaNamespace.upload_many`: the processed media, or the error that stopped it."""

    #: Position of the source in the iterable given to ``upload_many``.
    index: int
    source: MediaSource = field(repr=False)
    media: Media | None = None
    error: PinterestError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class PinFields(TypedDict, total=False):
    """The Pin fields the Pin helpers accept as keyword arguments (see ``client.pins.create``)."""

    board_id: str
    board_section_id: str
    title: str
    description: str
    link: str
    alt_text: str
    dominant_color: str
    parent_pin_id: str
    sponsor_id: str
    #: Create the Pin for this ad account (a query parameter of ``POST /pins``).
    ad_account_id: str


class _UploadTarget(msgspec.Struct):
    """What the S3 POST needs from the registration; ``upload_parameters`` decoded as a dict so that their order
    and any field the spec does not list survive (S3 checks every policy field)."""

    media_id: str
    upload_url: str
    upload_parameters: dict[str, str]


_target_decoder = msgspec.json.Decoder(_UploadTarget)


class MediaNamespace(MediaResource):
    """Register, upload and track media (``create``, ``get``, ``list`` come from the spec), and make Pins from
    local files: :meth:`upload`, :meth:`upload_many`, :meth:`wait_for_processing`, :meth:`create_video_pin`,
    :meth:`create_image_pin`, :meth:`create_carousel_pin`."""

    __slots__ = ()

    @overload
    async def upload(
        self,
        source: MediaSource,
        *,
        media_type: str = ...,
        content_type: str | None = ...,
        on_progress: ProgressCallback | None = ...,
        wait: Literal[True] = ...,
        timeout: float = ...,  # noqa: ASYNC109
        poll_interval: float = ...,
    ) -> Media: ...

    @overload
    async def upload(
        self,
        source: MediaSource,
        *,
        media_type: str = ...,
        content_type: str | None = ...,
        on_progress: ProgressCallback | None = ...,
        wait: Literal[False],
        timeout: float = ...,  # noqa: ASYNC109
        poll_interval: float = ...,
    ) -> MediaUpload: ...

    @overload
    async def upload(
        self,
        source: MediaSource,
        *,
        media_type: str = ...,
        content_type: str | None = ...,
        on_progress: ProgressCallback | None = ...,
        wait: bool,
        timeout: float = ...,  # noqa: ASYNC109
        poll_interval: float = ...,
    ) -> Media | MediaUpload: ...

    async def upload(
        self,
        source: MediaSource,
        *,
        media_type: str = "video",
        content_type: str | None = None,
        on_progress: ProgressCallback | None = None,
        wait: bool = True,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
        poll_interval: float = 1.0,
    ) -> Media | MediaUpload:
        """Register a media upload, stream the file to S3, and wait until Pinterest has processed it.

        >>> media = await client.media.upload("clip.mp4", on_progress=lambda sent, total: print(sent, total))
        >>> media.media_id, media.status
        ('12345', 'succeeded')

        The S3 POST carries every ``upload_parameters`` field in the order given, then the file as the last field
        (S3 ignores fields after the file); never the Pinterest access token. S3 5xx answers (SlowDown included)
        and lost connections are retried per the client's retry policy, streaming the source again from the
        start.

        Args:
            source: a path, bytes, a seekable binary file object (sent from its current position), or a
                :class:`SizedStream`.
            media_type: one of the spec's ``MediaUploadType`` values (``"video"``).
            content_type: of the file part; guessed from the file name by default.
            on_progress: called with ``(sent_bytes, total_bytes)`` as the file goes out.
            wait: wait until processing succeeded (default), or return the registration once S3 has the file.
            timeout: seconds for the whole call: registering, sending the file (retries included) and waiting.
            poll_interval: first pause between status checks; it doubles up to 15 s.

        Returns:
            The :class:`~aiopinterest.models.Media` with status ``succeeded``; with ``wait=False`` the
            :class:`~aiopinterest.models.MediaUpload` registration.

        Raises:
            RequestValidationError: bad input (a missing or empty file, a source whose size cannot be known, a
                media type the spec does not allow), before anything is registered.
            MediaUploadError: S3 rejected the file (``code`` is S3's error code, ``status`` its HTTP status), the
                source failed or cannot be replayed, processing failed, or the timeout ran out (see the
                ``code`` constants of this module).
            APIError, TransportError: registering or polling failed; the S3 POST failed below HTTP.
        """
        prepared = await _prepare_source(source)
        validate(media_type, {"$ref": "MediaUploadType"}, "media_type")
        file_type = _content_type(content_type, prepared.filename)
        deadline = anyio.current_time() + timeout
        with anyio.move_on_after(timeout) as scope:
            registration, target = await self._register(media_type)
            await self._send_to_s3(target, prepared, file_type, on_progress)
        if scope.cancelled_caught:
            raise MediaUploadError(
                f"the media upload did not reach S3 within its {timeout:g} s timeout", code=UPLOAD_TIMEOUT
            )
        if not wait:
            return registration
        return await self.wait_for_processing(
            target.media_id, timeout=max(0.0, deadline - anyio.current_time()), poll_interval=poll_interval
        )

    async def wait_for_processing(
        self,
        media_id: str,
        *,
        # A parameter rather than the caller's scope: running out yields a typed error naming the last status.
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
        poll_interval: float = 1.0,
    ) -> Media:
        """Poll ``GET /media/{media_id}`` until the status is ``succeeded``, pausing ``poll_interval`` seconds
        at first, doubling up to 15 s.

        Raises:
            MediaUploadError: the status became ``failed`` (code ``ProcessingFailed``), or ``timeout`` seconds
                passed first (code ``ProcessingTimeout``).
        """
        if poll_interval <= 0:
            raise ValueError("poll_interval must be positive")
        status: str | None = None
        pause = poll_interval
        with anyio.move_on_after(timeout):
            while True:
                media = await self.get(media_id=media_id)
                status = media.status
                if status == "succeeded":
                    return media
                if status == "failed":
                    raise MediaUploadError(
                        f"Pinterest could not process media {media_id} (status 'failed')",
                        code=PROCESSING_FAILED,
                    )
                # On the client's clock, like its other waits, so that a fake clock never waits for real.
                await self._client.clock.sleep(pause)
                pause = min(pause * 2, MAX_POLL_INTERVAL)
        raise MediaUploadError(
            f"media {media_id} was still {status!r} after {timeout:g} s", code=PROCESSING_TIMEOUT
        )

    async def upload_many(
        self,
        sources: Iterable[MediaSource],
        *,
        concurrency: int = 4,
        media_type: str = "video",
        content_type: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
        poll_interval: float = 1.0,
    ) -> AsyncGenerator[UploadOutcome, None]:
        """Upload many sources, ``concurrency`` at a time, yielding each outcome as it completes.

        Each item is a full :meth:`upload` (waiting for processing; ``timeout`` applies per item). A failure
        (any :class:`~aiopinterest.errors.PinterestError`) is yielded as that item's outcome and the others go
        on; ``outcome.index`` is the position of the source.

        >>> async for outcome in client.media.upload_many(paths, concurrency=4):
        ...     print(outcome.index, outcome.media.media_id if outcome.ok else outcome.error)

        Sources are taken from ``sources`` only as slots free up, so a long (or lazy) iterable is fine. Leaving
        the loop early cancels the uploads still running.
        """
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        items = enumerate(sources)
        # Plain asyncio tasks rather than a task group: a task group cannot stay open across the yields of an
        # async generator (the consumer may close the generator from another task).
        running: dict[asyncio.Task[Media], tuple[int, MediaSource]] = {}
        try:
            while True:
                while len(running) < concurrency and (item := next(items, None)) is not None:
                    upload = self.upload(
                        item[1],
                        media_type=media_type,
                        content_type=content_type,
                        timeout=timeout,
                        poll_interval=poll_interval,
                    )
                    running[asyncio.ensure_future(upload)] = item
                if not running:
                    return
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    index, source = running.pop(task)
                    error = task.exception()
                    if error is None:
                        yield UploadOutcome(index, source, media=task.result())
                    elif isinstance(error, PinterestError):
                        yield UploadOutcome(index, source, error=error)
                    else:
                        raise error
        finally:
            await _cancel(running)

    async def create_video_pin(
        self,
        video: MediaSource,
        *,
        cover_image_url: str | None = None,
        cover_image_key_frame_time: int | None = None,
        content_type: str | None = None,
        on_progress: ProgressCallback | None = None,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
        poll_interval: float = 1.0,
        **pin: Unpack[PinFields],
    ) -> Pin:
        """Upload a video, wait until Pinterest has processed it, and create a Pin showing it.

        >>> pin = await client.media.create_video_pin(
        ...     "clip.mp4", board_id="123", title="Timelapse", cover_image_key_frame_time=2
        ... )

        Exactly one of ``cover_image_url`` and ``cover_image_key_frame_time`` (seconds into the video) chooses
        the cover. The other keyword arguments are the Pin's fields (:class:`PinFields`). ``video``,
        ``content_type``, ``on_progress``, ``timeout`` and ``poll_interval`` are as for :meth:`upload`. Every
        argument is checked before anything is uploaded.
        """
        if (cover_image_url is None) == (cover_image_key_frame_time is None):
            raise RequestValidationError(
                "cover_image_url", "give exactly one of cover_image_url and cover_image_key_frame_time"
            )
        if cover_image_key_frame_time is not None:
            video_schema = schema_table()["PinMediaSourceVideoID"]["properties"]
            validate(
                cover_image_key_frame_time,
                video_schema["cover_image_key_frame_time"],
                "cover_image_key_frame_time",
            )
        _validate_pin_fields(pin)
        media = await self.upload(
            video,
            content_type=content_type,
            on_progress=on_progress,
            timeout=timeout,
            poll_interval=poll_interval,
        )
        media_id = media.media_id
        if media_id is None:
            raise ResponseValidationError(
                "GET /media/{media_id}: the succeeded media has no media_id", field="$.media_id"
            )
        source = PinMediaSourceVideoID(
            source_type="video_id",
            media_id=media_id,
            cover_image_url=cover_image_url,
            cover_image_key_frame_time=cover_image_key_frame_time,
        )
        return await self._client.pins.create(media_source=source, **pin)

    async def create_image_pin(self, image: ImageSource, **pin: Unpack[PinFields]) -> Pin:
        """Create an image Pin from an ``http(s)://`` URL (``image_url``: Pinterest fetches it) or from a local
        path or bytes (``image_base64``: JPEG or PNG).

        >>> pin = await client.media.create_image_pin("photos/tree.jpg", board_id="123", title="Tree")
        >>> pin = await client.media.create_image_pin("https://example.com/tree.jpg", board_id="123")

        The keyword arguments are the Pin's fields (:class:`PinFields`).
        """
        _validate_pin_fields(pin)
        source: PinMediaSourceImageURL | PinMediaSourceImageBase64
        if _is_url(image):
            source = PinMediaSourceImageURL(source_type="image_url", url=str(image))
        else:
            content_type, data = await _read_image(image, "image")
            source = PinMediaSourceImageBase64(
                source_type="image_base64", content_type=content_type, data=data
            )
        return await self._client.pins.create(media_source=source, **pin)

    async def create_carousel_pin(
        self, images: Sequence[ImageSource | CarouselImage], **pin: Unpack[PinFields]
    ) -> Pin:
        """Create a carousel Pin from 2 to 5 images: all ``http(s)://`` URLs (``multiple_image_urls``) or all
        local paths or bytes (``multiple_image_base64``; JPEG or PNG). Wrap an image in :class:`CarouselImage`
        to give it its own title, description and link.

        >>> pin = await client.media.create_carousel_pin(["a.jpg", "b.png"], board_id="123", title="Before/after")

        The keyword arguments are the Pin's fields (:class:`PinFields`).
        """
        _validate_pin_fields(pin)
        slides = [image if isinstance(image, CarouselImage) else CarouselImage(image) for image in images]
        by_url = {_is_url(slide.image) for slide in slides}
        if len(by_url) > 1:
            raise RequestValidationError(
                "images", "give either only http(s) URLs or only local images: the API has no mixed carousel"
            )
        source: PinMediaSourceImagesURL | PinMediaSourceImagesBase64
        if by_url == {True}:
            source = PinMediaSourceImagesURL(
                source_type="multiple_image_urls",
                items=[
                    PinMediaSourceImagesURLItem(
                        url=str(slide.image),
                        title=slide.title,
                        description=slide.description,
                        link=slide.link,
                    )
                    for slide in slides
                ],
            )
        else:
            items = []
            for position, slide in enumerate(slides):
                content_type, data = await _read_image(slide.image, f"images[{position}]")
                items.append(
                    PinMediaSourceImagesBase64Item(
                        content_type=content_type,
                        data=data,
                        title=slide.title,
                        description=slide.description,
                        link=slide.link,
                    )
                )
            source = PinMediaSourceImagesBase64(source_type="multiple_image_base64", items=items)
        return await self._client.pins.create(media_source=source, **pin)

    async def _register(self, media_type: str) -> tuple[MediaUpload, _UploadTarget]:
        raw = RawResponse()
        # As a dict: the type is any string here, checked against the spec's MediaUploadType on the way out.
        registration = await self.create(body={"media_type": media_type}, options=RequestOptions(capture=raw))
        try:
            target = _target_decoder.decode(raw.content)
        except (msgspec.ValidationError, msgspec.DecodeError) as error:
            # msgspec names the missing or mistyped field, never its value (the values are S3 credentials).
            raise ResponseValidationError(
                f"media/create: the registration cannot be used for an upload: {error}", status=raw.status
            ) from None
        return registration, target

    async def _send_to_s3(
        self,
        target: _UploadTarget,
        source: _Source,
        content_type: str,
        on_progress: ProgressCallback | None,
    ) -> None:
        form = _S3Form(target.upload_parameters, source, content_type, on_progress)
        try:
            response = await self._client._request_raw(
                "POST",
                target.upload_url,
                headers={"Content-Type": form.content_type},
                body=form.payload,
                # Sending the same key twice is harmless: S3 stores the object once, atomically.
                replay_safe=source.replayable,
                raise_for_status=False,
                # Bounded by upload()'s own deadline, which a large file may need in full.
                timeout=float("inf"),
            )
        except TransportError as error:
            # aiohttp reports a failure inside the body writer (ours: the source, the callback) as a connection
            # error; surface the original instead.
            form.raise_failure()
            if source.started and not source.replayable:
                raise _not_replayable(f"the connection failed ({error.reason})") from error
            raise
        if response.status >= 300:
            raise _s3_error(response, source)


# --- The S3 form -------------------------------------------------------------------------------------------------


class _S3Form:
    """The ``multipart/form-data`` body of one S3 presigned POST: a fresh payload per attempt, one boundary."""

    def __init__(
        self,
        fields: Mapping[str, str],
        source: _Source,
        content_type: str,
        on_progress: ProgressCallback | None,
    ) -> None:
        boundary = secrets.token_hex(16)
        self.content_type = f"multipart/form-data; boundary={boundary}"
        self._head = _form_head(boundary, fields, source.filename, content_type)
        self._tail = f"\r\n--{boundary}--\r\n".encode()
        self.size = len(self._head) + source.size + len(self._tail)
        self._source = source
        self._on_progress = on_progress
        # A failure on our side of the body (reading the source, the callback): never retried.
        self._failure: BaseException | None = None

    def payload(self) -> _StreamedPayload:
        """The body for one attempt (the transport calls this for every attempt)."""
        self.raise_failure()
        if self._source.started and not self._source.replayable:
            raise _not_replayable("S3 asked for it again")
        return _StreamedPayload(self)

    def raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    async def write(self, writer: AbstractStreamWriter) -> None:
        await writer.write(self._head)
        total = self._source.size
        sent = 0
        chunks = self._source.chunks()
        try:
            while True:
                try:
                    chunk = await anext(chunks, None)
                except OSError as error:
                    failure = MediaUploadError(
                        f"reading {self._source.filename} failed: {error}", code=SOURCE_UNREADABLE
                    )
                    self._failure = failure
                    raise failure from error
                except Exception as error:
                    self._failure = error
                    raise
                if chunk is None:
                    break
                if sent + len(chunk) > total:
                    break
                await writer.write(chunk)
                sent += len(chunk)
                if self._on_progress is not None:
                    try:
                        result = self._on_progress(sent, total)
                        if inspect.isawaitable(result):
                            await result
                    except Exception as error:
                        self._failure = error
                        raise
        finally:
            await chunks.aclose()
        if sent != total:
            # Stop before the body is complete: S3 then stores nothing rather than a wrong file.
            self._failure = MediaUploadError(
                f"{self._source.filename} did not yield exactly its size of {total} bytes; it changed while "
                "being sent",
                code=SOURCE_CHANGED,
            )
            raise self._failure
        await writer.write(self._tail)


class _StreamedPayload(Payload):
    """An aiohttp payload of known size that streams an :class:`_S3Form`."""

    # It holds nothing to close: sources open and close their files while they are written.
    _autoclose = True

    def __init__(self, form: _S3Form) -> None:
        super().__init__(form, content_type=form.content_type)
        self._form = form
        self._size = form.size

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self._form.write(writer)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("a streamed upload has no text form")


def _form_head(boundary: str, fields: Mapping[str, str], filename: str, content_type: str) -> bytes:
    """Every form field in the order given, then the file part's headers: the file must be the last field."""
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{_quote(filename)}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    )
    return "".join(parts).encode()


def _quote(name: str) -> str:
    # Escapes as browsers do (WHATWG multipart/form-data): a quote or line break cannot end the header early.
    return name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _s3_error(response: RawResponse, source: _Source) -> MediaUploadError:
    """S3's XML error (``<Error><Code>..</Code><Message>..</Message></Error>``) as a :class:`MediaUploadError`."""
    code = message = None
    try:
        root = ElementTree.fromstring(response.content)
        code, message = root.findtext("Code"), root.findtext("Message")
    except ElementTree.ParseError:
        pass
    if message is None:
        snippet = response.content[:_ERROR_SNIPPET].decode("utf-8", "replace").strip()
        message = f"non-XML body: {snippet!r}" if snippet else "empty body"
    text = f"S3 rejected the upload: {response.status} {code or ''}".rstrip() + f": {message}"
    if response.status >= 500 and not source.replayable:
        text += " (not retried: the source is a one-shot stream, which cannot be sent again)"
    return MediaUploadError(text, code=code, status=response.status)


def _not_replayable(reason: str) -> MediaUploadError:
    return MediaUploadError(
        f"the S3 upload must be sent again ({reason}), but the source is a one-shot async iterator that cannot "
        "restart from the beginning; nothing partial was stored. Pass a path, bytes, a seekable file, or a "
        "SizedStream over a re-iterable source to have failed uploads retried",
        code=SOURCE_NOT_REPLAYABLE,
    )


def _content_type(given: str | None, filename: str) -> str:
    if given is None:
        return mimetypes.guess_type(filename)[0] or _DEFAULT_CONTENT_TYPE
    if "\r" in given or "\n" in given:
        raise RequestValidationError("content_type", "must not contain line breaks")
    return given


# --- Sources -----------------------------------------------------------------------------------------------------


Chunk: TypeAlias = bytes | memoryview


class _Source(ABC):
    """A validated upload source: its exact size, a file name for the form, and its bytes from the start."""

    __slots__ = ("filename", "replayable", "size", "started")

    def __init__(self, size: int, filename: str | None, *, replayable: bool = True) -> None:
        self.size = size
        self.filename = filename or _DEFAULT_FILENAME
        #: Whether the bytes can be produced again from the start, for a retry.
        self.replayable = replayable
        #: Whether any byte has been taken from the source.
        self.started = False

    def chunks(self) -> AsyncGenerator[Chunk, None]:
        """The source's bytes from the beginning, in chunks."""
        self.started = True
        return self._chunks()

    @abstractmethod
    def _chunks(self) -> AsyncGenerator[Chunk, None]: ...


class _BytesSource(_Source):
    __slots__ = ("_data",)

    def __init__(self, data: memoryview) -> None:
        super().__init__(data.nbytes, None)
        self._data = data

    async def _chunks(self) -> AsyncGenerator[Chunk, None]:
        for offset in range(0, self.size, _CHUNK_SIZE):
            # Slices of a memoryview share the caller's buffer: nothing is copied.
            yield self._data[offset : offset + _CHUNK_SIZE]


class _PathSource(_Source):
    __slots__ = ("_path",)

    def __init__(self, path: Path, size: int) -> None:
        super().__init__(size, path.name)
        self._path = path

    async def _chunks(self) -> AsyncGenerator[Chunk, None]:
        file = await anyio.to_thread.run_sync(self._path.open, "rb")
        try:
            async for chunk in _read(file):
                yield chunk
        finally:
            file.close()


class _FileObjectSource(_Source):
    __slots__ = ("_file", "_start")

    def __init__(self, file: IO[bytes], start: int, size: int) -> None:
        name = getattr(file, "name", None)
        super().__init__(size, os.path.basename(name) if isinstance(name, str) else None)
        self._file = file
        self._start = start

    async def _chunks(self) -> AsyncGenerator[Chunk, None]:
        # Each attempt rewinds to where the caller's file stood; the caller keeps ownership (it is not closed).
        await anyio.to_thread.run_sync(self._file.seek, self._start)
        async for chunk in _read(self._file):
            yield chunk


class _StreamSource(_Source):
    __slots__ = ("_stream",)

    def __init__(self, stream: SizedStream) -> None:
        # An iterator's __aiter__ returns itself: once read, it is gone. Other iterables start afresh.
        super().__init__(
            stream.size, stream.filename, replayable=not isinstance(stream.chunks, AsyncIterator)
        )
        self._stream = stream

    async def _chunks(self) -> AsyncGenerator[Chunk, None]:
        async for chunk in self._stream.chunks:
            yield chunk


async def _read(file: IO[bytes]) -> AsyncGenerator[bytes, None]:
    # Disk reads happen in a worker thread so that a slow disk never stalls the event loop.
    while chunk := await anyio.to_thread.run_sync(file.read, _CHUNK_SIZE):
        yield chunk


async def _prepare_source(source: MediaSource) -> _Source:
    """Check the source and learn its size, before anything is registered."""
    if isinstance(source, SizedStream):
        if source.size <= 0:
            raise RequestValidationError("source", f"SizedStream.size must be positive, not {source.size}")
        return _StreamSource(source)
    if isinstance(source, bytes | bytearray | memoryview):
        data = memoryview(source).cast("B")
        if not data.nbytes:
            raise RequestValidationError("source", "the data is empty")
        return _BytesSource(data)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            info = await anyio.Path(path).stat()
        except FileNotFoundError:
            raise RequestValidationError("source", f"no such file: {path}") from None
        except OSError as error:
            raise RequestValidationError("source", f"cannot read {path}: {error.strerror}") from None
        if not stat.S_ISREG(info.st_mode):
            raise RequestValidationError("source", f"not a regular file: {path}")
        if not info.st_size:
            raise RequestValidationError("source", f"the file is empty: {path}")
        return _PathSource(path, info.st_size)
    if isinstance(source, AsyncIterable):
        raise RequestValidationError(
            "source", "the size of an async iterable cannot be known; pass SizedStream(chunks, size=...)"
        )
    if callable(getattr(source, "read", None)):
        return await _prepare_file_object(source)
    raise RequestValidationError("source", f"cannot upload a {type(source).__name__}")


async def _prepare_file_object(file: IO[bytes]) -> _Source:
    if not file.seekable():
        raise RequestValidationError(
            "source",
            "the size of a non-seekable file cannot be known, nor can it be rewound for a retry; "
            "pass SizedStream(chunks, size=...)",
        )

    def measure() -> tuple[int, int]:
        start = file.tell()
        end = file.seek(0, os.SEEK_END)
        file.seek(start)
        return start, end

    start, end = await anyio.to_thread.run_sync(measure)
    if end <= start:
        raise RequestValidationError("source", "the file has no bytes left to read")
    return _FileObjectSource(file, start, end - start)


async def _cancel(tasks: Iterable[asyncio.Task[Media]]) -> None:
    pending = list(tasks)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    for task in pending:
        # Retrieved, so that asyncio does not log a finished task's error as never retrieved.
        if not task.cancelled():
            task.exception()


# --- Pin helpers -------------------------------------------------------------------------------------------------


def _validate_pin_fields(pin: PinFields) -> None:
    # Checked against the spec before any upload, so a bad board_id fails before the video is sent.
    fields = {name: value for name, value in pin.items() if name != "ad_account_id"}
    schema = schema_table()["PinCreate"]
    # media_source is made from the upload, after this check: every other rule applies now.
    later = {**schema, "required": [name for name in schema.get("required", ()) if name != "media_source"]}
    validate(fields, later, "body")


def _is_url(image: ImageSource) -> bool:
    return isinstance(image, str) and image.startswith(("https://", "http://"))


async def _read_image(image: ImageSource, argument: str) -> tuple[str, str]:
    """The image's content type (sniffed: JPEG or PNG) and its base64 text."""
    if isinstance(image, bytes):
        data = image
    else:
        try:
            data = await anyio.Path(image).read_bytes()
        except FileNotFoundError:
            raise RequestValidationError(argument, f"no such file: {image}") from None
        except OSError as error:
            raise RequestValidationError(argument, f"cannot read {image}: {error.strerror}") from None
    if not data:
        raise RequestValidationError(argument, "the image is empty")
    for signature, content_type in _IMAGE_SIGNATURES.items():
        if data.startswith(signature):
            return content_type, base64.b64encode(data).decode("ascii")
    raise RequestValidationError(
        argument, "not a JPEG or PNG image, the types Pinterest accepts as image data"
    )
