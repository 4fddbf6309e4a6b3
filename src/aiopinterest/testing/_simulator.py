"""``PinterestSimulator``: the Pinterest API v5 on loopback, as an aiohttp application.

Every request to an API route goes through one pipeline (:meth:`PinterestSimulator._serve`):

1. injected latency, then possibly a dropped connection (:class:`Faults`);
2. the rate-limit window of the operation's category (429 when spent; ``X-RateLimit-*`` on every answer);
3. an injected 5xx;
4. the bearer token (401);
5. path, query and body checked against the spec (400 naming the parameter or field);
6. the organic store for the operations it models, synthesised schema-valid data for the rest.
"""

from __future__ import annotations

import collections
import itertools
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import anyio
import msgspec
from aiohttp import web
from multidict import CIMultiDictProxy

from .._generated.operations import OPERATIONS
from .._operation import Operation
from ..errors import RequestValidationError
from ._failures import ApiFailure, invalid
from ._incoming import parse_call
from ._limits import DEFAULT_RATE_LIMIT, NO_FAULTS, FaultInjector, Faults, RateLimit, RateLimiter
from ._organic import OrganicApi
from ._reports import DEFAULT_DELAY as DEFAULT_REPORT_DELAY
from ._reports import DEFAULT_URL_LIFETIME, Reports
from ._reports import ROUTE as REPORTS_ROUTE
from ._s3 import ROUTE as S3_ROUTE
from ._s3 import S3Bucket, S3Upload
from ._store import DEFAULT_MEDIA_PROCESSING_DELAY, Store
from ._synthesis import Synthesiser

