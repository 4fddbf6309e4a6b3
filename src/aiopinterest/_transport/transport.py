"""Every HTTP attempt the client makes goes through :class:`Transport.send`.

One call = one loop of attempts. Each attempt: obtain a bearer token (renewing it if needed), wait at the
category's rate-limit gate, take a concurrency slot, send, read the whole body, release the slot. A failure is
handed to the retry policy, which answers with a delay or gives up; 429 delays are served at the category gate
so that the whole category waits once, other failures sleep per request.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from functools import partial
from types import MappingProxyType
from typing import Final, Literal, TypeVar, cast, overload

import aiohttp
import anyio
import msgspec
from yarl import URL

from .._options import RawResponse
from ..errors import APIError, RateLimitError, RequestTimeoutError, TransportError, error_class_for
from .auth import Authenticator
from .categories import ByCategory
from .clock import Clock
from .deadlines import AttemptDeadlines
from .gates import RateLimitGates
from .headers import requested_wait
from .hooks import CallEvent, Hooks, RequestEvent, ResponseEvent
from .http import Body, ProxySelector, Timeout, create_session, exchange
from .metrics import CategoryMetrics, Metrics
from .redact import redact_url
from .retry import Failure, RetryPolicy

logger = logging.getLogger("aiopinterest")
T = TypeVar("T")

#: Category of requests that are not API operations (S3 uploads, report downloads).
EXTERNAL_CATEGORY: Final = "external"
_NO_HEADERS: Final[Mapping[str, str]] = MappingProxyType({})


# A msgspec Struct: its __init__ is C, several times cheaper than a dataclass's, once per call on the hot path.
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


# A msgspec Struct, made once per call: its __init__ is C.
class _Budget(msgspec.Struct):
    """What is left of one call's total timeout; waits for a concurrency slot are given back.

    Enforced by bounding each wait (token renewal, gates, backoff) and each attempt's aiohttp ``total`` timeout
    with what remains, rather than by one cancel scope around the call: entering an anyio cancel scope costs about
    as much as the rest of the SDK's per-request work together.
    """

    timeouts: Timeout
    _request: OutgoingRequest
    # On time.monotonic, the event loop's clock, and far cheaper to read than through anyio.current_time().
    _deadline: float

    def remaining(self) -> float:
        return self._deadline - time.monotonic()

    def exhausted(self) -> bool:
        # A millisecond of slack: the timer that ended the attempt may fire a hair before the deadline.
        return self.remaining() <= 1e-3

    def extend(self, seconds: float) -> None:
        self._deadline += seconds

    def attempt_limit(self) -> float | None:
        """Seconds the next attempt may take: ``Timeout.attempt``, cut to what remains (``None``: no limit)."""
        attempt = self.timeouts.attempt
        if self._deadline == math.inf:
            return attempt
        remaining = max(self._deadline - time.monotonic(), 0.0)
        return remaining if attempt is None or attempt > remaining else attempt

    def exceeded(self) -> RequestTimeoutError:
        request = self._request
        return RequestTimeoutError(
            f"{request.method} {redact_url(request.url)} did not complete within its "
            f"{self.timeouts.total} s timeout"
        )

    async def bound(self, waiting: Awaitable[T]) -> T:
        """Await ``waiting``, raising :class:`RequestTimeoutError` if the budget runs out first."""
        with anyio.move_on_after(self.remaining()) as scope:
            return await waiting
        assert scope.cancelled_caught
        raise self.exceeded()


class _ErrorBody(msgspec.Struct):
    code: int | None = None
    message: str | None = None


_error_decoder = msgspec.json.Decoder(_ErrorBody)


class StreamedResponse:
    """A response whose body is read as it arrives (from ``Client._stream_raw``), in constant memory.

    ``status``, ``headers`` (case-insensitive) and ``url`` (secrets redacted) are known at once. Read the body
    with ``async for chunk in response.iter_chunks()`` or ``await response.read(n)``. A failure while reading
    raises :class:`~aiopinterest.errors.TransportError`: once the body has started, nothing is retried.
    """

    __slots__ = ("_on_close", "_response", "bytes_received", "headers", "status", "url")

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        url: str,
        on_close: Callable[[StreamedResponse], Awaitable[None]],
    ) -> None:
        self._response = response
        self._on_close: Callable[[StreamedResponse], Awaitable[None]] | None = on_close
        self.status: int = response.status
        self.headers: Mapping[str, str] = response.headers
        self.url = url
        #: Body bytes read so far.
        self.bytes_received = 0

    def __repr__(self) -> str:
        return f"StreamedResponse(status={self.status}, url={self.url!r})"

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes of the body (all that is left with ``-1``); ``b""`` at the end."""
        try:
            chunk = await self._response.content.read(n)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise self._broken_off(error) from error
        self.bytes_received += len(chunk)
        return chunk

    async def iter_chunks(self, size: int = 1 << 16) -> AsyncIterator[bytes]:
        """The body in chunks of at most ``size`` bytes."""
        while chunk := await self.read(size):
            yield chunk

    def _broken_off(self, error: BaseException) -> TransportError:
        detail = str(error) or type(error).__name__
        message = f"the body of {self.url} broke off after {self.bytes_received} bytes: {detail}"
        if isinstance(error, TimeoutError):
            return RequestTimeoutError(message)
        return TransportError(message)

    async def aclose(self) -> None:
        """Release the connection (closing it if the body was not read to the end); safe to call twice."""
        on_close, self._on_close = self._on_close, None
        if on_close is None:
            return
        self._response.release()
        await on_close(self)


