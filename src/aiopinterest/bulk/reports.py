"""Asynchronous reports: create, poll until ready, stream the file as rows.

Three report flows of the API share one shape (create -> token -> poll -> URL of a file):

- :data:`AD_ACCOUNT_ANALYTICS`: ``analytics/create_report`` + ``analytics/get_report``;
- :data:`MMM`: ``analytics/create_mmm_report`` + ``analytics/get_mmm_report``, created at most 5 times a minute
  per advertiser (the documented limit, kept on the client side);
- :data:`CATALOG`: ``reports/create`` + ``reports/get``.

>>> report = await create_report(client, AD_ACCOUNT_ANALYTICS, ad_account_id="123", body={...})
>>> async with report.rows() as rows:
...     async for row in rows:
...         ...
"""

from __future__ import annotations

import collections
import contextlib
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import anyio
import msgspec

from .._generated.operations import OPERATIONS
from .._options import Timeout
from .._transport.clock import Clock
from .._transport.response import StreamedResponse
from ..errors import APIError, ReportError, TransportError
from .rows import ReportFormat, ReportRow, parse_rows

if TYPE_CHECKING:
    from .._client import Client

__all__ = [
    "AD_ACCOUNT_ANALYTICS",
    "CATALOG",
    "MMM",
    "PollPolicy",
    "Report",
    "ReportFlow",
    "create_report",
]

#: How long a report URL stays valid, per the spec ("the link is valid for five minutes").
URL_LIFETIME: Final = 300.0
# A URL older than this is replaced before downloading, leaving room for the download to start.
_URL_FRESH_FOR: Final = URL_LIFETIME - 30.0
_FAILED_STATUSES: Final = frozenset({"FAILED", "EXPIRED", "CANCELLED", "DOES_NOT_EXIST"})
_CHUNK: Final = 1 << 16
# A report file may be large: no bound on the whole download, only on connecting and on each silence.
_DOWNLOAD_TIMEOUT: Final = Timeout(total=None, connect=30.0, attempt=None, read=60.0)


@dataclass(frozen=True, slots=True)
class ReportFlow:
    """One kind of asynchronous report: the operation that creates it and the one that reports on it.

    ``enveloped``: the responses wrap the report state in ``data`` (MMM). ``creations_per_minute``: a
    documented limit on creating reports per advertiser, kept on the client side.
    """

    name: str
    create: str
    get: str
    enveloped: bool = False
    creations_per_minute: int | None = None


AD_ACCOUNT_ANALYTICS: Final = ReportFlow(
    "ad account analytics report", "analytics/create_report", "analytics/get_report"
)
MMM: Final = ReportFlow(
    "MMM report",
    "analytics/create_mmm_report",
    "analytics/get_mmm_report",
    enveloped=True,
    creations_per_minute=5,
)
CATALOG: Final = ReportFlow("catalog report", "reports/create", "reports/get")


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """How :meth:`Report.wait` polls: ``initial`` seconds first, growing by ``factor`` up to ``max_interval``;
    ReportError once ``timeout`` seconds have passed."""

    initial: float = 2.0
    factor: float = 1.5
    max_interval: float = 30.0
    timeout: float = 3600.0


class _ReportState(msgspec.Struct):
    """What the create and get operations of every flow answer (MMM inside ``data``)."""

    token: str | None = None
    report_status: str | None = None
    url: str | None = None
    size: float | None = None
    message: str | None = None


class _Envelope(msgspec.Struct):
    data: _ReportState | None = None
    message: str | None = None


async def create_report(
    client: Client, flow: ReportFlow, *, ad_account_id: str | None = None, body: object
) -> Report:
    """Ask for a report; returns the :class:`Report` to wait for and read.

    ``ad_account_id`` is a path parameter of the ad account flows and an optional query parameter of
    :data:`CATALOG`; ``body`` is the create operation's request body (its struct, or a dict).
    """
    operation = OPERATIONS[flow.create]
    if flow.creations_per_minute is not None:
        if ad_account_id is None:
            raise ValueError(f"{flow.name}: ad_account_id is required")
        await _creation_window(client, flow).wait(ad_account_id)
    state = await _call(client, flow, flow.create, ad_account_id=ad_account_id, body=body)
    if state.token is None:
        raise ReportError(
            f"{operation.operation_id} answered without a report token: {state.message or state.report_status}",
            status=state.report_status,
        )
    _raise_if_failed(flow, state, state.token)
    return Report(client, flow, token=state.token, ad_account_id=ad_account_id)


