"""The one place aiohttp is spoken: the session, one HTTP exchange, and what its failures mean."""

from __future__ import annotations

import asyncio
import errno
import urllib.request
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, overload

import aiohttp
from yarl import URL

from .._options import RawResponse
from ..errors import ClientClosedError, ConnectError, RequestTimeoutError, TransportError
from .redact import redact_exception_chain, redact_url

#: A request body: bytes, or a function returning a fresh aiohttp payload for every attempt (an aiohttp
#: ``FormData`` or ``MultipartWriter`` cannot be sent twice, and a retry must resend the body).
Body: TypeAlias = bytes | Callable[[], Any] | None

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeout:
    """Timeouts in seconds; ``None`` disables one.

    total: the whole call, retries, backoff and rate-limit waits included; waiting for a concurrency slot
        (``max_concurrency``) is not counted.
    connect: establishing one connection (a failure here is safe to retry for any method).
    attempt: one HTTP exchange, from connecting to the end of the body (redirects included); a slow attempt is
        abandoned and, when the retry policy allows (GET, DELETE, ...), tried again. Enforced by one timer for all
        the attempts in flight (``deadlines.py``), not one per request.
    read: the longest silence while reading a response. Off by default: aiohttp re-arms this timer on every
        chunk received, which costs about a fifth of a small request's CPU time; ``attempt`` already catches a
        stalled server.
    """

    total: float | None = 180.0
    connect: float | None = 10.0
    attempt: float | None = 60.0
    read: float | None = None
    # aiohttp's own timeouts (connect, read) for an attempt whose limit the transport enforces: built once.
    _connect_and_read: aiohttp.ClientTimeout = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        timeouts = aiohttp.ClientTimeout(total=None, connect=self.connect, sock_read=self.read)
        object.__setattr__(self, "_connect_and_read", timeouts)

    def for_aiohttp(self, attempt_limit: float | None = None) -> aiohttp.ClientTimeout:
        """aiohttp's timeouts for one attempt: connect and read, and the whole attempt's limit when aiohttp must
        enforce it (a streamed body, read by the caller after the transport has returned)."""
        if attempt_limit is None:
            return self._connect_and_read
        # aiohttp reads a total of 0 as "no limit".
        return aiohttp.ClientTimeout(
            total=max(attempt_limit, 1e-6), connect=self.connect, sock_read=self.read
        )


class ProxySelector:
    """The proxy for each request: the ``proxy=`` option, else (with ``trust_env``) ``HTTPS_PROXY``/``HTTP_PROXY``
    unless ``NO_PROXY`` names the host.

    Done here rather than by aiohttp's ``trust_env``, which re-reads the environment and ``.netrc`` in a worker
    thread on every request: two thread hops that cost more than a whole request to a nearby server. The
    environment is read once, when the client is created; ``.netrc`` is not consulted (the API takes bearer tokens).
    """

    __slots__ = ("_by_host", "_environment", "_explicit")

    def __init__(self, explicit: str | None, *, trust_env: bool) -> None:
        self._explicit = explicit
        self._environment = urllib.request.getproxies_environment() if trust_env and explicit is None else {}
        self._by_host: dict[tuple[str, str | None], str | None] = {}

    @property
    def configured(self) -> bool:
        """Whether any request may go through a proxy (else the transport does without a selector)."""
        return self._explicit is not None or bool(self._environment)

    def for_url(self, url: URL) -> str | None:
        if self._explicit is not None:
            return self._explicit
        key = (url.scheme, url.host)
        if key not in self._by_host:
            proxy = self._environment.get(url.scheme)
            # proxy_bypass_environment: public in CPython (it is what urllib itself uses), missing from typeshed.
            bypass = url.host is not None and urllib.request.proxy_bypass_environment(  # type: ignore[attr-defined]
                url.host, self._environment
            )
            self._by_host[key] = None if bypass else proxy
        return self._by_host[key]


def create_session(*, connections: int) -> aiohttp.ClientSession:
    """A session tuned for one API host under sustained concurrency (proxies come from :class:`ProxySelector`)."""
    connector = aiohttp.TCPConnector(
        limit=connections,
        limit_per_host=0,
        # API hosts resolve to a handful of stable addresses; don't pay a lookup per connection.
        ttl_dns_cache=300,
        keepalive_timeout=30,
    )
    # raise_for_status=False: statuses are the transport's business, after reading the body.
    return aiohttp.ClientSession(connector=connector, trust_env=False, raise_for_status=False)


