"""What an error response says: its typed :class:`~aiopinterest.errors.APIError`, and its request id."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from ..errors import APIError, RateLimitError, error_class_for, find_request_id
from .headers import requested_wait
from .redact import redact_url
from .response import Response


class _ErrorBody(msgspec.Struct):
    code: int | None = None
    message: str | None = None


_error_decoder = msgspec.json.Decoder(_ErrorBody)


def api_error(method: str, response: Response, *, attempts: int = 1, now: float) -> APIError:
    """The typed error for an error response; Pinterest's ``{"code", "message"}`` body is read when present."""
    try:
        body = _error_decoder.decode(response.content)
    except (msgspec.DecodeError, msgspec.ValidationError):
        body = _ErrorBody()
    error = error_class_for(response.status)(
        status=response.status,
        method=method,
        url=redact_url(response.url),
        headers=response.headers,
        body=response.content,
        code=body.code,
        message=body.message,
        attempts=attempts,
    )
    if isinstance(error, RateLimitError):
        error.retry_after = requested_wait(response.status, response.headers, now)
    return error


def request_id_note(headers: Mapping[str, str]) -> str:
    """Pinterest's id of a response, for the end of a log line: ``", x-pinterest-rid 8f3a"``, or nothing."""
    found = find_request_id(headers)
    return f", {found[0]} {found[1]}" if found else ""
