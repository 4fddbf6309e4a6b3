"""Deterministic analytics: the same entity, day and metric always give the same number.

Serves pin analytics, user account analytics and the rows of asynchronous ad-account reports. Numbers come from a
hash, so they need no storage, agree across calls (a summary equals the sum of its days) and honour any date range.
"""

from __future__ import annotations

import csv
import datetime
import io
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import msgspec

from ..errors import RequestValidationError

#: The longest range (end minus start) the organic analytics endpoints accept, as Pinterest documents.
MAX_ANALYTICS_DAYS = 90

#: The keys a response is split into, per ``split_field`` (``NO_SPLIT`` gives the single key Pinterest uses).
SPLIT_KEYS: Mapping[str, tuple[str, ...]] = {
    "NO_SPLIT": ("all",),
    "APP_TYPE": ("mobile", "tablet", "web"),
    "OWNED_CONTENT": ("owned", "other"),
    "SOURCE": ("your_pins", "other_pins"),
    "PIN_FORMAT": ("organic_image", "organic_video", "organic_product"),
}


def parse_date(value: str, name: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise RequestValidationError(name, f"expected a date as YYYY-MM-DD, got {value!r}") from None


def date_range(query: Mapping[str, Any], *, max_days: int | None = MAX_ANALYTICS_DAYS) -> list[datetime.date]:
    """Every day from ``start_date`` to ``end_date`` inclusive, after checking the range."""
    start = parse_date(query["start_date"], "start_date")
    end = parse_date(query["end_date"], "end_date")
    if end < start:
        raise RequestValidationError("end_date", "must not be before start_date")
    if max_days is not None and (end - start).days > max_days:
        raise RequestValidationError("start_date", f"must be at most {max_days} days before end_date")
    return [start + datetime.timedelta(days=offset) for offset in range((end - start).days + 1)]


def metric_value(entity: str, day: datetime.date | str, metric: str) -> int | float:
    """The number of ``metric`` for ``entity`` on ``day``: a count, or a rate in [0, 1) for ``*_RATE`` metrics."""
    draw = zlib.crc32(f"{entity}|{day}|{metric}".encode())
    if metric.endswith("_RATE"):
        return round((draw % 10_000) / 100_000, 5)
    return draw % 1_000


def _summary(entity: str, days: Sequence[datetime.date], metrics: Sequence[str]) -> dict[str, int | float]:
    summary: dict[str, int | float] = {}
    for metric in metrics:
        values = [metric_value(entity, day, metric) for day in days]
        # Rates average over the range; counts add up.
        summary[metric] = round(sum(values) / len(values), 5) if metric.endswith("_RATE") else sum(values)
    return summary


def metrics_by_split(
    entity: str,
    days: Sequence[datetime.date],
    metrics: Sequence[str],
    split_field: str,
    *,
    lifetime: bool = False,
) -> dict[str, Any]:
    """``{split key: {daily_metrics, summary_metrics[, lifetime_metrics]}}`` as Pinterest's analytics answer."""
    result: dict[str, Any] = {}
    for key in SPLIT_KEYS.get(split_field, ("all",)):
        scoped = entity if key == "all" else f"{entity}/{key}"
        entry: dict[str, Any] = {
            "daily_metrics": [
                {
                    "date": day.isoformat(),
                    "data_status": "READY",
                    "metrics": {metric: metric_value(scoped, day, metric) for metric in metrics},
                }
                for day in days
            ],
            "summary_metrics": _summary(scoped, days, metrics),
        }
        if lifetime:
            entry["lifetime_metrics"] = {
                metric: int(metric_value(scoped, "lifetime", metric) * 100)
                for metric in metrics
                if not metric.endswith("_RATE")
            }
        result[key] = entry
    return result


def report_rows(ad_account_id: str, request: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The content of an asynchronous report: rows keyed by the ad account, one per period of the granularity."""
    days = date_range(request, max_days=None)
    columns: Sequence[str] = request.get("columns") or ()
    level: str = request.get("level", "ADVERTISER")
    rows = []
    for label, period in _periods(days, request.get("granularity", "TOTAL")):
        row: dict[str, Any] = {"AD_ACCOUNT_ID": ad_account_id, "LEVEL": level}
        if label is not None:
            row["DATE"] = label
        for column in columns:
            row[column] = sum(metric_value(ad_account_id, day, column) for day in period)
        rows.append(row)
    return {ad_account_id: rows}


def _periods(
    days: Sequence[datetime.date], granularity: str
) -> Iterator[tuple[str | None, Sequence[datetime.date]]]:
    if granularity == "TOTAL":
        yield None, days
        return
    if granularity in ("DAY", "HOUR"):
        for day in days:
            yield day.isoformat(), (day,)
        return
    groups: dict[str, list[datetime.date]] = {}
    for day in days:
        start = day - datetime.timedelta(days=day.weekday()) if granularity == "WEEK" else day.replace(day=1)
        groups.setdefault(start.isoformat(), []).append(day)
    yield from groups.items()


def render_report(content: Mapping[str, Iterable[Mapping[str, Any]]], report_format: str) -> bytes:
    """The report file: JSON as Pinterest serves it, or CSV with a header row."""
    if report_format != "CSV":
        return msgspec.json.encode(content)
    rows = [row for group in content.values() for row in group]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else [])
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()
