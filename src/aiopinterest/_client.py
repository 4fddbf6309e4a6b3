"""The client: configuration, session lifecycle, pre-flight checks, and the single entry every operation uses."""

from __future__ import annotations

import functools
import os
import re
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

import aiohttp
import msgspec
from yarl import URL

from ._decoding import decode_lenient
from ._generated.namespaces import GeneratedNamespaces
from ._operation import Operation
from ._options import RawResponse, RequestOptions, Timeout
from ._request_builder import PreparedRequest, build_request
from ._snippet import body_snippet
from ._transport.auth import Authenticator, TokenRefreshCallback, TokenStore
from ._transport.clock import Clock, SystemClock
from ._transport.governor import Priors
from ._transport.hooks import Hooks, RequestHook, ResponseHook
from ._transport.metrics import Metrics
from ._transport.request import EXTERNAL_CATEGORY, Body, OutgoingRequest
from ._transport.response import Response, StreamedResponse
from ._transport.retry import RetryPolicy
from ._transport.transport import Transport
from .errors import (
    RequestValidationError,
    ResponseValidationError,
    SandboxUnsupportedError,
)

if TYPE_CHECKING:
    from ._fleet import RedisBudget
    from .media import MediaNamespace

T = TypeVar("T")

PRODUCTION_URL: Final = "https://api.pinterest.com/v5"
SANDBOX_URL: Final = "https://api-sandbox.pinterest.com/v5"
DEFAULT_TIMEOUT: Final = Timeout()
# msgspec ends a validation message with the JSON path of the bad value: "... - at `$.media.images[0]`".
_ERROR_PATH = re.compile(r" - at `(\$[^`]*)`$")