def session_unusable(session: aiohttp.ClientSession) -> str | None:
    """Why ``session`` can send nothing more, if it cannot: closed, or bound to an event loop that has ended."""
    if session.closed:
        return "the aiohttp session is closed"
    # ClientSession.loop is deprecated (a warning per read); _loop is what it returns.
    if session._loop.is_closed():
        return "the aiohttp session belongs to an event loop that has ended"
    return None


def abandon_session(session: aiohttp.ClientSession) -> None:
    """Let go of a session whose event loop was closed under it (``loop.close()`` by hand, with none of
    ``asyncio.run``'s shutdown), quietly: its connections' sockets closed here, as that loop would have closed
    them, and the session marked closed, leaving nothing for a ResourceWarning. Never touches the loop.

    Through private attributes, as there is no other way: asyncio closes a transport only through its loop
    (``close()`` and ``abort()`` schedule the work there, and raise on a closed one), and aiohttp's connector,
    closed with its loop closed, just forgets its connections.
    """
    connector = session.connector
    if connector is None or connector.closed:
        return
    pooled = [protocol for idle in connector._conns.values() for protocol, _ in idle]
    for protocol in [*pooled, *connector._acquired]:
        if protocol.transport is not None:
            _close_without_loop(protocol.transport)
    connector._close()  # marks the connector, and so the session, closed; with its loop closed, nothing else


def _close_without_loop(transport: asyncio.BaseTransport) -> None:
    """Close a transport of a closed event loop: its socket, and the flags whose absence __del__ warns about."""
    ssl_protocol = getattr(transport, "_ssl_protocol", None)
    if ssl_protocol is not None:  # TLS: a wrapper around the TCP transport
        transport._closed = True  # type: ignore[attr-defined]
        transport = ssl_protocol._transport
    sock = getattr(transport, "_sock", None)
    if sock is not None:
        transport._sock = None  # type: ignore[attr-defined]
        sock.close()


@overload
async def exchange(
    session: aiohttp.ClientSession,
    method: str,
    url: URL,
    *,
    headers: Mapping[str, str],
    body: Body,
    timeouts: aiohttp.ClientTimeout,
    proxies: ProxySelector | None,
    api_origin: str | None,
    stream: Literal[False] = False,
) -> RawResponse: ...


@overload
async def exchange(
    session: aiohttp.ClientSession,
    method: str,
    url: URL,
    *,
    headers: Mapping[str, str],
    body: Body,
    timeouts: aiohttp.ClientTimeout,
    proxies: ProxySelector | None,
    api_origin: str | None,
    stream: bool,
) -> RawResponse | aiohttp.ClientResponse: ...


async def exchange(
    session: aiohttp.ClientSession,
    method: str,
    url: URL,
    *,
    headers: Mapping[str, str],
    body: Body,
    timeouts: aiohttp.ClientTimeout,
    proxies: ProxySelector | None,
    api_origin: str | None,
    stream: bool = False,
) -> RawResponse | aiohttp.ClientResponse:
    """Send one request and read the whole response, following redirects by hand.

    Redirects are followed here rather than by aiohttp so that the Authorization header provably never leaves
    the origin it was meant for: it is dropped as soon as a redirect points to another scheme, host or port.
    A session supplied by the user may carry credentials of its own (default headers, ``auth``); those are
    stripped from every request outside ``api_origin`` too (``None``: the session carries none).

    With ``stream``, a final response below 400 is returned open, its body unread: the caller reads it and
    releases it. Error statuses are always read whole, for the retry policy and the typed error.

    Raises :class:`ConnectError` when no connection could be made, :class:`RequestTimeoutError` on a read
    timeout, :class:`TransportError` for any other failure below HTTP; and, unchanged, whatever the request
    body's own code raised while being written (see :func:`_body_failure`).
    """
    current_headers: Mapping[str, str] = headers
    for _ in range(_MAX_REDIRECTS + 1):
        try:
            response = await session.request(
                method,
                url,
                headers=current_headers,
                data=body() if callable(body) else body,
                timeout=timeouts,
                proxy=None if proxies is None else proxies.for_url(url),
                allow_redirects=False,
                middlewares=None if api_origin is None else _credential_middlewares(session, url, api_origin),
            )
        except (aiohttp.ClientError, TimeoutError) as error:
            failure = _failure(error, method, url)
        except RuntimeError:
            # aiohttp's "Session is closed" (or "Event loop is closed" under it): no request can be sent.
            unusable = session_unusable(session)
            if unusable is None:
                raise
            raise ClientClosedError(unusable) from None
        else:
            status = response.status
            response_headers = response.headers
            if status not in _REDIRECTS or "Location" not in response_headers:
                if stream and status < 400:
                    return response
                try:
                    content = await response.read()
                except (aiohttp.ClientError, TimeoutError) as error:
                    failure = _failure(error, method, url)
                else:
                    return RawResponse(status, response_headers, content, url)  # the URL redacted when read
                finally:
                    response.release()
                # Raised outside the except clause, so that a body failure keeps its own context.
                raise failure
            response.release()
            target = url.join(URL(response_headers["Location"]))
            if target.origin() != url.origin():
                current_headers = {k: v for k, v in current_headers.items() if k.lower() != "authorization"}
            if status == 303 or (status in (301, 302) and method == "POST"):
                method, body = "GET", None
                current_headers = {k: v for k, v in current_headers.items() if k.lower() != "content-type"}
            url = target
            continue
        raise failure
    raise TransportError(f"more than {_MAX_REDIRECTS} redirects on {method} {redact_url(url)}")