class Report:
    """A report being prepared; ``Report(client, flow, token=..., ad_account_id=...)`` picks up an existing one.

    ``await report.wait()`` polls until the file is ready; ``report.rows()`` waits, then streams it.
    """

    def __init__(
        self, client: Client, flow: ReportFlow, *, token: str, ad_account_id: str | None = None
    ) -> None:
        self.flow = flow
        self.token = token
        self.ad_account_id = ad_account_id
        self._client = client
        self._url: str | None = None
        self._url_time = 0.0

    def __repr__(self) -> str:
        return f"Report({self.flow.name!r}, token={self.token!r})"

    async def wait(self, poll: PollPolicy | None = None) -> str:
        """Poll with growing intervals until the report is ready; returns the download URL (valid five minutes).

        Raises :class:`~aiopinterest.errors.ReportError` when the report failed, expired or was cancelled, or
        was still not ready after ``poll.timeout`` seconds.
        """
        poll = poll or PollPolicy()
        interval = poll.initial
        with anyio.move_on_after(poll.timeout):
            while True:
                state = await _call(
                    self._client, self.flow, self.flow.get, ad_account_id=self.ad_account_id, token=self.token
                )
                _raise_if_failed(self.flow, state, self.token)
                if state.report_status == "FINISHED" and state.url:
                    self._url, self._url_time = state.url, anyio.current_time()
                    return state.url
                await anyio.sleep(interval)
                interval = min(interval * poll.factor, poll.max_interval)
        raise ReportError(
            f"the {self.flow.name} was not ready after {poll.timeout} s",
            status="IN_PROGRESS",
            token=self.token,
        )

    @asynccontextmanager
    async def rows(
        self, *, format: ReportFormat | None = None, poll: PollPolicy | None = None
    ) -> AsyncIterator[AsyncIterator[ReportRow]]:
        """Wait for the report, then stream its file as rows (CSV records by column name, or JSON objects).

        The file is read chunk by chunk and never held whole; gzip is undone on the fly; ``format=None`` tells
        JSON from CSV by the content. No Authorization header is sent to the file's host. A URL that has
        expired (by age, or refused with 403 by the host) is replaced by a fresh one, once.
        The response is closed when the block exits.
        """
        async with contextlib.AsyncExitStack() as stack:
            response = await self._open(poll, stack)
            yield parse_rows(_chunks(response, self), format)

    async def _open(self, poll: PollPolicy | None, stack: contextlib.AsyncExitStack) -> StreamedResponse:
        """GET the report file (its response closed with ``stack``), with a fresh URL if the one at hand is old
        or refused as expired."""
        if self._url is None or anyio.current_time() - self._url_time > _URL_FRESH_FOR:
            await self.wait(poll)
        refused_before = False
        while True:
            assert self._url is not None
            try:
                # Through the client: its concurrency slots, retries, hooks and metrics; never its bearer token.
                return await stack.enter_async_context(
                    self._client.stream("GET", self._url, authenticated=False, timeout=_DOWNLOAD_TIMEOUT)
                )
            except APIError as error:
                # S3 answers 403 once a presigned URL has expired: poll for a fresh one, once.
                if error.status != 403 or refused_before:
                    raise ReportError(
                        f"downloading the {self.flow.name} failed with HTTP {error.status}",
                        status=str(error.status),
                        token=self.token,
                    ) from error
            except TransportError as error:
                raise ReportError(
                    f"downloading the {self.flow.name} failed: {error}", token=self.token
                ) from error
            refused_before = True
            await self.wait(poll)


async def _chunks(response: StreamedResponse, report: Report) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.iter_chunks(_CHUNK):
            yield chunk
    except TransportError as error:
        raise ReportError(
            f"the download of the {report.flow.name} broke off: {error}", token=report.token
        ) from error


async def _call(
    client: Client, flow: ReportFlow, operation_id: str, *, ad_account_id: str | None, **arguments: object
) -> _ReportState:
    operation = OPERATIONS[operation_id]
    # A path parameter of the ad account flows, an optional query parameter of the catalog one.
    where = getattr(operation.parameter("ad_account_id"), "location", None)
    path = {"ad_account_id": ad_account_id} if where == "path" else {}
    body = arguments.pop("body", None)
    query = {"ad_account_id": ad_account_id, **arguments} if where == "query" else arguments
    if flow.enveloped:
        envelope = await client._request(operation, _Envelope, path=path, query=query, body=body)
        return envelope.data or _ReportState(message=envelope.message)
    return await client._request(operation, _ReportState, path=path, query=query, body=body)


def _raise_if_failed(flow: ReportFlow, state: _ReportState, token: str) -> None:
    if state.report_status in _FAILED_STATUSES:
        raise ReportError(
            f"the {flow.name} {state.report_status.lower().replace('_', ' ')}"
            + (f": {state.message}" if state.message else ""),
            status=state.report_status,
            token=token,
        )


class _CreationWindow:
    """At most ``limit`` creations per ``period`` seconds per advertiser: a sliding window of start times."""

    def __init__(self, limit: int, period: float, clock: Clock) -> None:
        self._limit = limit
        self._period = period
        self._clock = clock
        self._starts: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)

    async def wait(self, key: str) -> None:
        starts = self._starts[key]
        while True:
            now = self._clock.monotonic()
            while starts and starts[0] <= now - self._period:
                starts.popleft()
            if len(starts) < self._limit:
                starts.append(now)
                return
            await self._clock.sleep(starts[0] + self._period - now)


# One window per client and flow: the limit is the API's, shared by every task using the client.
_WINDOWS: weakref.WeakKeyDictionary[Client, dict[str, _CreationWindow]] = weakref.WeakKeyDictionary()


def _creation_window(client: Client, flow: ReportFlow) -> _CreationWindow:
    assert flow.creations_per_minute is not None
    windows = _WINDOWS.setdefault(client, {})
    if flow.create not in windows:
        # The client's clock, so that tests (and simulations) with a fake clock never wait for real.
        windows[flow.create] = _CreationWindow(flow.creations_per_minute, 60.0, client.clock)
    return windows[flow.create]
