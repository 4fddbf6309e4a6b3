"""aiopinterest: an asyncio-first, fully typed client for the Pinterest REST API v5.

Importing the package is cheap: the client, the operation table and the models load on first use.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ._lazy import lazy_attributes
from ._version import __version__

if os.environ.get("PINTEREST_LOG"):  # the logging module is imported only when asked for
    from ._logging import configure_from_environment

    configure_from_environment()

__all__ = [
    "OPERATIONS",
    "UNSET",
    "APIError",
    "AsyncPaginator",
    "CallEndEvent",
    "CallEvent",
    "CategoryMetrics",
    "Client",
    "Failure",
    "Metrics",
    "OAuthToken",
    "Operation",
    "Page",
    "PinterestError",
    "RawResponse",
    "RequestEvent",
    "RequestOptions",
    "Response",
    "ResponseEvent",
    "RetryPolicy",
    "StreamedResponse",
    "Timeout",
    "UnsetType",
    "__version__",
]

if TYPE_CHECKING:
    from collections.abc import Mapping

    from msgspec import UNSET, UnsetType

    from ._client import Client
    from ._operation import Operation
    from ._options import RawResponse, RequestOptions, Timeout
    from ._transport import (
        CallEndEvent,
        CallEvent,
        CategoryMetrics,
        Failure,
        Metrics,
        OAuthToken,
        RequestEvent,
        ResponseEvent,
        RetryPolicy,
    )
    from ._transport.response import Response, StreamedResponse
    from .errors import APIError, PinterestError
    from .pagination import AsyncPaginator, Page

    OPERATIONS: Mapping[str, Operation]

_LAZY = {
    "Client": ("._client", "Client"),
    "OPERATIONS": ("._generated.operations", "OPERATIONS"),
    "Operation": ("._operation", "Operation"),
    "RawResponse": ("._options", "RawResponse"),
    "RequestOptions": ("._options", "RequestOptions"),
    "APIError": (".errors", "APIError"),
    "PinterestError": (".errors", "PinterestError"),
    "AsyncPaginator": (".pagination", "AsyncPaginator"),
    "Page": (".pagination", "Page"),
    "CallEndEvent": ("._transport", "CallEndEvent"),
    "CallEvent": ("._transport", "CallEvent"),
    "CategoryMetrics": ("._transport", "CategoryMetrics"),
    "Failure": ("._transport", "Failure"),
    "Metrics": ("._transport", "Metrics"),
    "OAuthToken": ("._transport", "OAuthToken"),
    "RequestEvent": ("._transport", "RequestEvent"),
    "ResponseEvent": ("._transport", "ResponseEvent"),
    "RetryPolicy": ("._transport", "RetryPolicy"),
    "Response": ("._transport.response", "Response"),
    "StreamedResponse": ("._transport.response", "StreamedResponse"),
    "Timeout": ("._options", "Timeout"),
    # msgspec's own marker, so that structs omit such fields when they are encoded.
    "UNSET": ("msgspec", "UNSET"),
    "UnsetType": ("msgspec", "UnsetType"),
}


__getattr__ = lazy_attributes(globals(), _LAZY)


def __dir__() -> list[str]:
    return sorted(__all__)