def _credential_middlewares(
    session: aiohttp.ClientSession, url: URL, api_origin: str
) -> tuple[aiohttp.ClientMiddlewareType, ...] | None:
    """The request middlewares that keep a user session's own credentials away from other hosts (``None``: the
    session's own middlewares, as usual).

    aiohttp merges a session's default headers into every request and offers no way to remove one per
    request; a request middleware runs after the merge and can. (A request's middlewares replace the
    session's for that request: a session with default credentials should not have any to run elsewhere.)
    """
    if session.auth is None and "Authorization" not in session.headers:
        return None  # the common case: the session carries nothing
    if str(url).startswith(api_origin):
        return None
    return _WITHOUT_CREDENTIALS


async def _drop_authorization(
    request: aiohttp.ClientRequest,
    handler: Callable[[aiohttp.ClientRequest], Awaitable[aiohttp.ClientResponse]],
) -> aiohttp.ClientResponse:
    request.headers.popall("Authorization", None)
    return await handler(request)


_WITHOUT_CREDENTIALS: tuple[aiohttp.ClientMiddlewareType, ...] = (_drop_authorization,)


def _failure(error: aiohttp.ClientError | TimeoutError, method: str, url: URL) -> BaseException:
    """What an aiohttp failure means: the caller's own body error, or the typed :class:`TransportError`."""
    body_failure = _body_failure(error)
    if body_failure is not None:
        return body_failure
    redact_exception_chain(error, url)  # kept as the cause: with no credential in it
    transport_error: TransportError
    if isinstance(error, aiohttp.ClientSSLError):
        # Certificate and TLS failures are not transient: no "provably unsent, retry" treatment.
        transport_error = TransportError(_describe(error, method, url))
    elif isinstance(error, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)):
        transport_error = ConnectError(_describe(error, method, url))
    elif isinstance(error, (TimeoutError, aiohttp.SocketTimeoutError)):
        transport_error = RequestTimeoutError(_describe(error, method, url))
    else:
        transport_error = TransportError(_describe(error, method, url))
    transport_error.__cause__ = error
    return transport_error


def _body_failure(error: BaseException) -> BaseException | None:
    """The exception a request body's own ``write()`` raised (reading a file, a progress callback), if that is
    what ``error`` reports.

    aiohttp writes the body in a task and reports anything it raises as a connection error
    (``ClientConnectionError``, or ``ClientOSError`` for an ``OSError``), keeping the original as ``__cause__``.
    That is a bug or a broken source on the caller's side, not the network: it must surface as itself and is
    never retried. The connection's own failures on that path are ``ConnectionError`` (reset, broken pipe),
    timeouts, or an ``OSError`` with a network errno.
    """
    cause = error.__cause__
    if not isinstance(error, aiohttp.ClientConnectionError) or not isinstance(cause, Exception):
        return None
    if isinstance(cause, (ConnectionError, TimeoutError, aiohttp.ClientError)):
        return None
    if isinstance(cause, OSError) and cause.errno in _NETWORK_ERRNOS:
        return None
    return cause


_NETWORK_ERRNOS = frozenset(
    {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ENETDOWN, errno.EHOSTDOWN, errno.ENETRESET}
)


def _describe(error: BaseException, method: str, url: URL) -> str:
    detail = str(error) or type(error).__name__
    return f"{type(error).__name__} on {method} {redact_url(url)}: {detail}"
