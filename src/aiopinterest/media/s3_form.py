"""The ``multipart/form-data`` body of an S3 presigned POST, streamed from the source chunk by chunk.

Every policy field goes first, in the order given, and the file last (S3 ignores fields after the file). The
length is computed up front, because S3 rejects chunked transfer encoding on POST, so memory use does not grow
with the file.
"""

from __future__ import annotations

import inspect
import mimetypes
import secrets
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from contextlib import aclosing
from typing import Final, TypeAlias

from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import Payload

from ..errors import MediaUploadError, RequestValidationError
from .codes import SOURCE_CHANGED, SOURCE_UNREADABLE
from .sources import Chunk, Source, not_replayable

__all__ = ["ProgressCallback", "S3Form", "file_content_type"]

_DEFAULT_CONTENT_TYPE: Final = "application/octet-stream"

#: ``on_progress(sent_bytes, total_bytes)``: called in the event loop as the file goes out (keep it quick), once
#: per chunk; may be a coroutine function. ``total_bytes`` is the size of the file alone, without form fields.
#: A retried upload starts counting again from 0.
ProgressCallback: TypeAlias = Callable[[int, int], Awaitable[None] | None]


class S3Form:
    """The ``multipart/form-data`` body of one S3 presigned POST: a fresh payload per attempt, one boundary."""

    def __init__(
        self,
        fields: Mapping[str, str],
        source: Source,
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
        # What our side of the body raised (reading the source, the callback): never retried.
        self._write_error: BaseException | None = None

    def payload(self) -> _StreamedPayload:
        """The body for one attempt (the transport calls this for every attempt)."""
        self.raise_write_error()
        if self._source.started and not self._source.replayable:
            raise not_replayable("S3 asked for it again")
        return _StreamedPayload(self)

    def raise_write_error(self) -> None:
        """Raise what writing the body raised on our side, if it did (aiohttp reports it as a lost connection)."""
        if self._write_error is not None:
            raise self._write_error

    async def write(self, writer: AbstractStreamWriter) -> None:
        await writer.write(self._head)
        sent = await self._write_file(writer)
        if sent != self._source.size:
            # Stop before the body is complete: S3 then stores nothing rather than a wrong file.
            raise self._keep(
                MediaUploadError(
                    f"{self._source.filename} did not yield exactly its size of {self._source.size} bytes; it "
                    "changed while being sent",
                    code=SOURCE_CHANGED,
                )
            )
        await writer.write(self._tail)

    async def _write_file(self, writer: AbstractStreamWriter) -> int:
        """Write the source's chunks, stopping at its end or where it overruns its size; the bytes written."""
        total = self._source.size
        sent = 0
        async with aclosing(self._source.chunks()) as chunks:
            while (chunk := await self._next_chunk(chunks)) is not None and sent + len(chunk) <= total:
                await writer.write(chunk)
                sent += len(chunk)
                await self._report_progress(sent, total)
        return sent

    async def _next_chunk(self, chunks: AsyncGenerator[Chunk, None]) -> Chunk | None:
        try:
            return await anext(chunks, None)
        except OSError as error:
            failure = MediaUploadError(
                f"reading {self._source.filename} failed: {error}", code=SOURCE_UNREADABLE
            )
            raise self._keep(failure) from error
        except Exception as error:
            self._keep(error)
            raise

    async def _report_progress(self, sent: int, total: int) -> None:
        if self._on_progress is None:
            return
        try:
            result = self._on_progress(sent, total)
            if inspect.isawaitable(result):
                await result
        except Exception as error:
            self._keep(error)
            raise

    def _keep(self, error: BaseException) -> BaseException:
        self._write_error = error
        return error


class _StreamedPayload(Payload):
    """An aiohttp payload of known size that streams an :class:`S3Form`."""

    # It holds nothing to close: sources open and close their files while they are written.
    _autoclose = True

    def __init__(self, form: S3Form) -> None:
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


def file_content_type(given: str | None, filename: str) -> str:
    """The file part's content type: as given (checked), or guessed from the file name."""
    if given is None:
        return mimetypes.guess_type(filename)[0] or _DEFAULT_CONTENT_TYPE
    if "\r" in given or "\n" in given:
        raise RequestValidationError("content_type", "must not contain line breaks")
    return given
