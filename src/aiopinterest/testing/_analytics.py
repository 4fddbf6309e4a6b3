"""Deterministic analytics: the same entity, day and metric always give the same number.

Serves pin analytics, user account analytics and the rows of asynchronous ad-account reports. Numbers come from
hashes, so they need no storage, agree across calls (a summary equals the sum of its days) and honour any date
range and metric list.

Built for volume (a 100-Pin request over 90 days and 4 metrics holds 36,000 numbers): a value is
``(entity key XOR day key) % scale``, where the entity key hashes (entity, metric) once per entity and the day
keys hash (day, metric) once per date range and metric list (:class:`Layout`, cached). One entity's whole series
is then a single comprehension of integer arithmetic, and its ``daily_metrics`` JSON a single ``%``-format of a
template that msgspec encoded once for the layout.
"""

from __future__ import annotations

import csv
import datetime
import functools
import hashlib
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from .._operation import Operation
from ..errors import RequestValidationError
from ._spec_checks import as_date

#: The keys a response is split into, per ``split_field`` (``NO_SPLIT`` gives the single key Pinterest uses).
SPLIT_KEYS: Mapping[str, tuple[str, ...]] = {
    "NO_SPLIT": ("all",),
    "APP_TYPE": ("mobile", "tablet", "web"),
    "OWNED_CONTENT": ("owned", "other"),
    "SOURCE": ("your_pins", "other_pins"),
    "PIN_FORMAT": ("organic_image", "organic_video", "organic_product"),
}

# A count is in [0, 1000); a rate is n / 100_000 for n in [0, 10_000), so in [0, 0.1) with five decimals.
_COUNT_SCALE = 1_000
_RATE_SCALE = 10_000
_RATE_DIVISOR = 100_000
# A rate is written as the decimal text of n / 100_000 directly, so values stay integers until the JSON.
_RATE_SLOT = b"0.%05d"
_COUNT_SLOT = b"%d"


def _is_rate(metric: str) -> bool:
    return metric.endswith("_RATE")


def _key(*parts: object) -> int:
    # Not CRC32: it is linear, so the XOR of an entity key and a day key would cancel the metric's part and give
    # metrics with names of equal length ("IMPRESSION", "ENGAGEMENT") the same numbers.
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=4).digest()
    return int.from_bytes(digest)


# Pinterest's synchronous analytics: a start_date "cannot be more than 90 days back from today" (8 with hourly
# granularity, the HOUR granularity's own description), and a range spans at most 90 days.
_DAYS_BACK = 90
_HOURLY_DAYS_BACK = 8
_LONGEST_SPAN = datetime.timedelta(days=90)


def check_analytics_window(operation: Operation, query: Mapping[str, Any]) -> None:
    """Refuse analytics dates the API refuses though their schema allows them, naming the parameter.

    Only the synchronous analytics operations (a required ``start_date`` query parameter) have these limits;
    asynchronous reports take optional dates going back years.
    """
    declared = operation.parameter("start_date")
    if declared is None or declared.location != "query" or not declared.required:
        return
    start, end = as_date(query.get("start_date")), as_date(query.get("end_date"))
    if start is None:
        return
    today = datetime.datetime.now(datetime.UTC).date()
    hourly = query.get("granularity") == "HOUR"
    days_back = _HOURLY_DAYS_BACK if hourly else _DAYS_BACK
    earliest = today - datetime.timedelta(days=days_back)
    if start < earliest:
        raise RequestValidationError(
            "start_date",
            f"{start.isoformat()} is more than {days_back} days before today ({today.isoformat()}, UTC)"
            f"{' with granularity HOUR' if hourly else ''}",
        )
    if end is not None and end - start > _LONGEST_SPAN:
        raise RequestValidationError(
            "end_date", f"{end.isoformat()} is {(end - start).days} days after start_date {start.isoformat()}"
        )


