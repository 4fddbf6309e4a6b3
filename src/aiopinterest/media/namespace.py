"""``client.media``: the generated media operations plus the direct-upload flow and the Pin helpers built on it."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Final, Literal, Unpack, overload

import anyio
from anyio.streams.memory import MemoryObjectSendStream

from .._background import produced_in_background
from .._generated.models import Media, MediaUpload, Pin
from .._generated.resources.media import MediaResource
from .._options import RawResponse, RequestOptions
from .._validation import validate
from ..errors import MediaUploadError, PinterestError, ResponseValidationError
from .codes import PROCESSING_FAILED, PROCESSING_TIMEOUT, UPLOAD_TIMEOUT
from .pins import (
    CarouselImage,
    ImageSource,
    PinFields,
    carousel_media_source,
    check_video_cover,
    image_media_source,
    validate_pin_fields,
    video_media_source,
)
from .s3_form import ProgressCallback, file_content_type
from .s3_post import UploadTarget, post_to_s3, read_target
from .sources import MediaSource, prepare_source

__all__ = ["DEFAULT_TIMEOUT", "MAX_POLL_INTERVAL", "MediaNamespace", "UploadOutcome"]

#: Seconds a whole ``upload`` may take by default: registering, sending the file, waiting for processing.
DEFAULT_TIMEOUT: Final = 1800.0
#: Longest pause between two status checks while waiting for processing.
MAX_POLL_INTERVAL: Final = 15.0


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


@dataclass(frozen=True, slots=True)
class _Numbered:
    """A source of ``upload_many`` and its position; shown by position only (a source may be a file's bytes)."""

    index: int
    source: MediaSource

    def __repr__(self) -> str:
        return f"source #{self.index}"


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
        if wait:
            _check_poll_interval(poll_interval)
        prepared = await prepare_source(source)
        validate(media_type, {"$ref": "MediaUploadType"}, "media_type")
        file_type = file_content_type(content_type, prepared.filename)
        deadline = anyio.current_time() + timeout
        with anyio.move_on_after(timeout) as scope:
            registration, target = await self._register(media_type)
            await post_to_s3(self._client, target, prepared, file_type, on_progress)
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
        _check_poll_interval(poll_interval)
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
        the loop early cancels the uploads still running. Any other exception (a bug, say in a
        :class:`SizedStream`'s iterator) cancels them too and is raised, with a note naming the source's
        position. The uploads run through :func:`aiopinterest.bulk.fan_out`.
        """

        async def upload_one(item: _Numbered) -> UploadOutcome:
            try:
                media = await self.upload(
                    item.source,
                    media_type=media_type,
                    content_type=content_type,
                    timeout=timeout,
                    poll_interval=poll_interval,
                )
            except PinterestError as error:
                return UploadOutcome(item.index, item.source, error=error)
            return UploadOutcome(item.index, item.source, media=media)

        # Here, not at the top: importing it loads the whole bulk package, which most users of client.media
        # never need.
        from ..bulk.fanout import fan_out

        async def upload_all(outcomes: MemoryObjectSendStream[UploadOutcome]) -> None:
            numbered = (_Numbered(index, source) for index, source in enumerate(sources))
            # fail_fast: an exception that is not an upload's outcome (a bug) stops every upload and is raised.
            async with fan_out(upload_one, numbered, concurrency=concurrency, fail_fast=True) as results:
                async for done in results:
                    await outcomes.send(done.value)

        # In a background task: the fan-out's task group cannot stay open across this generator's yields.
        async with aclosing(produced_in_background(upload_all)) as outcomes:
            async for outcome in outcomes:
                yield outcome

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
        check_video_cover(cover_image_url, cover_image_key_frame_time)
        validate_pin_fields(pin)
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
        source = video_media_source(media_id, cover_image_url, cover_image_key_frame_time)
        return await self._client.pins.create(media_source=source, **pin)

    async def create_image_pin(self, image: ImageSource, **pin: Unpack[PinFields]) -> Pin:
        """Create an image Pin from an ``http(s)://`` URL (``image_url``: Pinterest fetches it) or from a local
        path or bytes (``image_base64``: JPEG or PNG).

        >>> pin = await client.media.create_image_pin("photos/tree.jpg", board_id="123", title="Tree")
        >>> pin = await client.media.create_image_pin("https://example.com/tree.jpg", board_id="123")

        The keyword arguments are the Pin's fields (:class:`PinFields`).
        """
        validate_pin_fields(pin)
        return await self._client.pins.create(media_source=await image_media_source(image), **pin)

    async def create_carousel_pin(
        self, images: Sequence[ImageSource | CarouselImage], **pin: Unpack[PinFields]
    ) -> Pin:
        """Create a carousel Pin from 2 to 5 images: all ``http(s)://`` URLs (``multiple_image_urls``) or all
        local paths or bytes (``multiple_image_base64``; JPEG or PNG). Wrap an image in :class:`CarouselImage`
        to give it its own title, description and link.

        >>> pin = await client.media.create_carousel_pin(["a.jpg", "b.png"], board_id="123", title="Before/after")

        The keyword arguments are the Pin's fields (:class:`PinFields`).
        """
        validate_pin_fields(pin)
        return await self._client.pins.create(media_source=await carousel_media_source(images), **pin)

    async def _register(self, media_type: str) -> tuple[MediaUpload, UploadTarget]:
        raw = RawResponse()
        # As a dict: the type is any string here, checked against the spec's MediaUploadType on the way out.
        registration = await self.create(body={"media_type": media_type}, options=RequestOptions(capture=raw))
        return registration, read_target(raw)


def _check_poll_interval(poll_interval: float) -> None:
    if poll_interval <= 0:
        raise ValueError("poll_interval must be positive")
