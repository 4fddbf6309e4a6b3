"""Error answers of the simulated API, in Pinterest's shape: ``{"code": int, "message": str}``."""

from __future__ import annotations

import msgspec

# Pinterest's numeric codes for the common cases; anything else carries the HTTP status as its code.
_CODES = {400: 1, 401: 2, 403: 3, 404: 4, 409: 6, 429: 8}


class ErrorBody(msgspec.Struct):
    code: int
    message: str


class ApiFailure(Exception):
    """Raised by a handler to answer with an error status and Pinterest's error body."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(f"{status}: {message}")

    def body(self) -> bytes:
        return msgspec.json.encode(ErrorBody(_CODES.get(self.status, self.status), self.message))


def not_found(kind: str, identifier: object) -> ApiFailure:
    return ApiFailure(404, f"{kind} {identifier} not found.")


def invalid(field: str, reason: str) -> ApiFailure:
    """A 400 naming the offending parameter or body field, as the client's own validation would."""
    return ApiFailure(400, f"Invalid request: {field}: {reason}")