class Transport:
    """The HTTP machinery of one client: session, auth, gates, retries, concurrency, metrics and hooks."""

    def __init__(
        self,
        *,
        base_url: URL,
        auth: Authenticator,
        retry: RetryPolicy,
        timeout: Timeout,
        max_concurrency: int,
        gates: RateLimitGates,
        clock: Clock,
        proxy: str | None,
        trust_env: bool,
        session: aiohttp.ClientSession | None,
        user_agent: str,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        # The live counters, made per category on first use; client.metrics reads them without making any.
        self._counters = ByCategory(lambda _: CategoryMetrics())
        self.metrics = Metrics(self._counters)
        self.hooks = Hooks()
        self.retry = retry
        self.timeout = timeout
        self._api_origin = f"{base_url.origin()}/"
        self._api_scheme = base_url.scheme
        self._api_authority = base_url.raw_authority
        self._token_url = URL(f"{base_url}/oauth/token", encoded=True)
        self._auth = auth
        self._gates = gates
        self.clock = clock
        proxies = ProxySelector(proxy, trust_env=trust_env)
        # None when no request can use a proxy: no selector call per request.
        self._proxies = proxies if proxies.configured else None
        self._session = session
        self._owns_session = session is None
        self._closed = False
        self._max_concurrency = max_concurrency
        self._slots = anyio.Semaphore(max_concurrency)
        self._deadlines = AttemptDeadlines()
        self._base_headers = {"User-Agent": user_agent, "Accept": "application/json"}
        self._bearer: tuple[str | None, dict[str, str]] = (None, {})
        auth.connect(self._post_token)

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        """Close the session if the client created it; a session passed in by the caller stays open."""
        self._closed = True
        self._deadlines.close()
        session, self._session = self._session, None
        if session is not None and self._owns_session:
            await session.close()

    @overload
    async def send(
        self,
        request: OutgoingRequest,
        *,
        timeout: float | Timeout | None = None,  # noqa: ASYNC109
        retry: RetryPolicy | None = None,
        capture: RawResponse | None = None,
        raise_for_status: bool = True,
        stream: Literal[False] = False,
    ) -> RawResponse: ...

    @overload
    async def send(
        self,
        request: OutgoingRequest,
        *,
        timeout: float | Timeout | None = None,  # noqa: ASYNC109
        retry: RetryPolicy | None = None,
        stream: Literal[True],
    ) -> StreamedResponse: ...

    async def send(
        self,
        request: OutgoingRequest,
        *,
        # A parameter, not a caller's cancel scope: the budget excludes waits for a concurrency slot.
        timeout: float | Timeout | None = None,  # noqa: ASYNC109
        retry: RetryPolicy | None = None,
        capture: RawResponse | None = None,
        raise_for_status: bool = True,
        stream: bool = False,
        _observed: bool = False,
    ) -> RawResponse | StreamedResponse:
        """Send with retries; returns the final response, or raises the typed error of the last attempt.

        ``timeout``: seconds for the whole call (replacing the client's ``Timeout.total``), or a whole
        :class:`Timeout`; waiting for a concurrency slot is not counted. ``retry`` replaces the client's policy
        for this call. With ``raise_for_status=False`` an error status is returned instead of raised (after
        retries). With ``stream``, a successful response comes back as a :class:`StreamedResponse` holding its
        concurrency slot, its body unread (see :meth:`stream`).
        """
        if not _observed and (self.hooks.call_start or self.hooks.call_end):
            # Once more, between the call hooks; calls without call hooks pay for nothing but this test.
            resend = cast("Callable[..., Awaitable[RawResponse | StreamedResponse]]", self.send)
            call = CallEvent(
                method=request.method,
                url=redact_url(request.url),
                category=request.category,
                operation_id=request.operation_id,
            )
            return await self.hooks.observe_call(
                call,
                lambda: resend(
                    request,
                    timeout=timeout,
                    retry=retry,
                    capture=capture,
                    raise_for_status=raise_for_status,
                    stream=stream,
                    _observed=True,
                ),
            )
        session, budget = self._begin(request, timeout)
        policy = retry or self.retry
        counters = self._counters[request.category]
        attempt = 0
        waited = 0.0
        renewed = False
        backoff = 0.0  # slept before this attempt
        reason: str | None = None  # why this attempt is a retry
        while True:
            attempt += 1
            if attempt > 1:
                counters.retries += 1
            token = None
            if request.authenticated:
                token = self._auth.fresh_token() or await budget.bound(self._auth.bearer())
            gate_wait = 0.0
            if not self._gates.pass_now(request.category):
                gate_wait = await budget.bound(self._gates.wait(request.category))
                counters.gate_wait += gate_wait
                waited += gate_wait
            try:
                # The common case, without the coroutine and event-loop round trip of an awaited acquire.
                self._slots.acquire_nowait()
            except anyio.WouldBlock:
                await self._wait_for_slot(budget)
            try:
                outcome = await self._attempt(
                    session, request, token, attempt, counters, budget, stream, gate_wait, backoff, reason
                )
            except BaseException:
                self._slots.release()
                raise
            if isinstance(outcome, StreamedResponse):
                # Its body is still to be read: the slot is released when the caller closes it.
                self._gates.observe(request.category, outcome.headers)
                return outcome
            self._slots.release()

            if isinstance(outcome, TransportError):
                if isinstance(outcome, RequestTimeoutError) and budget.exhausted():
                    raise budget.exceeded()
                failure = self._failure(request, attempt, waited, error=outcome)
            else:
                self._gates.observe(request.category, outcome.headers)
                if outcome.status < 400:
                    if capture is not None:
                        _copy_into(capture, outcome)
                    return outcome
                # A 401 for a token we may renew: renew once (shared with every request that met it) and replay.
                if outcome.status == 401 and token is not None and not renewed:
                    if await budget.bound(self._auth.renew_rejected(token)):
                        renewed = True
                        reason, backoff = "401", 0.0
                        continue
                failure = self._failure(request, attempt, waited, response=outcome)

            delay = policy.next_delay(failure)
            if delay is None:
                if isinstance(outcome, TransportError):
                    raise outcome.with_attempts(attempt)
                return self._final(request, outcome, attempt, capture, raise_for_status)
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "retrying %s %s in %.3f s after %s (attempt %d, category %s)",
                    request.method,
                    redact_url(request.url),
                    delay,
                    type(outcome).__name__ if isinstance(outcome, TransportError) else outcome.status,
                    attempt,
                    request.category,
                )
            reason = str(failure.status) if failure.status is not None else type(failure.error).__name__
            if failure.status == 429:
                # Served at the gate on the next turn, where every request of the category waits with us.
                self._gates.block(request.category, delay)
                backoff = 0.0
            else:
                await budget.bound(self.clock.sleep(delay))
                counters.backoff_wait += delay
                waited += delay
                backoff = delay

    def _final(
        self,
        request: OutgoingRequest,
        response: RawResponse,
        attempts: int,
        capture: RawResponse | None,
        raise_for_status: bool,
    ) -> RawResponse:
        """The final response of a call: copied into ``capture``, raised as the typed error if it is one."""
        if capture is not None:
            _copy_into(capture, response)
        if raise_for_status and response.status >= 400:
            raise api_error(request.method, response, attempts=attempts, now=self.clock.time())
        return response

    @asynccontextmanager
    async def stream(
        self,
        request: OutgoingRequest,
        *,
        timeout: float | Timeout | None = None,  # noqa: ASYNC109
        retry: RetryPolicy | None = None,
    ) -> AsyncIterator[StreamedResponse]:
        """Like :meth:`send`, but the successful response's body is left for the caller to read.

        Everything up to the response headers (auth, gates, concurrency slot, redirects, retries) is as for
        :meth:`send`; error statuses are read whole and raised as the typed error. The concurrency slot is held
        until the block exits, which closes the response.
        """
        response = await self.send(request, timeout=timeout, retry=retry, stream=True)
        try:
            yield response
        finally:
            await response.aclose()

    def _begin(
        self, request: OutgoingRequest, timeout: float | Timeout | None
    ) -> tuple[aiohttp.ClientSession, _Budget]:
        # Scheme and raw authority, both cached by yarl: user info, another port or a look-alike host all differ.
        url = request.url
        if request.authenticated and (
            url.raw_authority != self._api_authority or url.scheme != self._api_scheme
        ):
            raise ValueError(
                f"refusing to send the access token to {request.url.origin()}, not the API origin"
            )
        session = self._session
        if session is None:  # not made yet, or closed (close() lets go of it)
            if self._closed:
                raise RuntimeError("this aiopinterest Client is closed")
            # Created on first use, inside the event loop, so an unused client holds nothing open.
            # Headroom above max_concurrency: token renewals run outside the concurrency slots.
            session = self._session = create_session(connections=self._max_concurrency + 4)
        if timeout is None:
            timeouts = self.timeout
        elif isinstance(timeout, Timeout):
            timeouts = timeout
        else:
            timeouts = dataclasses.replace(self.timeout, total=timeout)
        total = timeouts.total
        return session, _Budget(timeouts, request, math.inf if total is None else time.monotonic() + total)

    def _failure(
        self,
        request: OutgoingRequest,
        attempt: int,
        waited: float,
        *,
        response: RawResponse | None = None,
        error: TransportError | None = None,
    ) -> Failure:
        return Failure(
            method=request.method,
            attempt=attempt,
            waited=waited,
            status=response.status if response is not None else None,
            headers=response.headers if response is not None else _NO_HEADERS,
            error=error,
            replay_safe=request.replay_safe,
            now=self.clock.time(),
        )

    async def _wait_for_slot(self, budget: _Budget) -> None:
        """Wait for a concurrency slot; the time spent waiting is given back to the call's timeout."""
        started = time.monotonic()
        try:
            await self._slots.acquire()
        finally:
            budget.extend(time.monotonic() - started)

    async def _attempt(
        self,
        session: aiohttp.ClientSession,
        request: OutgoingRequest,
        token: str | None,
        attempt: int,
        counters: CategoryMetrics,
        budget: _Budget,
        stream: bool,
        rate_limit_wait: float = 0.0,
        backoff: float = 0.0,
        retry_reason: str | None = None,
    ) -> RawResponse | StreamedResponse | TransportError:
        """One HTTP exchange, with its hooks, metrics and log line; a transport failure is returned, not raised.

        With ``stream``, a successful response comes back as a :class:`StreamedResponse`, which records the
        exchange (metrics, log line, response hook) when it is closed, once its body has been read.
        """
        body = request.body
        counters.requests += 1
        if isinstance(body, bytes):
            counters.bytes_sent += len(body)
        event: RequestEvent | None = None
        if self.hooks.request or self.hooks.response:
            event = RequestEvent(
                method=request.method,
                url=redact_url(request.url),
                category=request.category,
                operation_id=request.operation_id,
                attempt=attempt,
                headers=self._base_headers | request.headers,
                rate_limit_wait=rate_limit_wait,
                backoff=backoff,
                retry_reason=retry_reason,
            )
            await self.hooks.emit_request(event)
            headers = self._with_credentials(event.headers, token, request)
        elif not request.headers and token is not None:
            # A GET's usual case: one dict per token, not per request.
            cached_token, headers = self._bearer
            if cached_token != token:
                headers = self._bearer_headers(token)
        else:
            headers = self._with_credentials(self._base_headers | request.headers, token, request)
        # The duration is for hooks and the DEBUG line only: two clock reads spared on every other request.
        timed = stream or event is not None or logger.isEnabledFor(logging.DEBUG)
        started = time.perf_counter() if timed else 0.0
        limit = budget.attempt_limit()
        # A streamed body is read after we return: aiohttp's own timer covers that attempt.
        deadline_task = None if stream or limit is None else self._deadlines.start(limit)
        try:
            response = await exchange(
                session,
                request.method,
                request.url,
                headers=headers,
                body=body,
                timeouts=budget.timeouts.for_aiohttp(limit if stream else None),
                proxies=self._proxies,
                # Only a user's session can carry credentials of its own, to be kept to the API origin.
                api_origin=None if self._owns_session else self._api_origin,
                stream=stream,
            )
        except (TransportError, asyncio.CancelledError) as failure:
            error: TransportError
            if deadline_task is not None and self._deadlines.stop(deadline_task):
                error = RequestTimeoutError(
                    f"{request.method} {redact_url(request.url)}: no complete response within the attempt "
                    f"timeout of {limit:g} s"
                )
            elif isinstance(failure, TransportError):
                error = failure
            else:
                raise
            counters.transport_errors += 1
            if timed:  # always so when there is an event for the hooks
                elapsed = time.perf_counter() - started
                logger.debug(
                    "%s %s failed after %.1f ms (attempt %d): %s",
                    request.method,
                    redact_url(request.url),
                    elapsed * 1000,
                    attempt,
                    error,
                )
                if event is not None:
                    await self.hooks.emit_response(
                        ResponseEvent(
                            request=event,
                            status=None,
                            headers=_NO_HEADERS,
                            bytes_received=0,
                            elapsed=elapsed,
                            error=error,
                        )
                    )
            return error
        except BaseException:
            if deadline_task is not None:
                self._deadlines.stop(deadline_task)
            raise
        if deadline_task is not None:
            self._deadlines.stop(deadline_task)
        if isinstance(response, aiohttp.ClientResponse):
            return StreamedResponse(
                response,
                redact_url(request.url),
                partial(self._finish_stream, request, event, counters, attempt, started),
            )
        duration = time.perf_counter() - started if timed else None
        if duration is None and response.status < 429:
            # All there is to record: no status counter, no DEBUG line.
            counters.bytes_received += len(response.content)
        else:
            self._record_response(request, counters, attempt, response, len(response.content), duration)
        if event is not None and duration is not None:
            await self.hooks.emit_response(
                ResponseEvent(
                    request=event,
                    status=response.status,
                    headers=response.headers,
                    bytes_received=len(response.content),
                    elapsed=duration,
                )
            )
        return response

    @staticmethod
    def _with_credentials(
        headers: Mapping[str, str], token: str | None, request: OutgoingRequest
    ) -> dict[str, str]:
        """A copy of ``headers`` with the Authorization the request needs; added after the hooks ran, so that no
        hook ever sees a credential."""
        headers = dict(headers)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        elif request.authorization is not None:
            headers["Authorization"] = request.authorization
        return headers

    def _bearer_headers(self, token: str) -> dict[str, str]:
        """The default headers with ``token``, kept while the token lasts (aiohttp copies, never changes, them)."""
        headers = {**self._base_headers, "Authorization": f"Bearer {token}"}
        self._bearer = (token, headers)
        return headers

    def _record_response(
        self,
        request: OutgoingRequest,
        counters: CategoryMetrics,
        attempt: int,
        response: RawResponse | StreamedResponse,
        bytes_received: int,
        elapsed: float | None,
    ) -> None:
        """The metrics and DEBUG line of an attempt that got a response (no line when it was not timed)."""
        status = response.status
        counters.bytes_received += bytes_received
        if status == 429:
            counters.rate_limited += 1
        elif status >= 500:
            counters.server_errors += 1
        if elapsed is not None and logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d in %.1f ms (attempt %d, category %s)",
                request.method,
                response.url,
                status,
                elapsed * 1000,
                attempt,
                request.category,
            )

    async def _finish_stream(
        self,
        request: OutgoingRequest,
        event: RequestEvent | None,
        counters: CategoryMetrics,
        attempt: int,
        started: float,
        response: StreamedResponse,
    ) -> None:
        """Once a streamed body is closed: free its slot, then record the attempt as for a whole body."""
        self._slots.release()
        elapsed = time.perf_counter() - started
        self._record_response(request, counters, attempt, response, response.bytes_received, elapsed)
        if event is not None:
            await self.hooks.emit_response(
                ResponseEvent(
                    request=event,
                    status=response.status,
                    headers=response.headers,
                    bytes_received=response.bytes_received,
                    elapsed=elapsed,
                )
            )

    async def _post_token(self, body: bytes, headers: Mapping[str, str]) -> RawResponse:
        """POST /oauth/token for the authenticator, HTTP Basic auth given by it."""
        extra = dict(headers)
        authorization = extra.pop("Authorization")
        return await self.send(
            OutgoingRequest(
                method="POST",
                url=self._token_url,
                body=body,
                headers=extra,
                category="org_read",
                operation_id="oauth/token",
                authorization=authorization,
            )
        )


def api_error(method: str, response: RawResponse, *, attempts: int = 1, now: float) -> APIError:
    """The typed error for an error response; Pinterest's ``{"code", "message"}`` body is read when present."""
    try:
        body = _error_decoder.decode(response.content)
    except (msgspec.DecodeError, msgspec.ValidationError):
        body = _ErrorBody()
    error = error_class_for(response.status)(
        status=response.status,
        method=method,
        url=response.url,
        headers=response.headers,
        body=response.content,
        code=body.code,
        message=body.message,
        attempts=attempts,
    )
    if isinstance(error, RateLimitError):
        error.retry_after = requested_wait(response.status, response.headers, now)
    return error


def _copy_into(capture: RawResponse, response: RawResponse) -> None:
    capture.status = response.status
    capture.headers = response.headers
    capture.content = response.content
    capture._url = response._url
