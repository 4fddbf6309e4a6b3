"""Turn a call's arguments into the HTTP request the spec describes, validating everything first."""

from __future__ import annotations

import datetime
import enum
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple
from urllib.parse import quote, urlencode

import msgspec
from msgspec import UNSET

from ._operation import Operation, Parameter
from ._validation import check_date_order, checker, validate
from .errors import RequestValidationError

_JSON_ENCODER = msgspec.json.Encoder()
_MAX_DAYS_BACK = 90
_MAX_HOURLY_DAYS_BACK = 8
_MAX_SPAN_DAYS = 90


class PreparedRequest(msgspec.Struct, frozen=True):
    """What goes on the wire: ``path`` is formatted and percent-encoded, relative to the API base URL."""

    method: str
    path: str
    query: list[tuple[str, str]]
    body: bytes | None
    content_type: str | None


def build_request(
    operation: Operation,
    path: Mapping[str, object] | None = None,
    query: Mapping[str, object] | None = None,
    body: object = None,
) -> PreparedRequest:
    """Validate the arguments against the spec and serialise them.

    Raises :class:`RequestValidationError` naming the parameter or body field, before anything is sent.
    """
    entry = _PLANS.get(operation.operation_id)
    plan = entry[1] if entry is not None and entry[0] is operation else _make_plan(operation)
    path_values = path or _NOTHING
    query_values = query or _NOTHING
    if plan.analytics_window:
        check_analytics_window(operation, query_values)
    if plan.date_range:
        check_date_order(query_values)
    url_path = operation.path
    for name, check, placeholder in plan.path:
        value = path_values.get(name)
        if value is None or value is UNSET:
            raise RequestValidationError(name, "is required")
        value = _plain(value)
        check(value)
        # Most path values are plain IDs, which quote() returns unchanged: 5,400 instructions per pins.get (1.3%,
        # bench/instructions.py).
        if type(value) is not str or not (value.isalnum() and value.isascii()):
            value = _path_segment(value)
        url_path = url_path.replace(placeholder, value)
    query_pairs: list[tuple[str, str]] = []
    for name, check, required, parameter in plan.query:
        value = query_values.get(name)
        # UNSET is a method's default: not given. None too, for a query parameter, where null has no form.
        if value is None or value is UNSET:
            if required:
                raise RequestValidationError(name, "is required")
            continue
        if type(value) is str:
            check(value)
            query_pairs.append((name, value))
        else:
            value = _plain(value)
            check(value)
            query_pairs.extend(_query_pairs(parameter, value))
    content = None if body is None and operation.body is None else _encode_body(operation, body)
    return PreparedRequest(
        operation.method,
        url_path,
        query_pairs,
        content,
        operation.body_content_type if content is not None else None,
    )


class _PathCheck(NamedTuple):
    name: str
    check: Callable[[Any], None]
    placeholder: str  # "{name}" as written in the operation's path


class _QueryCheck(NamedTuple):
    name: str
    check: Callable[[Any], None]
    required: bool
    parameter: Parameter  # how a list or an object is serialised


class _Plan(msgspec.Struct, frozen=True):
    """What build_request needs of an operation beyond its record, worked out on the operation's first call:
    the names and compiled checks of its parameters, path and query apart."""

    path: tuple[_PathCheck, ...]
    query: tuple[_QueryCheck, ...]
    analytics_window: bool
    date_range: bool  # has start_date and end_date query parameters, which must come in that order


# By operation_id (a str, its hash cached), with the operation the plan was made for: a plan made for another
# record of the same id (a test's) is replaced, not used.
_PLANS: dict[str, tuple[Operation, _Plan]] = {}
_NOTHING: Mapping[str, object] = {}


def _make_plan(operation: Operation) -> _Plan:
    checks = {parameter.name: checker(parameter.schema, parameter.name) for parameter in operation.parameters}
    plan = _Plan(
        path=tuple(
            _PathCheck(p.name, checks[p.name], "{" + p.name + "}")
            for p in operation.parameters
            if p.location == "path"
        ),
        query=tuple(
            _QueryCheck(p.name, checks[p.name], p.required, p)
            for p in operation.parameters
            if p.location == "query"
        ),
        analytics_window=has_analytics_window(operation),
        date_range={"start_date", "end_date"}
        <= {p.name for p in operation.parameters if p.location == "query"},
    )
    _PLANS[operation.operation_id] = (operation, plan)
    return plan


