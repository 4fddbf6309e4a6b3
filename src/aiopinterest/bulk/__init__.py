"""Helpers for bulk pulls: asynchronous reports, analytics limits and multi-Pin analytics, and fan-out.

>>> from aiopinterest import bulk
>>> report = await bulk.create_report(client, bulk.AD_ACCOUNT_ANALYTICS, ad_account_id="1", body=request)
>>> async with report.rows() as rows:
...     async for row in rows: ...
>>> analytics = await bulk.multi_pins_analytics(client, pin_ids=ids, start_date=..., end_date=..., metric_types=[...])
>>> async with bulk.fan_out(fetch, inputs, concurrency=16) as results:
...     async for done in results: ...
"""

from .analytics import (
    ANALYTICS_WINDOW_OPERATIONS,
    MULTI_PINS_CHUNK,
    check_analytics_dates,
    multi_pins_analytics,
)
from .fanout import Done, Failed, FanOut, fan_out
from .reports import AD_ACCOUNT_ANALYTICS, CATALOG, MMM, PollPolicy, Report, ReportFlow, create_report
from .rows import ReportFormat, ReportRow, parse_rows

__all__ = [
    "AD_ACCOUNT_ANALYTICS",
    "ANALYTICS_WINDOW_OPERATIONS",
    "CATALOG",
    "MMM",
    "MULTI_PINS_CHUNK",
    "Done",
    "Failed",
    "FanOut",
    "PollPolicy",
    "Report",
    "ReportFlow",
    "ReportFormat",
    "ReportRow",
    "check_analytics_dates",
    "create_report",
    "fan_out",
    "multi_pins_analytics",
    "parse_rows",
]
