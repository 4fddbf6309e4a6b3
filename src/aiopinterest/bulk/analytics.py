"""Analytics date limits checked before sending, and multi-Pin analytics over any number of Pins."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from .._generated.operations import OPERATIONS
from .._request_builder import check_analytics_window, has_analytics_window
from .fanout import fan_out

if TYPE_CHECKING:
    from .._client import Client
    from .._options import RequestOptions
    from ..models import BulkPinAnalyticsResponse

__all__ = [
    "ANALYTICS_WINDOW_OPERATIONS",
    "MULTI_PINS_CHUNK",
    "check_analytics_dates",
    "multi_pins_analytics",
]

#: The synchronous analytics operations, whose dates the API limits (see :func:`check_analytics_dates`).
ANALYTICS_WINDOW_OPERATIONS: Final = frozenset(
    operation.operation_id for operation in OPERATIONS.values() if has_analytics_window(operation)
)
#: ``multi_pins/analytics`` takes at most this many Pin ids per request.
MULTI_PINS_CHUNK: Final = 100


def check_analytics_dates(
    operation_id: str, query: Mapping[str, object], *, today: datetime.date | None = None
) -> None:
    """The date limits every analytics call is checked against before sending, by operation id.

    >>> check_analytics_dates("ad_account/analytics", {"start_date": "2020-01-01", "end_date": "2020-01-02"})
    Traceback (most recent call last):
    RequestValidationError: start_date: ...
    """
    check_analytics_window(OPERATIONS[operation_id], query, today=today)


async def multi_pins_analytics(
    client: Client,
    *,
    pin_ids: Iterable[str],
    start_date: datetime.date | str,
    end_date: datetime.date | str,
    metric_types: Sequence[str],
    app_types: str | None = None,
    ad_account_id: str | None = None,
    concurrency: int = 4,
    options: RequestOptions | None = None,
) -> BulkPinAnalyticsResponse:
    """``pins.multi_pins_analytics`` for any number of Pins: requests of 100 ids, ``concurrency`` at a time.

    Returns one mapping of Pin id to its analytics, merged from every request. The dates are checked first
    (:func:`check_analytics_dates`); a request that fails after the transport's retries fails the whole call
    (the others are cancelled), since a partial merge would look complete.

    >>> analytics = await multi_pins_analytics(
    ...     client, pin_ids=ids, start_date="2025-01-01", end_date="2025-01-31", metric_types=["IMPRESSION"]
    ... )
    """
    operation = OPERATIONS["multi_pins/analytics"]
    query: dict[str, object] = {
        "start_date": start_date,
        "end_date": end_date,
        "metric_types": metric_types,
        "app_types": app_types,
        "ad_account_id": ad_account_id,
    }
    check_analytics_window(operation, query)
    unique = list(dict.fromkeys(pin_ids))
    chunks = [unique[i : i + MULTI_PINS_CHUNK] for i in range(0, len(unique), MULTI_PINS_CHUNK)]

    async def fetch(chunk: list[str]) -> BulkPinAnalyticsResponse:
        response: BulkPinAnalyticsResponse = await client._request(
            operation, operation.response_type, query={**query, "pin_ids": chunk}, options=options
        )
        return response

    merged: dict[str, Any] = {}
    async with fan_out(fetch, chunks, concurrency=concurrency, fail_fast=True) as results:
        async for done in results:
            merged.update(done.value)
    return merged
