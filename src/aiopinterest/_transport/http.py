"""One HTTP exchange over aiohttp: redirects followed by hand, credentials kept to their origin, and what a
failure below HTTP means."""

from __future__ import annotations

import errno
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal, overload

import aiohttp
from yarl import URL

from ..errors import ClientClosedError, ConnectError, RequestTimeoutError, TransportError
from .proxies import ProxySelector
from .redact import redact_exception_chain, redact_url
from .request import Body
from .response import Response
from .sessions import session_unusable

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 5


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
) -> Response: ...


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
) -> Response | aiohttp.ClientResponse: ...


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
) -> Response | aiohttp.ClientResponse:
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
            failure = _translate_aiohttp_error(error, method, url)
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
                    failure = _translate_aiohttp_error(error, method, url)
                else:
                    return Response(status, response_headers, content, url)
                finally:
                    response.release()
                # Raised outside the except clause, so that a body failure keeps its own context.
                raise failure
            response.release()
            method, url, current_headers, body = _redirected(response, method, url, current_headers, body)
            continue
        raise failure
    raise TransportError(f"more than {_MAX_REDIRECTS} redirects on {method} {redact_url(url)}")


def _redirected(
    response: aiohttp.ClientResponse, method: str, url: URL, headers: Mapping[str, str], body: Body
) -> tuple[str, URL, Mapping[str, str], Body]:
    """The request a redirect asks for: to its Location, without the Authorization header on another origin,
    and as a GET without a body where HTTP says so (303; 301 and 302 after a POST, as browsers do)."""
    target = url.join(URL(response.headers["Location"]))
    if target.origin() != url.origin():
        headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
    if response.status == 303 or (response.status in (301, 302) and method == "POST"):
        method, body = "GET", None
        headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    return method, target, headers, body


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


def _translate_aiohttp_error(
    error: aiohttp.ClientError | TimeoutError, method: str, url: URL
) -> BaseException:
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
