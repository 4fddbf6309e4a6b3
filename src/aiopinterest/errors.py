"""Every exception aiopinterest raises derives from :class:`PinterestError`."""

from __future__ import annotations

from collections.abc import Mapping

from ._snippet import body_snippet

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "ConnectError",
    "CredentialsError",
    "MediaUploadError",
    "MissingScopeError",
    "NotFoundError",
    "PaginationError",
    "PermissionDeniedError",
    "PinterestError",
    "RateLimitError",
    "ReportError",
    "RequestTimeoutError",
    "RequestValidationError",
    "ResponseValidationError",
    "SandboxUnsupportedError",
    "ServerError",
    "TransportError",
    "UnprocessableEntityError",
]

#: Where Pinterest names a response for its support: ``x-pinterest-rid``; ``x-request-id`` from proxies and the
#: simulator.
REQUEST_ID_HEADERS = ("x-pinterest-rid", "x-request-id")


def find_request_id(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """The request id of a response and the header it came from, if it carries one.

    Response headers are case-insensitive (aiohttp's ``CIMultiDictProxy``); a plain dict is searched by case too.
    """
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return name, value
    if isinstance(headers, dict):
        for key, value in headers.items():
            if key.lower() in REQUEST_ID_HEADERS and value:
                return key.lower(), value
    return None


class PinterestError(Exception):
    """Base class of every aiopinterest error."""


class RequestValidationError(PinterestError, ValueError):
    """A parameter or body field does not match the spec; raised before anything is sent.

    ``field`` is the parameter name or the JSON path of the body field (``body.media_source.source_type``).
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.reason = message
        super().__init__(f"{field}: {message}")


class ResponseValidationError(PinterestError):
    """A 2xx response body could not be decoded into its type; ``field`` is the path of the bad value."""

    def __init__(self, message: str, *, field: str | None = None, status: int | None = None) -> None:
        self.field = field
        self.status = status
        super().__init__(message)


class SandboxUnsupportedError(PinterestError):
    """The operation is marked ``x-sandbox: disabled`` and the client targets the sandbox."""


class MissingScopeError(PinterestError):
    """The token lacks OAuth scopes the operation requires; raised before sending."""

    def __init__(self, operation_id: str, missing: tuple[str, ...]) -> None:
        self.operation_id = operation_id
        self.missing = missing
        super().__init__(
            f"{operation_id} requires the OAuth scope(s) {', '.join(missing)}, which were not granted"
        )


class ClientClosedError(PinterestError, RuntimeError):
    """The client cannot send any more: it was closed (``client.close()``, or the end of ``async with``), or the
    ``aiohttp.ClientSession`` given as ``session=`` is closed or belongs to an event loop that has ended.

    Calls in flight when the client is closed fail with it too, promptly and without retrying.
    """


class CredentialsError(PinterestError):
    """The client has no way to authenticate: no access token, and no app credentials to obtain one."""


class TransportError(PinterestError):
    """The request failed below HTTP: connection refused or reset, DNS, TLS, or a timeout.

    ``attempts`` counts every try, retries included. The message never carries secrets.
    """

    def __init__(self, message: str, *, attempts: int = 1) -> None:
        self.attempts = attempts
        self.reason = message
        super().__init__(message)

    def with_attempts(self, attempts: int) -> TransportError:
        """This error, reporting how many attempts the call made in total."""
        self.attempts = attempts
        if attempts > 1:
            self.args = (f"{self.reason} (after {attempts} attempts)",)
        return self


class ConnectError(TransportError):
    """No connection could be made (refused, DNS, connect timeout): the request provably never reached the server,
    so retrying it is safe for every HTTP method."""


class RequestTimeoutError(TransportError, TimeoutError):
    """A read took longer than the read timeout, or the whole call outlived its total timeout."""


class APIError(PinterestError):
    """The API answered with an error status.

    ``code`` and ``message`` come from Pinterest's error body when there is one; ``request_id`` is Pinterest's id
    for the response (the ``x-pinterest-rid`` header, else ``x-request-id``), the one its support asks for.
    ``url`` never carries secrets. ``attempts`` counts every try, retries included.
    """

    def __init__(
        self,
        *,
        status: int,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        code: int | None = None,
        message: str | None = None,
        attempts: int = 1,
    ) -> None:
        self.status = status
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.code = code
        self.message = message
        found = find_request_id(headers)
        self.request_id: str | None = found[1] if found else None
        self._request_id_header = found[0] if found else None
        self.attempts = attempts
        super().__init__(self._describe())

    def _describe(self) -> str:
        detail = self.message
        if detail is None:
            snippet = body_snippet(self.body)
            detail = f"non-JSON body: {snippet!r}" if snippet else "empty body"
        parts = [f"{self.status} on {self.method} {self.url}: {detail}"]
        if self.code is not None:
            parts.append(f"code {self.code}")
        if self.request_id:
            parts.append(f"{self._request_id_header} {self.request_id}")
        if self.attempts > 1:
            parts.append(f"after {self.attempts} attempts")
        return "; ".join(parts)


class BadRequestError(APIError):
    """400"""


class AuthenticationError(APIError):
    """401"""


class PermissionDeniedError(APIError):
    """403"""


class NotFoundError(APIError):
    """404"""


class ConflictError(APIError):
    """409"""


class UnprocessableEntityError(APIError):
    """422"""


class RateLimitError(APIError):
    """429, after the retry policy gave up.

    ``retry_after`` is the wait in seconds the server asked for (``Retry-After`` or ``X-RateLimit-Reset``), when
    it said.
    """

    retry_after: float | None = None


class ServerError(APIError):
    """5xx"""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def error_class_for(status: int) -> type[APIError]:
    """The most specific :class:`APIError` subclass for an HTTP status."""
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, APIError)


class PaginationError(PinterestError):
    """Pagination cannot go on: the server repeated a bookmark, or a page failed.

    ``bookmark`` is the position to resume from: every item before it has been yielded, none after it.
    """

    def __init__(self, message: str, *, bookmark: str | None) -> None:
        self.bookmark = bookmark
        super().__init__(message)


class MediaUploadError(PinterestError):
    """The media upload failed: S3 rejected the file (``code`` is S3's error code), or processing failed."""

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        self.code = code
        self.status = status
        super().__init__(message)


class ReportError(PinterestError):
    """An asynchronous report failed or expired before it could be downloaded."""

    def __init__(self, message: str, *, status: str | None = None, token: str | None = None) -> None:
        self.status = status
        self.token = token
        super().__init__(message)


# Shared state (Redis) -------------------------------------------------------------------------------------------


class ConfigurationError(PinterestError):
    """The client's configuration cannot work: a shared store (``redis_url``) that cannot be reached, or an
    optional dependency it needs that is not installed. The message never carries a password."""