API_PREFIX = "/v5"
_JSON = "application/json"
_ENCODER = msgspec.json.Encoder()
# Large enough for a base64 image in a pin body, small enough that a runaway client is stopped.
_MAX_BODY = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One API request the simulator received and how it answered (``status`` is ``None`` for a dropped one)."""

    operation_id: str
    method: str
    path: str
    query: str
    # Out of the repr: it holds the bearer token, and a failing assertion would print it.
    headers: CIMultiDictProxy[str] = field(repr=False)
    status: int | None


class PinterestSimulator:
    """A local, stateful simulator of the Pinterest REST API v5 for tests, demos and benchmarks.

    >>> async with PinterestSimulator() as sim:
    ...     sim.seed(boards=3, pins_per_board=100)
    ...     async with aiopinterest.Client(access_token=sim.access_token, base_url=sim.base_url) as client:
    ...         page = await client.boards.list()

    It serves all 231 operations from the generated operation table, on 127.0.0.1 and a free port by default.
    Boards, sections, pins, media, pin and user analytics and the asynchronous ad-account report flow are backed
    by a consistent store; every other operation answers schema-valid data synthesised deterministically from
    ``seed``. Media uploads go to the simulator's own S3-compatible endpoint, report files to its own download
    route. Everything is in memory and on loopback; ``async with`` starts and stops it (or :meth:`start` and
    :meth:`close`), on the running event loop, which must be asyncio's.

    Args:
        host, port: where to listen; ``port=0`` picks a free port.
        access_token: the bearer token to accept (default: a random one, see :attr:`access_token`). Tokens
            issued through ``POST /oauth/token`` are accepted too.
        seed: makes synthesised responses and fault draws reproducible.
        rate_limits: per rate-limit category (``"org_read"``, ``"ads_write"``, ...), a :class:`RateLimit`; others
            get ``default_rate_limit``. Adjustable at runtime through :attr:`rate_limits`.
        default_rate_limit: the limit of every category not in ``rate_limits``.
        faults: :class:`Faults` applied to every API request; adjustable at runtime through :attr:`faults`.
        route_faults: :class:`Faults` by operation id (``{"pins/get": Faults(error_rate=1.0)}``), replacing
            ``faults`` for those operations; adjustable at runtime through :attr:`route_faults`.
        media_processing_delay: seconds a media upload stays ``processing`` after its bytes arrive.
        report_delay: seconds an asynchronous report stays ``IN_PROGRESS`` after it is created.
        report_url_lifetime: seconds a finished report's download URL works (Pinterest's five minutes by
            default); after that the URL answers ``403`` (S3's ``AccessDenied``, ``Request has expired``) and a
            new ``get_report`` poll hands out a fresh one.
        fail_reports: every report created while this is true ends ``FAILED`` instead of ``FINISHED`` (see also
            :meth:`fail_report`); adjustable at runtime.
        min_upload_bytes, max_upload_bytes: the ``content-length-range`` of presigned media uploads.
        clock: the monotonic clock of rate-limit windows, media processing, report preparation and report URL
            expiry: a zero-argument callable returning seconds; tests inject one to move time by hand.
        max_recorded: how many requests :attr:`requests` keeps (the most recent ones).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        access_token: str | None = None,
        seed: int = 0,
        rate_limits: Mapping[str, RateLimit] | None = None,
        default_rate_limit: RateLimit = DEFAULT_RATE_LIMIT,
        faults: Faults = NO_FAULTS,
        route_faults: Mapping[str, Faults] | None = None,
        media_processing_delay: float = DEFAULT_MEDIA_PROCESSING_DELAY,
        report_delay: float = DEFAULT_REPORT_DELAY,
        report_url_lifetime: float = DEFAULT_URL_LIFETIME,
        fail_reports: bool = False,
        min_upload_bytes: int = 1,
        max_upload_bytes: int = 2 * 1024**3,
        clock: Callable[[], float] = time.monotonic,
        max_recorded: int = 10_000,
    ) -> None:
        self.host = host
        self.port = port
        self.access_token = access_token or "pina_sim_" + secrets.token_urlsafe(24)
        self._tokens = {self.access_token}
        self._limiter = RateLimiter(clock, default_rate_limit, dict(rate_limits or {}))
        self._faults = FaultInjector(faults, route_faults or {}, seed)
        self._synthesiser = Synthesiser(seed)
        self._synthesised: dict[str, bytes] = {}
        self.store = Store(clock=clock, media_processing_delay=media_processing_delay)
        self.reports = Reports(
            clock=clock, delay=report_delay, url_lifetime=report_url_lifetime, fail_new=fail_reports
        )
        self.bucket = S3Bucket(
            min_bytes=min_upload_bytes, max_bytes=max_upload_bytes, on_upload=self.store.media_uploaded
        )
        self._organic = OrganicApi(self.store, self.bucket, self.reports, self._synthesiser, self._tokens)
        self.requests: collections.deque[RecordedRequest] = collections.deque(maxlen=max_recorded)
        self._request_ids = itertools.count(1)
        self.app = self._build_app()
        self._runner: web.AppRunner | None = None

    def __repr__(self) -> str:
        where = self.base_url if self._runner is not None else "not started"
        return f"PinterestSimulator({where})"

    # -- lifecycle -----------------------------------------------------------------------------------------------

    async def __aenter__(self) -> PinterestSimulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Start listening; :attr:`port` then holds the bound port."""
        if self._runner is not None:
            raise RuntimeError("the simulator is already running")
        runner = web.AppRunner(self.app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]

    async def close(self) -> None:
        """Stop listening and close every connection. Safe to call twice."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    @property
    def origin(self) -> str:
        """``http://host:port`` of the running simulator (the S3 endpoint and report downloads live here)."""
        if self._runner is None:
            raise RuntimeError("the simulator is not running: use `async with PinterestSimulator() as sim`")
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API root to give the client: ``http://127.0.0.1:<port>/v5``."""
        return self.origin + API_PREFIX

    # -- configuration at runtime --------------------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        """The :class:`Faults` of every operation without a route override; assign to change them."""
        return self._faults.default

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._faults.default = faults

    @property
    def route_faults(self) -> dict[str, Faults]:
        """Per-operation :class:`Faults` overrides by operation id; a mutable dict."""
        return self._faults.overrides

    @property
    def rate_limits(self) -> dict[str, RateLimit]:
        """:class:`RateLimit` by rate-limit category; a mutable dict, read on every request."""
        return self._limiter.limits

    @property
    def default_rate_limit(self) -> RateLimit:
        return self._limiter.default

    @default_rate_limit.setter
    def default_rate_limit(self, limit: RateLimit) -> None:
        self._limiter.default = limit

    def reset_rate_limits(self) -> None:
        """Start a fresh window in every category."""
        self._limiter.reset()

    def reseed(self, seed: int) -> None:
        """Restart the fault draws from ``seed`` (synthesised data keeps the constructor's seed)."""
        self._faults.reseed(seed)

    @property
    def media_processing_delay(self) -> float:
        return self.store.media_processing_delay

    @media_processing_delay.setter
    def media_processing_delay(self, seconds: float) -> None:
        self.store.media_processing_delay = seconds

    @property
    def report_delay(self) -> float:
        """Seconds a report stays ``IN_PROGRESS`` after its creation; a change applies to existing reports too."""
        return self.reports.delay

    @report_delay.setter
    def report_delay(self, seconds: float) -> None:
        self.reports.delay = seconds

    @property
    def report_url_lifetime(self) -> float:
        """Seconds a report download URL works after the poll that handed it out; applies to new URLs."""
        return self.reports.url_lifetime

    @report_url_lifetime.setter
    def report_url_lifetime(self, seconds: float) -> None:
        self.reports.url_lifetime = seconds

    @property
    def fail_reports(self) -> bool:
        """Whether reports created from now on end ``FAILED``."""
        return self.reports.fail_new

    @fail_reports.setter
    def fail_reports(self, fail: bool) -> None:
        self.reports.fail_new = fail

    # -- state ---------------------------------------------------------------------------------------------------

    def seed(self, boards: int, pins_per_board: int, *, privacy: str = "PUBLIC") -> list[str]:
        """Add ``boards`` boards with ``pins_per_board`` pins each; returns the new board ids.

        Takes constant time in the number of pins (a million is instant): seeded pins are derived from their ids
        when listed, and only stored once changed. Their titles name a topic (``"Garden idea #42"``) for search.
        """
        return self.store.seed(boards, pins_per_board, privacy)

    def fail_media(self, media_id: str) -> None:
        """Make the processing of this media end in ``failed``."""
        self.store.fail_media(media_id)

    def fail_report(self, token: str, status: str = "FAILED") -> None:
        """Make this report end in ``status`` (``FAILED``, ``CANCELLED`` or ``EXPIRED``) instead of ``FINISHED``.

        It still answers ``IN_PROGRESS`` until ``report_delay`` has passed since its creation; after that every
        poll answers ``status`` and its download URLs answer ``404``.

        >>> report = await bulk.create_report(client, bulk.AD_ACCOUNT_ANALYTICS, ad_account_id="1", body=...)
        >>> sim.fail_report(report.token)  # report.wait() now raises ReportError
        """
        self.reports.fail(token, status)

    @property
    def s3_objects(self) -> dict[str, bytes]:
        """The bytes of every successful media upload, by S3 key (``upload_parameters["key"]``)."""
        return self.bucket.objects

    @property
    def s3_uploads(self) -> list[S3Upload]:
        """Every POST the S3 endpoint received, with its headers, form field names and outcome."""
        return self.bucket.uploads

    # -- the application -----------------------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=_MAX_BODY, middlewares=[_json_errors])
        by_path: dict[str, list[Operation]] = {}
        for operation in OPERATIONS.values():
            by_path.setdefault(operation.path, []).append(operation)
        # aiohttp tries routes in order: a literal segment must win over a parameter in the same position
        # ("/pins/analytics" before "/pins/{pin_id}").
        for path in sorted(by_path, key=lambda p: [segment.startswith("{") for segment in p.split("/")]):
            resource = app.router.add_resource(API_PREFIX + path)
            for operation in by_path[path]:
                resource.add_route(operation.method, self._handler(operation))
        app.router.add_post(S3_ROUTE, self.bucket.handle)
        app.router.add_get(REPORTS_ROUTE, self.reports.handle_download)
        return app

    def _handler(self, operation: Operation) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self._serve(request, operation)

        return handle

    async def _serve(self, request: web.Request, operation: Operation) -> web.StreamResponse:
        decision = self._faults.decide(operation.operation_id)
        if decision.delay:
            await anyio.sleep(decision.delay)
        if decision.drop:
            self._record(request, operation, None)
            if request.transport is not None:
                request.transport.abort()
            # Never reaches the client: the connection is gone.
            return web.Response(status=500)
        verdict = self._limiter.take(operation.ratelimit_category)
        headers = {**verdict.headers(), "x-request-id": f"sim-{next(self._request_ids):08x}"}
        try:
            if not verdict.allowed:
                raise ApiFailure(429, "You have exceeded your rate limit. Try again later.")
            if decision.error_status is not None:
                raise ApiFailure(decision.error_status, "Simulated server error.")
            if not self._authorised(request, operation):
                raise ApiFailure(401, "Authentication failed.")
            status, body = await self._answer(request, operation)
        except ApiFailure as failure:
            status, body = failure.status, failure.body()
        self._record(request, operation, status)
        return web.Response(
            status=status, body=body, headers=headers, content_type=_JSON if body is not None else None
        )

    def _authorised(self, request: web.Request, operation: Operation) -> bool:
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            return credentials in self._tokens
        # The token endpoint authenticates the app itself, with HTTP Basic (app id and secret).
        return operation.operation_id == "oauth/token" and scheme.lower() == "basic" and bool(credentials)

    async def _answer(self, request: web.Request, operation: Operation) -> tuple[int, bytes | None]:
        content = await request.read()
        origin = f"{request.scheme}://{request.host}"
        try:
            call = parse_call(
                operation, origin, request.match_info, request.query, content, request.content_type
            )
            if not self._organic.handles(operation.operation_id):
                return operation.response_status, self._synthesised_body(operation)
            result = self._organic.answer(call)
        except RequestValidationError as error:
            raise invalid(error.field, error.reason) from None
        return operation.response_status, None if result is None else _ENCODER.encode(result)

    def _synthesised_body(self, operation: Operation) -> bytes | None:
        if operation.response is None:
            return None
        body = self._synthesised.get(operation.operation_id)
        if body is None:
            value = self._synthesiser.model(operation.response)
            if operation.paginated and isinstance(value, dict):
                # One page is the whole of a synthesised listing.
                value["bookmark"] = None
            body = self._synthesised[operation.operation_id] = _ENCODER.encode(value)
        return body

    def _record(self, request: web.Request, operation: Operation, status: int | None) -> None:
        self.requests.append(
            RecordedRequest(
                operation.operation_id,
                request.method,
                request.path,
                request.query_string,
                request.headers,
                status,
            )
        )


@web.middleware
async def _json_errors(request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
    """Unknown paths and methods answer in Pinterest's error shape too, not aiohttp's plain text."""
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        failure = ApiFailure(error.status, error.reason)
        allow = {"Allow": error.headers["Allow"]} if "Allow" in error.headers else None
        return web.Response(status=error.status, body=failure.body(), content_type=_JSON, headers=allow)
    return response
