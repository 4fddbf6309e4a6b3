"""What the transport answers with: a :class:`Response` read whole, or a :class:`StreamedResponse` whose body the
caller reads as it arrives. (The user's :class:`~aiopinterest.RawResponse` is a copy of the former, made only when
a call asks for one with ``capture=``.)"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

import aiohttp
import msgspec
from yarl import URL

from ..errors import ClientClosedError, RequestTimeoutError, TransportError
from .redact import redact_url


# A msgspec Struct, whose __init__ is C: as a dataclass, 5,200 more instructions per pins.get (1.3%,
# bench/instructions.py).
class Response(msgspec.Struct, frozen=True):
    """A response with its whole body, from :meth:`Client.request <aiopinterest.Client.request>`: ``status``,
    ``headers`` (case-insensitive), ``content``, and the ``url`` it came from, with its secrets (a presigned
    URL's signature): redact it before showing it; the repr does."""

    status: int
    headers: Mapping[str, str]
    content: bytes
    url: URL

    def __repr__(self) -> str:
        return f"Response(status={self.status}, url={redact_url(self.url)!r}, content=<{len(self.content)} bytes>)"


class StreamedResponse:
    """A response whose body is read as it arrives (from :meth:`Client.stream <aiopinterest.Client.stream>`), in constant memory.

    ``status``, ``headers`` (case-insensitive) and ``url`` (secrets redacted) are known at once. Read the body
    with ``async for chunk in response.iter_chunks()`` or ``await response.read(n)``. A failure while reading
    raises :class:`~aiopinterest.errors.TransportError`: once the body has started, nothing is retried; and
    :class:`~aiopinterest.errors.ClientClosedError` once the client has been closed under it.
    """

    __slots__ = ("_client_closed", "_on_close", "_response", "bytes_received", "headers", "status", "url")

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        url: str,
        on_close: Callable[[StreamedResponse], Awaitable[None]],
        client_closed: Callable[[], bool],
    ) -> None:
        self._response = response
        self._on_close: Callable[[StreamedResponse], Awaitable[None]] | None = on_close
        self._client_closed = client_closed
        self.status: int = response.status
        self.headers: Mapping[str, str] = response.headers
        self.url = url
        #: Body bytes read so far.
        self.bytes_received = 0

    def __repr__(self) -> str:
        return f"StreamedResponse(status={self.status}, url={self.url!r})"

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes of the body (all that is left with ``-1``); ``b""`` at the end."""
        try:
            chunk = await self._response.content.read(n)
        except (aiohttp.ClientError, TimeoutError, RuntimeError) as error:
            # Closing the client closes the connection under the body: aiohttp then says "Connection closed."
            # with a RuntimeError, or a ClientConnectionError.
            if self._client_closed():
                raise ClientClosedError(
                    f"the client was closed while the body of {self.url} was read, after {self.bytes_received} "
                    "bytes"
                ) from None
            if isinstance(error, RuntimeError):
                raise
            raise self._broken_off(error) from error
        self.bytes_received += len(chunk)
        return chunk

    async def iter_chunks(self, size: int = 1 << 16) -> AsyncIterator[bytes]:
        """The body in chunks of at most ``size`` bytes."""
        while chunk := await self.read(size):
            yield chunk

    def _broken_off(self, error: BaseException) -> TransportError:
        detail = str(error) or type(error).__name__
        message = f"the body of {self.url} broke off after {self.bytes_received} bytes: {detail}"
        if isinstance(error, TimeoutError):
            return RequestTimeoutError(message)
        return TransportError(message)

    async def aclose(self) -> None:
        """Release the connection (closing it if the body was not read to the end); safe to call twice."""
        on_close, self._on_close = self._on_close, None
        if on_close is None:
            return
        self._response.release()
        await on_close(self)