class Client(GeneratedNamespaces):
    """An asynchronous Pinterest API v5 client.

    >>> async with Client(access_token="...") as client:
    ...     pin = await client.pins.get(pin_id="123")

    Credentials default to the environment: ``PINTEREST_ACCESS_TOKEN``, ``PINTEREST_APP_ID``,
    ``PINTEREST_APP_SECRET``, ``PINTEREST_REFRESH_TOKEN``. With ``app_id`` and ``app_secret`` the client obtains
    and renews access tokens itself (``grant_type=refresh_token`` when a refresh token is known, else
    ``client_credentials``), when the token is missing or expiring and once after a 401.

    Args:
        access_token: the bearer token.
        app_id, app_secret, refresh_token: for OAuth renewal through POST /oauth/token.
        scopes: the scopes the token was granted, if known; operations needing others then fail before sending
            with :class:`~aiopinterest.errors.MissingScopeError`. Also the scopes asked for with
            ``client_credentials``. Learnt from the token response when the client renews the token itself.
        base_url: the API root; default ``PINTEREST_BASE_URL`` from the environment (how the simulator's command
            line points existing code at itself), else production, or the sandbox with ``sandbox=True``.
        sandbox: target ``https://api-sandbox.pinterest.com/v5``; operations the spec marks ``x-sandbox:
            disabled`` then raise :class:`~aiopinterest.errors.SandboxUnsupportedError` before sending.
        timeout: seconds for a whole call (retries and waits included), or a :class:`Timeout` with total,
            connect, per-attempt and read timeouts. Waiting for a concurrency slot never counts.
        max_concurrency: requests in flight at once, across all tasks using this client.
        retry: the :class:`RetryPolicy`; ``RetryPolicy.disabled()`` never retries.
        rate_limits: optional client-side limits in requests per second, by rate-limit category
            (``{"ads_write": 5}``): sends of that category are spaced evenly at that rate.
        rate_limit_priors: ``"trial"`` or ``"standard"``: start from Pinterest's published limits for that
            access tier (the universal limit per user and app, and the per-category ones it publishes) instead
            of learning them from the first responses. What the server says always wins.
        proxy: an HTTP(S) proxy URL for every request. With ``trust_env`` (default) ``HTTPS_PROXY``,
            ``HTTP_PROXY`` and ``NO_PROXY`` are honoured too.
        on_token_refresh: called with each :class:`OAuthToken` the client obtains, so the app can persist it.
        continuous_refresh: send ``continuous_refresh=true`` when refreshing: apps created before 2025-09-25 need
            it to get Pinterest's continuous refresh token (60 days, extended by every refresh).
        refresh_token_expires_at: when the given refresh token expires (Unix seconds, as in :class:`OAuthToken`);
            a renewal after that fails at once with :class:`~aiopinterest.errors.CredentialsError`.
        redis_url: share the OAuth token (one renewal for the fleet) and the rate-limit budget (per category and
            universal, 429 blocks included) with every process using this Redis for the same app and user;
            default ``PINTEREST_REDIS_URL``. Needs ``aiopinterest[redis]``.
        redis_key_prefix: the prefix (and Redis Cluster hash tag) of the keys; processes that share it share the
            token and the budget. Default: derived from a hash of ``app_id`` and the refresh token.
        on_request, on_response: hooks run for every HTTP attempt (see ``client.hooks``).
        session: an ``aiohttp.ClientSession`` to use instead of the client's own; the client does not close it.
        clock: where the client reads time and sleeps (backoff, rate-limit waits); tests inject a fake one.
    """

    def __init__(
        self,
        access_token: str | None = None,
        *,
        app_id: str | None = None,
        app_secret: str | None = None,
        refresh_token: str | None = None,
        scopes: Iterable[str] | None = None,
        base_url: str | None = None,
        sandbox: bool = False,
        timeout: float | Timeout = DEFAULT_TIMEOUT,
        max_concurrency: int = 64,
        retry: RetryPolicy | None = None,
        rate_limits: Mapping[str, float] | None = None,
        rate_limit_priors: Priors | None = None,
        proxy: str | None = None,
        trust_env: bool = True,
        on_token_refresh: TokenRefreshCallback | None = None,
        continuous_refresh: bool = False,
        refresh_token_expires_at: float | None = None,
        redis_url: str | None = None,
        redis_key_prefix: str | None = None,
        on_request: RequestHook | None = None,
        on_response: ResponseHook | None = None,
        session: aiohttp.ClientSession | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.sandbox = sandbox
        clock = clock or SystemClock()
        self._auth, self._shared_budget = _credentials(
            clock,
            access_token=access_token,
            app_id=app_id,
            app_secret=app_secret,
            refresh_token=refresh_token,
            scopes=scopes,
            on_token_refresh=on_token_refresh,
            continuous_refresh=continuous_refresh,
            refresh_token_expires_at=refresh_token_expires_at,
            redis_url=redis_url,
            redis_key_prefix=redis_key_prefix,
        )
        self._transport = Transport(
            base_url=self._use_base_url(base_url, sandbox),
            auth=self._auth,
            retry=retry or RetryPolicy(),
            timeout=timeout if isinstance(timeout, Timeout) else Timeout(total=timeout),
            max_concurrency=max_concurrency,
            rate_limits=rate_limits,
            rate_limit_priors=rate_limit_priors,
            shared_budget=self._shared_budget,
            clock=clock,
            proxy=proxy,
            trust_env=trust_env,
            session=session,
        )
        # Scopes are known from the start, or learnt with each token the client obtains itself.
        self._scopes_checked = self._auth.granted_scopes is not None or self._auth.can_renew
        if on_request is not None:
            self.hooks.request.append(on_request)
        if on_response is not None:
            self.hooks.response.append(on_response)

    def _use_base_url(self, base_url: str | None, sandbox: bool) -> URL:
        default_url = SANDBOX_URL if sandbox else _env("PINTEREST_BASE_URL") or PRODUCTION_URL
        self.base_url = (base_url or default_url).rstrip("/")
        api_root = URL(self.base_url)
        # Operation URLs are built from these parts: bench/instructions.py counts 13,900 more instructions per
        # pins.get (3.4%) when each URL string is parsed instead.
        self._api_scheme = api_root.scheme
        self._api_authority = api_root.raw_authority
        self._api_path = api_root.raw_path.rstrip("/")
        return api_root

    def __repr__(self) -> str:
        return (
            f"Client(base_url={self.base_url!r}, auth={self._auth.kind!r}, "
            f"max_concurrency={self._transport._max_concurrency}, closed={self._transport.closed})"
        )

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the client's HTTP session (a session passed in is left open). Safe to call twice."""
        await self._transport.close()
        if self._shared_budget is not None:
            await self._shared_budget.aclose()
        await self._auth.close()

    @property
    def metrics(self) -> Metrics:
        """Counters by rate-limit category: ``client.metrics["org_read"].rate_limited``, ``.total()``."""
        return self._transport.metrics

    @property
    def hooks(self) -> Hooks:
        """``client.hooks.request`` and ``.response``: hooks run on every HTTP attempt; ``.call_start`` and
        ``.call_end``: hooks run once per call, around its attempts."""
        return self._transport.hooks

    @property
    def retry(self) -> RetryPolicy:
        return self._transport.retry

    @functools.cached_property
    def media(self) -> MediaNamespace:
        """The ``media`` operations and the uploads built on them (:meth:`~MediaNamespace.upload`, Pins from local
        files); the other namespaces come from ``GeneratedNamespaces``."""
        from .media import MediaNamespace

        return MediaNamespace(self)

    @property
    def clock(self) -> Clock:
        """Where the client reads time and sleeps (the ``clock=`` given, else the real one); helpers that pace
        or poll on the client's behalf wait on it too, so a fake clock in tests never waits for real."""
        return self._transport.clock

    @property
    def granted_scopes(self) -> frozenset[str] | None:
        """The OAuth scopes of the current token, when known."""
        return self._auth.granted_scopes

    async def _request(
        self,
        operation: Operation,
        response_type: type[T],
        *,
        path: Mapping[str, object] | None = None,
        query: Mapping[str, object] | None = None,
        body: object = None,
        options: RequestOptions | None = None,
    ) -> T:
        """Call one API operation: the single entry of every generated method (and of pagination).

        Checks sandbox support, validates and serialises the arguments (``build_request``), sends through the
        transport (auth and the operation's OAuth scopes, governor, retries, concurrency, timeouts, hooks,
        metrics), and decodes a 2xx body into ``response_type`` (``type(None)``: no body expected, returns
        ``None``).
        """
        if self.sandbox and not operation.sandbox:
            raise _sandbox_unsupported(operation)
        prepared = build_request(operation, path, query, body)
        request = self._operation_request(operation, prepared, options)
        if options is None:
            response = await self._transport.send(request)
        else:
            response = await self._transport.send(
                request, timeout=options.timeout, retry=options.retry, capture=options.capture
            )
        if response_type is type(None) or response_type is None:
            return cast(T, None)
        return _decode(operation, response_type, response)

    def _operation_request(
        self, operation: Operation, prepared: PreparedRequest, options: RequestOptions | None
    ) -> OutgoingRequest:
        """What the transport sends for a prepared operation call, below the API base URL."""
        query_pairs: Sequence[tuple[str, str]] = prepared.query
        headers: dict[str, str] = {}
        if prepared.content_type is not None:
            headers["Content-Type"] = prepared.content_type
        if options is not None:
            if options.query:
                query_pairs = [*query_pairs, *options.query.items()]
            if options.headers:
                headers.update(_extra_headers(options.headers))
        # urlencode with quote, not yarl's query: yarl leaves , ! $ ' ( ) * / : ? @ unencoded and writes a space as
        # +, which would change comma-joined array parameters on the wire.
        query_string = (
            urllib.parse.urlencode(query_pairs, quote_via=urllib.parse.quote) if query_pairs else ""
        )
        return OutgoingRequest(
            method=prepared.method,
            url=URL.build(
                scheme=self._api_scheme,
                authority=self._api_authority,
                path=self._api_path + prepared.path,
                query_string=query_string,
                encoded=True,
            ),
            body=prepared.body,
            headers=headers,
            category=operation.ratelimit_category,
            operation_id=operation.operation_id,
            authenticated=True,
            scopes=operation.scopes if self._scopes_checked else (),
        )

    async def request(
        self,
        method: str,
        url: str | URL,
        *,
        query: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Body = None,
        authenticated: bool | None = None,
        category: str | None = None,
        replay_safe: bool = False,
        # A parameter, not a caller's cancel scope: the budget excludes waits for a concurrency slot.
        timeout: float | Timeout | None = None,  # noqa: ASYNC109
        raise_for_status: bool = True,
        capture: RawResponse | None = None,
    ) -> Response:
        """Send any HTTP request through the client: an endpoint the spec lacks, a report file, an upload.

        >>> response = await client.request("GET", "/pins/123", query={"ad_account_id": "42"})
        >>> response.status, len(response.content)

        It shares the session, the concurrency limit, the governor, the retry policy, timeouts, hooks, metrics
        and logging with the operation methods, which are the typed way to call the API.

        Args:
            url: a path starting with ``/``, below the API base URL (``"/pins/123"``); or an absolute URL, sent
                exactly as given (a presigned S3 URL keeps its signature intact).
            query: extra query parameters, appended (encoded) to ``url``.
            headers: request headers (Content-Type included, if there is a body).
            body: bytes, or a zero-argument function returning a fresh aiohttp payload for every attempt
                (``lambda: form_data()`` for an S3 multipart POST: an aiohttp ``FormData`` cannot be sent twice).
            authenticated: send the client's bearer token; by default, exactly when ``url`` is on the API's
                origin. ``True`` for another origin raises ``ValueError``: the token never goes to S3 or any
                other host, nor across a redirect.
            category: the rate-limit category, for the governor and ``client.metrics``. By default the
                category of the operation at that method and path (and its OAuth scopes are checked), else
                ``"external"``, which the governor does not pace: name the category of an endpoint the spec
                lacks.
            replay_safe: the request may be sent twice harmlessly, so a 5xx, a timeout or a lost connection is
                retried even for POST (the default retries those only for GET, HEAD, PUT, DELETE, OPTIONS).
            timeout: seconds for the whole call, retries included (default: the client's total timeout); or a
                :class:`Timeout`, e.g. ``Timeout(total=3600, attempt=1800)`` for a large download.
            raise_for_status: raise the typed :class:`~aiopinterest.errors.APIError` for a status >= 400 once
                retries are exhausted (default); ``False`` returns that response instead, e.g. to read S3's XML
                error code.
            capture: also copy the final response into this :class:`RawResponse`.

        Returns:
            The final :class:`Response`: ``status``, ``headers`` (case-insensitive), the whole ``content`` as
            bytes, and the ``url`` it came from (signature included: its repr redacts it).

        Raises:
            APIError subclasses as above; ``TransportError`` (``ConnectError``, ``RequestTimeoutError``) when no
            response was obtained after retries.
        """
        return await self._transport.send(
            self._outgoing(method, url, query, headers, body, authenticated, category, replay_safe),
            timeout=timeout,
            capture=capture,
            raise_for_status=raise_for_status,
        )

    def stream(
        self,
        method: str,
        url: str | URL,
        *,
        query: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Body = None,
        authenticated: bool | None = None,
        category: str | None = None,
        replay_safe: bool = False,
        timeout: float | Timeout | None = None,
    ) -> AbstractAsyncContextManager[StreamedResponse]:
        """Send any HTTP request like :meth:`request`, and read the response body as it arrives.

        >>> async with client.stream("GET", report_url, timeout=Timeout(total=None, attempt=None, read=60)) as r:
        ...     async for chunk in r.iter_chunks():
        ...         ...

        Everything before the body (concurrency slot, auth, governor, redirects, hooks, metrics, logging, and
        the retry policy for failures and error statuses) is as for :meth:`request`; the slot is held until the
        block exits, which closes the response. The body is read in chunks, never held whole; a failure while
        reading raises ``TransportError`` and is not retried. A status >= 400 (after retries) raises the typed
        :class:`~aiopinterest.errors.APIError` on entering the block. A session passed as ``session=`` keeps
        its own credentials to the API origin only, as the bearer token.

        ``timeout`` counts to the end of the body: for a large download, give a :class:`Timeout` without
        ``total`` and ``attempt`` but with a ``read`` timeout (the longest silence).
        """
        return self._transport.stream(
            self._outgoing(method, url, query, headers, body, authenticated, category, replay_safe),
            timeout=timeout,
        )

    def _outgoing(
        self,
        method: str,
        url: str | URL,
        query: Mapping[str, str] | Sequence[tuple[str, str]] | None,
        headers: Mapping[str, str] | None,
        body: Body,
        authenticated: bool | None,
        category: str | None,
        replay_safe: bool,
    ) -> OutgoingRequest:
        """The request of a raw call: ``url`` absolute and sent as given, or a path below the API base URL."""
        if isinstance(url, URL):
            target = url
        elif url.startswith("/"):
            target = URL(self.base_url + url, encoded=True)
        else:
            target = URL(url, encoded=True)
        if query:
            target = target.extend_query(query)
        method = method.upper()
        # Scheme and raw authority: user info, another port or a look-alike host all differ.
        on_api = target.scheme == self._api_scheme and target.raw_authority == self._api_authority
        if authenticated and not on_api:
            raise ValueError(f"refusing to send the access token to {target.origin()}, not the API origin")
        operation = None
        if on_api and category is None and target.raw_path.startswith(self._api_path + "/"):
            operation = _operation_at(method, target.raw_path[len(self._api_path) :])
        return OutgoingRequest(
            method=method,
            url=target,
            body=body,
            headers=dict(headers or {}),
            category=category or (operation.ratelimit_category if operation else EXTERNAL_CATEGORY),
            operation_id=operation.operation_id if operation else None,
            authenticated=on_api if authenticated is None else authenticated,
            replay_safe=replay_safe,
            scopes=operation.scopes if operation and self._scopes_checked else (),
        )


def _operation_at(method: str, path: str) -> Operation | None:
    """The operation the spec has for ``method`` at ``path`` (below the API root), if any."""
    for operation, pattern in _path_patterns():
        if operation.method == method and pattern.fullmatch(path):
            return operation
    return None


@functools.cache
def _path_patterns() -> list[tuple[Operation, re.Pattern[str]]]:
    from ._generated.operations import OPERATIONS

    # Fewer path parameters first: GET /pins/analytics is that operation, not /pins/{pin_id}.
    operations = sorted(OPERATIONS.values(), key=lambda operation: operation.path.count("{"))
    return [
        (operation, re.compile("[^/]+".join(map(re.escape, re.split(r"\{[^}]+\}", operation.path)))))
        for operation in operations
    ]


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


def _credentials(
    clock: Clock,
    *,
    access_token: str | None,
    app_id: str | None,
    app_secret: str | None,
    refresh_token: str | None,
    scopes: Iterable[str] | None,
    on_token_refresh: TokenRefreshCallback | None,
    continuous_refresh: bool,
    refresh_token_expires_at: float | None,
    redis_url: str | None,
    redis_key_prefix: str | None,
) -> tuple[Authenticator, RedisBudget | None]:
    """The client's authenticator, from the arguments or else the ``PINTEREST_*`` variables; and with a Redis URL,
    the rate-limit budget it shares with its fleet, under keys derived from whose credentials these are."""
    app_id = app_id or _env("PINTEREST_APP_ID")
    refresh_token = refresh_token or _env("PINTEREST_REFRESH_TOKEN")
    access_token = access_token or _env("PINTEREST_ACCESS_TOKEN")
    redis_url = redis_url or _env("PINTEREST_REDIS_URL")
    token_store: TokenStore | None = None
    budget: RedisBudget | None = None
    if redis_url is not None:
        # Imported only here: redis is an optional extra.
        from ._fleet import RedisBudget, RedisTokenStore, fleet_keys

        keys = fleet_keys(
            redis_key_prefix,
            app_id=app_id,
            refresh_token=refresh_token,
            scopes=scopes,
            access_token=access_token,
        )
        token_store, budget = (
            RedisTokenStore(redis_url, keys, clock=clock),
            RedisBudget(redis_url, keys, clock=clock),
        )
    authenticator = Authenticator(
        access_token=access_token,
        refresh_token=refresh_token,
        app_id=app_id,
        app_secret=app_secret or _env("PINTEREST_APP_SECRET"),
        scopes=scopes,
        on_token_refresh=on_token_refresh,
        clock=clock,
        continuous_refresh=continuous_refresh,
        refresh_token_expires_at=refresh_token_expires_at,
        store=token_store,
    )
    return authenticator, budget


def _extra_headers(headers: Mapping[str, str]) -> Mapping[str, str]:
    if any(name.lower() == "authorization" for name in headers):
        raise RequestValidationError(
            "options.headers", "Authorization is set by the client and cannot be replaced per call"
        )
    return headers


def _sandbox_unsupported(operation: Operation) -> SandboxUnsupportedError:
    return SandboxUnsupportedError(
        f"{operation.namespace}.{operation.name} ({operation.operation_id}) is not available in the "
        "Pinterest sandbox (x-sandbox: disabled); call it with a production client"
    )


def _decode(operation: Operation, response_type: type[T], response: Response) -> T:
    """A 2xx body as ``response_type``; a body that does not fit its type takes the lenient way."""
    try:
        # cast: mypy does not count type[T] as Hashable, which functools.cache asks of an argument.
        decoded: T = _decoder(cast(Any, response_type)).decode(response.content)
    except msgspec.ValidationError:
        # Only a body that does not fit its type takes the slower way: nulls it cannot hold taken out.
        try:
            decoded = decode_lenient(response.content, response_type)
        except (msgspec.ValidationError, msgspec.DecodeError) as error:
            raise _invalid_response(operation, response_type, response, error) from None
    except msgspec.DecodeError as error:
        raise _invalid_response(operation, response_type, response, error) from None
    return decoded


@functools.cache
def _decoder(response_type: Any) -> msgspec.json.Decoder[Any]:
    # One decoder per response type. msgspec keeps what it works out of a Struct on the class, but not of a list
    # or dict type (18 operations, the analytics among them): decoding with type= each time is 3.9x slower for a
    # three-row analytics list, 1.7x for a Struct (bench/decoder_cache.py).
    return msgspec.json.Decoder(response_type)


def _invalid_response(
    operation: Operation, response_type: Any, response: Response, error: msgspec.MsgspecError
) -> ResponseValidationError:
    """The error for a 2xx body that does not decode into its type: naming the bad field, or quoting the start
    of what is not JSON."""
    if isinstance(error, msgspec.ValidationError):
        message = str(error)
        match = _ERROR_PATH.search(message)
        return ResponseValidationError(
            f"{operation.operation_id}: the {response.status} response does not match "
            f"{getattr(response_type, '__name__', response_type)}: {message}",
            field=match.group(1) if match else None,
            status=response.status,
        )
    snippet = body_snippet(response.content)
    return ResponseValidationError(
        f"{operation.operation_id}: the {response.status} response is not valid JSON ({error}); "
        f"it starts with {snippet!r}",
        status=response.status,
    )
