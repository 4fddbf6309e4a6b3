"""Analytics date limits checked before sending, and multi-Pin analytics over any number of Pins."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from .._generated.operations import OPERATIONS
from ..errors import RequestValidationError
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

#: The synchronous analytics operations: their ``start_date`` is the spec's required ``query_start_date``
#: ("cannot be more than 90 days back from today"); the asynchronous report parameters (optional, 2.5 years)
#: are not subject to these limits.
ANALYTICS_WINDOW_OPERATIONS: Final = frozenset(
    operation.operation_id
    for operation in OPERATIONS.values()
    if any(p.name == "start_date" and p.location == "query" and p.required for p in operation.parameters)
)
#: ``multi_pins/analytics`` takes at most this many Pin ids per request.
MULTI_PINS_CHUNK: Final = 100

_MAX_DAYS_BACK: Final = 90
_MAX_SPAN_DAYS: Final = 90
_MAX_HOURLY_DAYS_BACK: Final = 8


def check_analytics_dates(
    operation_id: str, query: Mapping[str, object], *, today: datetime.date | None = None
) -> None:
    """Raise :class:`~aiopinterest.errors.RequestValidationError` for analytics dates the API would refuse.

    For the operations in :data:`ANALYTICS_WINDOW_OPERATIONS`, per the spec: ``start_date`` at most 90 days
    before today (UTC), or 8 days with ``granularity="HOUR"``; ``end_date`` at most 90 days after
    ``start_date``. The error names the parameter. Other operations, and dates that are absent or not
    ``YYYY-MM-DD``, are left alone (the request validation deals with the latter).

    >>> check_analytics_dates("ad_account/analytics", {"start_date": "2020-01-01", "end_date": "2020-01-02"})
    Traceback (most recent call last):
    RequestValidationError: start_date: ...
    """
    if operation_id not in ANALYTICS_WINDOW_OPERATIONS:
        return
    start = _as_date(query.get("start_date"))
    end = _as_date(query.get("end_date"))
    today = today or datetime.datetime.now(datetime.UTC).date()
    hourly = query.get("granularity") == "HOUR"
    days_back = _MAX_HOURLY_DAYS_BACK if hourly else _MAX_DAYS_BACK
    if start is not None and start < today - datetime.timedelta(days=days_back):
        qualifier = " with granularity HOUR" if hourly else ""
        raise RequestValidationError(
            "start_date",
            f"{start.isoformat()} is more than {days_back} days before today ({today.isoformat()}, UTC); "
            f"{operation_id} accepts a start_date from {(today - datetime.timedelta(days=days_back)).isoformat()}"
            f"{qualifier}",
        )
    if start is not None and end is not None and end - start > datetime.timedelta(days=_MAX_SPAN_DAYS):
        raise RequestValidationError(
            "end_date",
            f"{end.isoformat()} is {(end - start).days} days after start_date {start.isoformat()}; "
            f"{operation_id} spans at most {_MAX_SPAN_DAYS} days",
        )


def _as_date(value: object) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None
    return None


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
    check_analytics_dates(operation.operation_id, query)
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
