"""Every HTTP attempt the client makes goes through :class:`Transport.send`.

One call is a loop of attempts. Each attempt: obtain a bearer token (renewing it if needed), be admitted by the
rate-limit governor and take a concurrency slot, send and read the whole body, release the slot, and tell the
governor what came back. A failure goes to the retry policy, which answers with a delay or gives up. A 429's
wait is a block of the whole category in the governor, not a sleep of one request.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import time
from collections.abc import AsyncIterator, Coroutine, Mapping
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, Literal, TypeVar, overload

import aiohttp
import anyio
import msgspec
from yarl import URL

from .._options import RawResponse, Timeout
from .._version import __version__
from ..errors import RateLimitError, RequestTimeoutError, TransportError
from .auth import Authenticator
from .categories import ByCategory
from .clock import Clock
from .deadlines import AttemptDeadlines, CallDeadline
from .error_responses import api_error, request_id_note
from .governor import Governor, Permit, Priors
from .headers import NO_HEADERS
from .hooks import CallEvent, Hooks, RequestEvent, ResponseEvent
from .http import exchange
from .metrics import CategoryMetrics, Metrics
from .proxies import ProxySelector
from .redact import redact_url
from .request import EXTERNAL_CATEGORY, OutgoingRequest
from .response import Response, StreamedResponse
from .retry import Failure, RetryPolicy
from .sessions import Sessions
from .shared import SharedBudget

logger = logging.getLogger("aiopinterest")
T = TypeVar("T")


# A msgspec Struct, made once per call: its __init__ is C (as a dataclass, 1,200 more instructions per pins.get,
# 0.3%, bench/instructions.py).
class _Call(msgspec.Struct):
    """The state of one call across its attempts."""

    request: OutgoingRequest
    session: aiohttp.ClientSession
    # The task the call runs in, for close() to end it (see sessions.py).
    task: asyncio.Task[object]
    deadline: CallDeadline
    policy: RetryPolicy
    counters: CategoryMetrics
    # Its place in the governor's queue, kept across retries.
    order: int
    attempt: int = 0
    # Seconds spent so far waiting for the budget and in backoff (the retry policy's max_wait).
    waited: float = 0.0
    renewed: bool = False
    # For the request hooks: what this attempt waited for the budget and in backoff, and why it is a retry.
    rate_limit_wait: float = 0.0
    backoff: float = 0.0
    reason: str | None = None


class Transport:
    """The HTTP machinery of one client: session, auth, governor, retries, concurrency, metrics and hooks."""

    def __init__(
        self,
        *,
        base_url: URL,
        auth: Authenticator,
        retry: RetryPolicy,
        timeout: Timeout,
        max_concurrency: int,
        rate_limits: Mapping[str, float] | None,
        rate_limit_priors: Priors | None,
        shared_budget: SharedBudget | None,
        clock: Clock,
        proxy: str | None,
        trust_env: bool,
        session: aiohttp.ClientSession | None,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        governor = Governor(
            clock,
            max_in_flight=max_concurrency,
            per_second=rate_limits,
            priors=rate_limit_priors,
            # Uploads to S3 and report downloads: not Pinterest's budget, and nothing to learn there.
            unlearned=frozenset({EXTERNAL_CATEGORY}),
            shared=shared_budget,
        )
        self._governor = governor
        # The live counters, made per category on first use; client.metrics reads them without making any.
        self._counters = ByCategory(lambda _: CategoryMetrics())
        self.metrics = Metrics(self._counters, governor.describe)
        self.hooks = Hooks()
        self.retry = retry
        self.timeout = timeout
        self._api_origin = f"{base_url.origin()}/"
        self._token_url = URL(f"{base_url}/oauth/token", encoded=True)
        self._auth = auth
        self.clock = clock
        proxies = ProxySelector(proxy, trust_env=trust_env)
        # None when no request can use a proxy: a selector call per request is 4,600 instructions per pins.get
        # (1.1%, bench/instructions.py).
        self._proxies = proxies if proxies.configured else None
        self._owns_session = session is None
        # Headroom above max_concurrency: token renewals run outside the concurrency slots.
        self._sessions = Sessions(given=session, connections=max_concurrency + 4)
        self._max_concurrency = max_concurrency
        self._slots = anyio.Semaphore(max_concurrency)
        self._deadlines = AttemptDeadlines()
        user_agent = f"aiopinterest/{__version__} aiohttp/{aiohttp.__version__}"
        self._base_headers = {"User-Agent": user_agent, "Accept": "application/json"}
        self._bearer: tuple[str | None, dict[str, str]] = (None, {})
        auth.connect(self._post_token)

    @property
    def closed(self) -> bool:
        return self._sessions.closed

    async def close(self) -> None:
        """Fail the calls in flight with ClientClosedError; close the session if the client created it (a session
        passed in by the caller stays open)."""
        self._deadlines.close()
        self._governor.close()
        await self._sessions.close()

    @overload
    def send(
        self,
        request: OutgoingRequest,
        *,
        timeout: float | Timeout | None = None,
        retry: RetryPolicy | None = None,
        capture: RawResponse | None = None,
        raise_for_status: bool = True,
        stream: Literal[False] = False,
    ) -> Coroutine[Any, Any, Response]: ...

    @overload
    def send(
        self,
        request: OutgoingRequest,
        *,
        timeout: float | Timeout | None = None,
        retry: RetryPolicy | None = None,
        stream: Literal[True],
    ) -> Coroutine[Any, Any, StreamedResponse]: ...

    def send(
        self,
        request: OutgoingRequest,
        *,
        # A parameter, not a caller's cancel scope: the budget excludes waits for a concurrency slot.
        timeout: float | Timeout | None = None,
        retry: RetryPolicy | None = None,
        capture: RawResponse | None = None,
        raise_for_status: bool = True,
        stream: bool = False,
    ) -> Coroutine[Any, Any, Response | StreamedResponse]:
        """Send with retries (between the call hooks, if any); returns the final response, or raises the typed
        error of the last attempt.

        ``timeout``: seconds for the whole call (replacing the client's ``Timeout.total``), or a whole
        :class:`Timeout`; waiting for a concurrency slot is not counted. ``retry`` replaces the client's policy
        for this call. With ``raise_for_status=False`` an error status is returned instead of raised (after
        retries). With ``stream``, a successful response comes back as a :class:`StreamedResponse` holding its
        concurrency slot, its body unread (see :meth:`stream`).
        """
        # Not a coroutine function itself: the attempts' coroutine is the call's, without a frame around it
        # (1,000 fewer instructions per pins.get, 0.24%, bench/instructions.py).
        if not (self.hooks.call_start or self.hooks.call_end):  # without call hooks, only this test
            return self._attempts(request, timeout, retry, capture, raise_for_status, stream)
        event = CallEvent(
            method=request.method,
            url=redact_url(request.url),
            category=request.category,
            operation_id=request.operation_id,
        )
        attempts = partial(self._attempts, request, timeout, retry, capture, raise_for_status, stream)
        return self.hooks.run_between_call_hooks(event, attempts)

    async def _attempts(
        self,
        request: OutgoingRequest,
        timeout: float | Timeout | None,  # noqa: ASYNC109
        retry: RetryPolicy | None,
        capture: RawResponse | None,
        raise_for_status: bool,
        stream: bool,
    ) -> Response | StreamedResponse:
        """The loop of a call's attempts. Each: a token, admission (governor, then a concurrency slot), the
        exchange, and then one of: success; a renewal and replay after a 401; the retry policy's delay; giving
        up."""
        call = self._begin(request, timeout, retry)
        try:
            while True:
                call.attempt += 1
                token = None
                if request.authenticated:
                    # Within the call's deadline: obtaining the token is what makes its scopes known.
                    token = self._auth.fresh_token() or await call.deadline.bound(self._auth.bearer())
                    if request.scopes:
                        self._auth.check_scopes(request.scopes, request.operation_id)
                permit = self._admit_now(request) or await self._admit(call)
                outcome = await self._attempt(call, token, permit, stream)
                if isinstance(outcome, StreamedResponse):
                    return outcome
                if not isinstance(outcome, TransportError) and outcome.status < 400:
                    if capture is not None:
                        _copy_into(capture, outcome)
                    return outcome
                if await self._renewed_after_401(call, token, outcome):
                    continue
                failure = self._retry_failure(call, outcome)
                delay = self._retry_delay(call, failure)
                if delay is None:
                    return self._give_up(call, outcome, capture, raise_for_status)
                await self._pause_before_retry(call, failure, delay)
        except asyncio.CancelledError:
            if self._sessions.closed_the_call(call.task):
                raise self._sessions.closed_error() from None
            raise
        finally:
            self._sessions.end(call.task)

    @asynccontextmanager
    async def stream(
        self,
        request: OutgoingRequest,
        *,
        timeout: float | Timeout | None = None,  # noqa: ASYNC109
        retry: RetryPolicy | None = None,
    ) -> AsyncIterator[StreamedResponse]:
        """Like :meth:`send`, but the successful response's body is left for the caller to read.

        Everything up to the response headers (auth, governor, concurrency slot, redirects, retries) is as for
        :meth:`send`; error statuses are read whole and raised as the typed error. The concurrency slot is held
        until the block exits, which closes the response.
        """
        response = await self.send(request, timeout=timeout, retry=retry, stream=True)
        try:
            yield response
        finally:
            await response.aclose()

    # -- the steps of a call ----------------------------------------------------------------------------------

    def _begin(
        self, request: OutgoingRequest, timeout: float | Timeout | None, retry: RetryPolicy | None
    ) -> _Call:
        if timeout is None:
            timeouts = self.timeout
        elif isinstance(timeout, Timeout):
            timeouts = timeout
        else:
            timeouts = dataclasses.replace(self.timeout, total=timeout)
        total = timeouts.total
        deadline = CallDeadline(timeouts, request, math.inf if total is None else time.monotonic() + total)
        counters = self._counters[request.category]
        # Last: from here on the call is in flight, until send() ends it. The session is made on first use, inside
        # the event loop, so an unused client holds nothing open.
        session, task = self._sessions.begin()
        return _Call(
            request, session, task, deadline, retry or self.retry, counters, self._governor.arrival()
        )

    def _admit_now(self, request: OutgoingRequest) -> Permit | None:
        """A free slot and the governor's leave at once, or None. The common case, without the coroutine and
        event-loop round trip of an awaited acquire: 67,500 fewer instructions per pins.get (16%,
        bench/instructions.py)."""
        try:
            self._slots.acquire_nowait()
        except anyio.WouldBlock:
            return None
        permit = self._governor.admit_now(request.category)
        if permit is None:
            self._slots.release()
        return permit

    async def _admit(self, call: _Call) -> Permit:
        """Wait for the governor's leave, then for a concurrency slot; a block that begins while the call waits
        for the slot, or news that less remains, sends it back to the governor's queue."""
        governor = self._governor
        category = call.request.category
        while True:
            self._refuse_if_budget_spent(call)
            started = self.clock.monotonic()
            permit = await call.deadline.bound(governor.admit(category, call.order))
            waited = self.clock.monotonic() - started
            call.counters.gate_wait += waited
            call.waited += waited
            call.rate_limit_wait += waited
            try:
                await self._wait_for_slot(call.deadline)
            except BaseException:
                governor.withdraw(permit)
                raise
            if governor.dispatch(permit):
                return permit
            self._slots.release()

    def _refuse_if_budget_spent(self, call: _Call) -> None:
        """Fail at once, rather than sleep, when the budget refills later than the retry policy would wait (a
        daily budget spent, a long block)."""
        wait = self._governor.wait_for(call.request.category)
        if wait == math.inf or call.waited + wait <= call.policy.max_wait:
            return
        request = call.request
        error = RateLimitError(
            status=429,
            method=request.method,
            url=redact_url(request.url),
            headers=NO_HEADERS,
            body=b"",
            message=(
                f"the {request.category} rate budget refills in {wait:.0f} s, beyond the retry policy's "
                f"max_wait of {call.policy.max_wait:g} s; not sent"
            ),
            attempts=call.attempt - 1,
        )
        error.retry_after = wait
        logger.warning("%s", error)
        raise error

    async def _wait_for_slot(self, deadline: CallDeadline) -> None:
        """Take a concurrency slot; the time spent waiting is given back to the call's timeout."""
        try:
            self._slots.acquire_nowait()
            return
        except anyio.WouldBlock:
            pass
        started = time.monotonic()
        try:
            await self._slots.acquire()
        finally:
            deadline.extend(time.monotonic() - started)

    async def _attempt(
        self, call: _Call, token: str | None, permit: Permit, stream: bool
    ) -> Response | StreamedResponse | TransportError:
        """One HTTP exchange, holding a slot: the request hook, the exchange within the attempt timeout (one timer
        for all attempts: see deadlines.py), then the answer handed to the governor and recorded. A transport
        failure is returned, not raised.

        With ``stream``, a successful response comes back as a :class:`StreamedResponse`, which records the
        exchange (metrics, log line, response hook) when it is closed, once its body has been read.
        """
        request = call.request
        self._count_attempt(call)
        event = await self._emit_request(call) if self.hooks.request or self.hooks.response else None
        # The duration is for hooks and the DEBUG line only: timing every attempt is 3,200 more instructions per
        # pins.get (0.8%, bench/instructions.py).
        timed = stream or event is not None or logger.isEnabledFor(logging.DEBUG)
        started = time.perf_counter() if timed else 0.0
        limit = call.deadline.attempt_limit()
        # A streamed body is read after we return: aiohttp's own timer covers that attempt.
        timer = None if stream or limit is None else self._deadlines.start(limit, call.task)
        try:
            response = await exchange(
                call.session,
                request.method,
                request.url,
                headers=self._headers(request, token, event),
                body=request.body,
                timeouts=call.deadline.timeouts.for_aiohttp(limit if stream else None),
                proxies=self._proxies,
                # Only a user's session can carry credentials of its own, to be kept to the API origin (no
                # middlewares for ours: 2,300 fewer instructions per pins.get, 0.6%, bench/instructions.py).
                api_origin=None if self._owns_session else self._api_origin,
                stream=stream,
            )
        except BaseException as error:
            failure = self._exchange_failed(call, permit, timer, limit, error)
            if timed:
                await self._record(call, event, time.perf_counter() - started, error=failure)
            return failure
        if timer is not None:
            self._deadlines.stop(timer)
        self._governor.settle(permit, response.status, response.headers)
        if isinstance(response, aiohttp.ClientResponse):
            # Its body is still to be read: the slot is released when the caller closes it.
            return StreamedResponse(
                response,
                redact_url(request.url),
                partial(self._finish_stream, call, event, started),
                client_closed=lambda: self._sessions.closed,
            )
        self._slots.release()
        if timed or response.status >= 429:
            elapsed = time.perf_counter() - started if timed else None
            await self._record(call, event, elapsed, response=response)
        else:  # all there is to record: no status counter, no DEBUG line
            call.counters.bytes_received += len(response.content)
        return response

    def _count_attempt(self, call: _Call) -> None:
        counters = call.counters
        counters.requests += 1
        if call.attempt > 1:
            counters.retries += 1
        if isinstance(call.request.body, bytes):
            counters.bytes_sent += len(call.request.body)

    def _exchange_failed(
        self,
        call: _Call,
        permit: Permit,
        timer: asyncio.Task[Any] | None,
        limit: float | None,
        error: BaseException,
    ) -> TransportError:
        """After an exchange raised: its timer stopped, its slot freed, and the governor told that no answer came
        (the server may have counted the request all the same). Returns the failure to report, an attempt cut
        off by its timer as :class:`RequestTimeoutError`; anything else (a cancellation, the body's own error) is
        raised again."""
        cut_off = timer is not None and self._deadlines.stop(timer)
        self._slots.release()
        self._governor.settle(permit, None, NO_HEADERS)
        if cut_off and isinstance(error, (TransportError, asyncio.CancelledError)):
            request = call.request
            error = RequestTimeoutError(
                f"{request.method} {redact_url(request.url)}: no complete response within the attempt "
                f"timeout of {limit:g} s"
            )
        if not isinstance(error, TransportError):
            raise error
        call.counters.transport_errors += 1
        return error

    async def _emit_request(self, call: _Call) -> RequestEvent:
        request = call.request
        event = RequestEvent(
            method=request.method,
            url=redact_url(request.url),
            category=request.category,
            operation_id=request.operation_id,
            attempt=call.attempt,
            headers=self._base_headers | request.headers,
            rate_limit_wait=call.rate_limit_wait,
            backoff=call.backoff,
            retry_reason=call.reason,
        )
        await self.hooks.emit_request(event)
        return event

    def _headers(
        self, request: OutgoingRequest, token: str | None, event: RequestEvent | None
    ) -> dict[str, str]:
        """The attempt's headers: the client's, the request's own (as the hooks left them), then the credential,
        added last so that no hook ever sees one."""
        if event is None and not request.headers and token is not None:
            # A GET's usual case: one dict per token, not per request (aiohttp copies, never changes, it); a dict
            # per request is 1,000 more instructions per pins.get (0.25%, bench/instructions.py).
            cached_token, cached = self._bearer
            if cached_token != token:
                cached = {**self._base_headers, "Authorization": f"Bearer {token}"}
                self._bearer = (token, cached)
            return cached
        headers = dict(event.headers) if event is not None else self._base_headers | request.headers
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        elif request.authorization is not None:
            headers["Authorization"] = request.authorization
        return headers

    async def _record(
        self,
        call: _Call,
        event: RequestEvent | None,
        elapsed: float | None,
        *,
        response: Response | StreamedResponse | None = None,
        error: TransportError | None = None,
    ) -> None:
        """The one record of an attempt's outcome: status counters, the DEBUG line, the response hook."""
        request = call.request
        counters = call.counters
        status = response.status if response is not None else None
        bytes_received = 0
        if isinstance(response, StreamedResponse):
            bytes_received = response.bytes_received
        elif response is not None:
            bytes_received = len(response.content)
        counters.bytes_received += bytes_received
        if status == 429:
            counters.rate_limited += 1
        elif status is not None and status >= 500:
            counters.server_errors += 1
        if elapsed is None:
            return
        if logger.isEnabledFor(logging.DEBUG):
            outcome = f"-> {status}" if status is not None else f"failed: {error}"
            logger.debug(
                "%s %s %s in %.1f ms (attempt %d, category %s%s)",
                request.method,
                redact_url(request.url),
                outcome,
                elapsed * 1000,
                call.attempt,
                request.category,
                request_id_note(response.headers if response is not None else NO_HEADERS),
            )
        if event is not None:
            await self.hooks.emit_response(
                ResponseEvent(
                    request=event,
                    status=status,
                    headers=response.headers if response is not None else NO_HEADERS,
                    bytes_received=bytes_received,
                    elapsed=elapsed,
                    error=error,
                )
            )

    async def _finish_stream(
        self, call: _Call, event: RequestEvent | None, started: float, response: StreamedResponse
    ) -> None:
        """Once a streamed body is closed: free its slot, then record the attempt as for a whole body."""
        self._slots.release()
        await self._record(call, event, time.perf_counter() - started, response=response)

    async def _renewed_after_401(
        self, call: _Call, token: str | None, outcome: Response | TransportError
    ) -> bool:
        """A 401 for a token we may renew: renew once (shared with every request that met it) to replay."""
        if isinstance(outcome, TransportError) or outcome.status != 401 or token is None or call.renewed:
            return False
        call.renewed = await call.deadline.bound(self._auth.renew_rejected(token))
        if call.renewed:
            call.reason, call.backoff, call.rate_limit_wait = "401", 0.0, 0.0
        return call.renewed

    def _retry_failure(self, call: _Call, outcome: Response | TransportError) -> Failure:
        request = call.request
        response = None if isinstance(outcome, TransportError) else outcome
        return Failure(
            method=request.method,
            attempt=call.attempt,
            waited=call.waited,
            status=response.status if response is not None else None,
            headers=response.headers if response is not None else NO_HEADERS,
            error=outcome if isinstance(outcome, TransportError) else None,
            replay_safe=request.replay_safe,
            now=self.clock.time(),
        )

    def _retry_delay(self, call: _Call, failure: Failure) -> float | None:
        """The retry policy's answer, logged: INFO for a retry, WARNING for a retryable failure given up on."""
        delay = call.policy.next_delay(failure)
        if delay is not None and delay >= call.deadline.remaining():
            # The wait would run into the call's timeout: give up now, with the failure that made us wait.
            delay = None
        request = call.request
        if delay is None and not call.policy.is_retryable(failure):
            return None
        what = failure.status if failure.error is None else type(failure.error).__name__
        after = "" if delay is None or failure.status == 429 else f" in {delay:.3g} s"
        logger.log(
            logging.INFO if delay is not None else logging.WARNING,
            "%s %s %s after %s (attempt %d, category %s%s)%s",
            "retrying" if delay is not None else "giving up on",
            request.method,
            redact_url(request.url),
            what,
            call.attempt,
            request.category,
            request_id_note(failure.headers),
            after,
        )
        return delay

    async def _pause_before_retry(self, call: _Call, failure: Failure, delay: float) -> None:
        """A 429 blocks the whole category in the governor for as long as the server asked (without a word from
        the server, the governor's pace found from 429s spaces the retry); any other failure sleeps its backoff
        alone, then queues for the budget again."""
        call.reason = str(failure.status) if failure.status is not None else type(failure.error).__name__
        call.backoff = call.rate_limit_wait = 0.0
        if failure.status == 429:
            asked = call.policy.server_delay(failure)
            if asked is not None:
                self._governor.block(call.request.category, asked, f"429, the server asked for {asked:.3g} s")
            return
        await call.deadline.bound(self.clock.sleep(delay))
        call.counters.backoff_wait += delay
        call.waited += delay
        call.backoff = delay

    def _give_up(
        self,
        call: _Call,
        outcome: Response | TransportError,
        capture: RawResponse | None,
        raise_for_status: bool,
    ) -> Response:
        """The end of a call that failed: the last transport error raised, or the last response returned or
        raised as its typed error."""
        if isinstance(outcome, TransportError):
            if isinstance(outcome, RequestTimeoutError) and call.deadline.exhausted():
                raise call.deadline.exceeded()
            raise outcome.with_attempts(call.attempt)
        if capture is not None:
            _copy_into(capture, outcome)
        if raise_for_status:
            raise api_error(call.request.method, outcome, attempts=call.attempt, now=self.clock.time())
        return outcome

    async def _post_token(self, body: bytes, headers: Mapping[str, str]) -> Response:
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


def _copy_into(capture: RawResponse, response: Response) -> None:
    capture.status = response.status
    capture.headers = response.headers
    capture.content = response.content
    capture._url = response.url  # redacted if the caller reads it
