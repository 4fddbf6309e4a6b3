"""The public option types: ``options=`` of every generated method (:class:`RequestOptions`), the response it can
capture (:class:`RawResponse`), and the client's :class:`Timeout`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import aiohttp
import msgspec

from .errors import find_request_id

if TYPE_CHECKING:
    # Only for annotations: the transport imports this module.
    from yarl import URL

    from ._transport.retry import RetryPolicy


class RawResponse(msgspec.Struct):
    """The user's copy of a call's final HTTP response: made empty by the caller, filled in by the transport for a
    call made with ``capture=``.

    >>> raw = RawResponse()
    >>> pin = await client.pins.get(pin_id="1", options=RequestOptions(capture=raw))
    >>> raw.status, raw.request_id, len(raw.content)
    """

    status: int = 0
    headers: Mapping[str, str] = msgspec.field(default_factory=dict)
    content: bytes = b""
    # The transport passes the URL as it was sent; it is turned into redacted text only if someone asks.
    _url: str | URL = ""

    @property
    def url(self) -> str:
        """The URL of the response, with user info and signatures in the query redacted."""
        url = self._url
        if not isinstance(url, str):
            from ._transport.redact import redact_url  # here: the transport imports this module

            url = self._url = redact_url(url)
        return url

    @url.setter
    def url(self, value: str) -> None:
        self._url = value

    @property
    def request_id(self) -> str | None:
        """Pinterest's id for this response (``x-pinterest-rid``, else ``x-request-id``), to quote to its support."""
        found = find_request_id(self.headers)
        return found[1] if found else None

    def __repr__(self) -> str:
        return f"RawResponse(status={self.status}, url={self.url!r}, content=<{len(self.content)} bytes>)"


class RequestOptions(msgspec.Struct, frozen=True, kw_only=True):
    """Options for one call.

    timeout: total seconds for this call, retries included (waiting for a concurrency slot is not counted).
    headers: extra HTTP headers (they cannot replace Authorization).
    query: extra query parameters, sent as given.
    capture: a :class:`RawResponse` to receive the status, headers and undecoded body.
    retry: the :class:`RetryPolicy` for this call instead of the client's (``RetryPolicy.disabled()``: one try).
    """

    timeout: float | None = None
    headers: Mapping[str, str] | None = None
    query: Mapping[str, str] | None = None
    capture: RawResponse | None = None
    retry: RetryPolicy | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeout:
    """Timeouts in seconds; ``None`` disables one.

    total: the whole call, retries, backoff and rate-limit waits included; waiting for a concurrency slot
        (``max_concurrency``) is not counted.
    connect: establishing one connection (a failure here is safe to retry for any method).
    attempt: one HTTP exchange, from connecting to the end of the body (redirects included); a slow attempt is
        abandoned and, when the retry policy allows (GET, DELETE, ...), tried again. Enforced by one timer for all
        the attempts in flight (``deadlines.py``), not one per request.
    read: the longest silence while reading a response. Off by default: aiohttp re-arms this timer on every
        chunk received, which costs about a fifth of a small request's CPU time; ``attempt`` already catches a
        stalled server.
    """

    total: float | None = 180.0
    connect: float | None = 10.0
    attempt: float | None = 60.0
    read: float | None = None
    # aiohttp's own timeouts (connect, read) for an attempt whose limit the transport enforces: built once, not
    # per attempt (8,500 instructions per pins.get, 2.1%, bench/instructions.py).
    _connect_and_read: aiohttp.ClientTimeout = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        timeouts = aiohttp.ClientTimeout(total=None, connect=self.connect, sock_read=self.read)
        object.__setattr__(self, "_connect_and_read", timeouts)

    def for_aiohttp(self, attempt_limit: float | None = None) -> aiohttp.ClientTimeout:
        """aiohttp's timeouts for one attempt: connect and read, and the whole attempt's limit when aiohttp must
        enforce it (a streamed body, read by the caller after the transport has returned)."""
        if attempt_limit is None:
            return self._connect_and_read
        # aiohttp reads a total of 0 as "no limit".
        return aiohttp.ClientTimeout(
            total=max(attempt_limit, 1e-6), connect=self.connect, sock_read=self.read
        )
