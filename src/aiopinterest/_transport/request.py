"""What the transport sends: one request, as every attempt of a call sends it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeAlias

import msgspec
from yarl import URL

#: Category of requests that are not API operations (S3 uploads, report downloads).
EXTERNAL_CATEGORY: Final = "external"
#: A request body: bytes, or a function returning a fresh aiohttp payload for every attempt (an aiohttp
#: ``FormData`` or ``MultipartWriter`` cannot be sent twice, and a retry must resend the body).
Body: TypeAlias = bytes | Callable[[], Any] | None


# A msgspec Struct, whose __init__ is C: as a dataclass, 4,500 more instructions per pins.get (1.1%,
# bench/instructions.py).
class OutgoingRequest(msgspec.Struct, kw_only=True):
    """One request, as sent on every attempt of a call."""

    method: str
    url: URL
    body: Body = None
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    category: str = EXTERNAL_CATEGORY
    operation_id: str | None = None
    # Send the client's bearer token (only ever to the API origin).
    authenticated: bool = False
    # A fixed Authorization value (HTTP Basic for /oauth/token), kept out of hooks and logs like the bearer.
    authorization: str | None = None
    # The caller vouches that sending it twice is harmless, so timeouts and 5xx may be retried.
    replay_safe: bool = False
    # The OAuth scopes it needs: refused before sending once the token's scopes are known and lack one.
    scopes: tuple[str, ...] = ()