def parse_date(value: str, name: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise RequestValidationError(name, f"expected a date as YYYY-MM-DD, got {value!r}") from None


@dataclass(frozen=True, slots=True)
class Layout:
    """What every entity's numbers over one date range and metric list share.

    ``day_keys`` and ``scales`` hold one entry per (day, metric) in day-major order, the order of the slots in
    ``daily_template`` (the ``daily_metrics`` JSON array with a ``%``-slot per number).
    """

    days: tuple[datetime.date, ...]
    metrics: tuple[str, ...]
    day_keys: tuple[int, ...]
    scales: tuple[int, ...]
    daily_template: bytes

    def series(self, entity: str) -> list[int]:
        """Every number of ``entity``, day-major, rates as their integer numerator (see ``_RATE_DIVISOR``)."""
        entity_keys = [_key(entity, metric) for metric in self.metrics] * len(self.days)
        return [
            (entity_key ^ day_key) % scale
            for entity_key, day_key, scale in zip(entity_keys, self.day_keys, self.scales, strict=True)
        ]

    def summary(self, values: Sequence[int], days: range | None = None) -> dict[str, int | float]:
        """Per metric over ``days`` (indices into :attr:`days`, default all): counts add up, rates average."""
        days = days if days is not None else range(len(self.days))
        width = len(self.metrics)
        summary: dict[str, int | float] = {}
        for index, metric in enumerate(self.metrics):
            total = sum(values[days.start * width + index : days.stop * width : width])
            summary[metric] = round(total / len(days) / _RATE_DIVISOR, 5) if _is_rate(metric) else total
        return summary

    def daily_json(self, values: Sequence[int]) -> msgspec.Raw:
        return msgspec.Raw(self.daily_template % tuple(values))


@functools.lru_cache(maxsize=64)
def _layout(start: datetime.date, end: datetime.date, metrics: tuple[str, ...]) -> Layout:
    days = tuple(start + datetime.timedelta(days=offset) for offset in range((end - start).days + 1))
    slots = {metric: "@@rate@@" if _is_rate(metric) else "@@count@@" for metric in metrics}
    template = msgspec.json.encode(
        [{"date": day.isoformat(), "data_status": "READY", "metrics": slots} for day in days]
    )
    template = (
        template.replace(b"%", b"%%").replace(b'"@@count@@"', _COUNT_SLOT).replace(b'"@@rate@@"', _RATE_SLOT)
    )
    return Layout(
        days=days,
        metrics=metrics,
        day_keys=tuple(_key(day.toordinal(), metric) for day in days for metric in metrics),
        scales=tuple(_RATE_SCALE if _is_rate(metric) else _COUNT_SCALE for _ in days for metric in metrics),
        daily_template=template,
    )


def analytics_layout(query: Mapping[str, Any], metrics: Iterable[str]) -> Layout:
    """The :class:`Layout` of ``start_date`` to ``end_date`` inclusive.

    The API's limits on how far back and how long (synchronous analytics only) are checked with the request's
    other parameters, by :func:`~aiopinterest.testing._incoming.parse_call`.
    """
    start = parse_date(query["start_date"], "start_date")
    end = parse_date(query["end_date"], "end_date")
    if end < start:
        raise RequestValidationError("end_date", "must not be before start_date")
    # A metric named twice is reported once, as one key of a JSON object can only be.
    return _layout(start, end, tuple(dict.fromkeys(metrics)))


def metrics_by_split(
    entity: str, layout: Layout, split_field: str, *, lifetime: bool = False
) -> dict[str, Any]:
    """``{split key: {daily_metrics, summary_metrics[, lifetime_metrics]}}`` as Pinterest's analytics answer."""
    result: dict[str, Any] = {}
    for key in SPLIT_KEYS.get(split_field, ("all",)):
        scoped = entity if key == "all" else f"{entity}/{key}"
        values = layout.series(scoped)
        entry: dict[str, Any] = {
            "daily_metrics": layout.daily_json(values),
            "summary_metrics": layout.summary(values),
        }
        if lifetime:
            entry["lifetime_metrics"] = {
                metric: _key(scoped, metric, "lifetime") % _COUNT_SCALE * 100
                for metric in layout.metrics
                if not _is_rate(metric)
            }
        result[key] = entry
    return result


def report_rows(ad_account_id: str, request: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The content of an asynchronous report: rows keyed by the ad account, one per period of the granularity."""
    layout = analytics_layout(request, request.get("columns") or ())
    level: str = request.get("level", "ADVERTISER")
    values = layout.series(ad_account_id)
    rows = []
    for label, days in _periods(layout.days, request.get("granularity", "TOTAL")):
        row: dict[str, Any] = {"AD_ACCOUNT_ID": ad_account_id, "LEVEL": level}
        if label is not None:
            row["DATE"] = label
        row.update(layout.summary(values, days))
        rows.append(row)
    return {ad_account_id: rows}


def _periods(days: Sequence[datetime.date], granularity: str) -> Iterator[tuple[str | None, range]]:
    """The report's periods: a label (``None`` for ``TOTAL``) and the indices of its days, which are consecutive."""
    if granularity == "TOTAL":
        yield None, range(len(days))
        return
    if granularity in ("DAY", "HOUR"):
        for index, day in enumerate(days):
            yield day.isoformat(), range(index, index + 1)
        return
    groups: dict[str, range] = {}
    for index, day in enumerate(days):
        start = day - datetime.timedelta(days=day.weekday()) if granularity == "WEEK" else day.replace(day=1)
        label = start.isoformat()
        groups[label] = range(groups[label].start if label in groups else index, index + 1)
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