def _encode_body(operation: Operation, body: object) -> bytes | None:
    if operation.body is None:
        if body is not None:
            raise RequestValidationError("body", f"{operation.operation_id} takes no request body")
        return None
    if body is None:
        if operation.body_required:
            raise RequestValidationError("body", "is required")
        return None
    plain = _plain(body)
    validate(plain, {"$ref": operation.body}, "body")
    if operation.body_content_type == "application/x-www-form-urlencoded":
        return urlencode({k: _scalar(v) for k, v in plain.items() if v is not None}).encode()
    return _JSON_ENCODER.encode(plain)


def _plain(value: Any) -> Any:
    """Structs, dates and enums as the JSON builtins they encode to (dicts, lists, str, int, float, bool)."""
    if value is None or isinstance(value, (str, int, float)):
        return value
    return msgspec.to_builtins(value, enc_hook=_enc_hook)


def _enc_hook(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"cannot send a value of type {type(value).__name__}")


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


def _path_segment(value: Any) -> str:
    return quote(value if type(value) is str else _scalar(value), safe="")


def _query_pairs(parameter: Parameter, value: Any) -> list[tuple[str, str]]:
    if parameter.deep_object and isinstance(value, Mapping):
        return _deep_object_pairs(parameter.name, value)
    if isinstance(value, (list, tuple)):
        if not parameter.explode:
            return [(parameter.name, ",".join(_scalar(item) for item in value))]
        return [(parameter.name, _scalar(item)) for item in value]
    return [(parameter.name, _scalar(value))]


def _deep_object_pairs(prefix: str, value: Any) -> list[tuple[str, str]]:
    """style=deepObject: ``{"report": {"feed_id": "1"}}`` as ``parameters[report][feed_id]=1``."""
    if isinstance(value, Mapping):
        return [
            pair
            for key, item in value.items()
            if item is not None
            for pair in _deep_object_pairs(f"{prefix}[{key}]", item)
        ]
    if isinstance(value, (list, tuple)):
        return [(prefix, _scalar(item)) for item in value]
    return [(prefix, _scalar(value))]


def has_analytics_window(operation: Operation) -> bool:
    """The synchronous analytics operations: their ``start_date`` is the spec's required ``query_start_date``
    ("cannot be more than 90 days back from today"); asynchronous reports (optional dates, 2.5 years) are not."""
    start_date = operation.parameter("start_date")
    return start_date is not None and start_date.location == "query" and start_date.required


def check_analytics_window(
    operation: Operation, query: Mapping[str, object], *, today: datetime.date | None = None
) -> None:
    """Raise :class:`RequestValidationError` for analytics dates the API would refuse, naming the parameter.

    ``start_date`` at most 90 days before today (UTC), or 8 days with ``granularity="HOUR"``; ``end_date`` at
    most 90 days after ``start_date``. Dates that are absent or not ``YYYY-MM-DD`` are left to the schema check.
    """
    # Both checks need a start date; asking first spares every other call the look-up of the operation.
    if query.get("start_date") is None or not has_analytics_window(operation):
        return
    start = _as_date(query.get("start_date"))
    end = _as_date(query.get("end_date"))
    today = today or datetime.datetime.now(datetime.UTC).date()
    hourly = query.get("granularity") == "HOUR"
    days_back = _MAX_HOURLY_DAYS_BACK if hourly else _MAX_DAYS_BACK
    earliest = today - datetime.timedelta(days=days_back)
    if start is not None and start < earliest:
        qualifier = " with granularity HOUR" if hourly else ""
        raise RequestValidationError(
            "start_date",
            f"{start.isoformat()} is more than {days_back} days before today ({today.isoformat()}, UTC); "
            f"{operation.operation_id} accepts a start_date from {earliest.isoformat()}{qualifier}",
        )
    if start is not None and end is not None and end - start > datetime.timedelta(days=_MAX_SPAN_DAYS):
        raise RequestValidationError(
            "end_date",
            f"{end.isoformat()} is {(end - start).days} days after start_date {start.isoformat()}; "
            f"{operation.operation_id} spans at most {_MAX_SPAN_DAYS} days",
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
