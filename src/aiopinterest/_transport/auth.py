"""Access tokens: the bearer for each request, and OAuth renewal through POST /oauth/token."""

from __future__ import annotations

import asyncio
import base64
import inspect
import logging
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

import anyio
import msgspec

from ..errors import CredentialsError, MissingScopeError, ResponseValidationError
from .clock import Clock
from .response import Response

logger = logging.getLogger("aiopinterest")

#: Renew a little before the server's expiry, so a token never expires in flight.
_EXPIRY_MARGIN = 60.0
#: Warn this long before the refresh token itself expires: the user must re-authorize before then.
_REFRESH_EXPIRY_WARNING = 7 * 86_400.0


@dataclass(frozen=True, slots=True, kw_only=True)
class OAuthToken:
    """A token the client obtained from POST /oauth/token, as passed to ``on_token_refresh``.

    The repr shows no secret; persist the fields themselves.
    """

    access_token: str
    refresh_token: str | None
    #: Seconds the access token is valid for, from the moment it was issued.
    expires_in: int | None
    refresh_token_expires_in: int | None
    scopes: frozenset[str] | None
    #: When the refresh token stops working, in Unix seconds, if the server said (or it follows from
    #: ``refresh_token_expires_in``). Persist it and pass it back as ``Client(refresh_token_expires_at=...)``.
    refresh_token_expires_at: float | None = None

    def __repr__(self) -> str:
        scopes = sorted(self.scopes) if self.scopes is not None else None
        return (
            f"OAuthToken(access_token=<redacted>, expires_in={self.expires_in}, "
            f"refresh_token_expires_at={self.refresh_token_expires_at}, scopes={scopes})"
        )


TokenRefreshCallback = Callable[[OAuthToken], Awaitable[None] | None]
#: Sends a form-encoded POST to /oauth/token with the given headers; provided by the transport.
TokenEndpoint = Callable[[bytes, Mapping[str, str]], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class SharedToken:
    """A token as a fleet store hands it out: ``expires_in`` is what is left of it now."""

    token: OAuthToken
    #: True when this process obtained it from /oauth/token (then it alone runs ``on_token_refresh``).
    obtained_here: bool


#: Obtains a token from /oauth/token, with the fleet's latest refresh token and its expiry when the store has one.
Obtain = Callable[[str | None, float | None], Awaitable[OAuthToken]]


class TokenStore(Protocol):
    """Where processes sharing one app and user keep one token, so that one of them renews it for all."""

    async def connect(self) -> OAuthToken | None:
        """Check the store can be reached (else raise ``ConfigurationError``); the token it holds, if any."""
        ...

    async def renew(self, stale: str | None, obtain: Obtain) -> SharedToken:
        """A token other than ``stale``: the one the store holds, else ``obtain()`` run by one process."""
        ...

    async def close(self) -> None: ...


class _TokenResponse(msgspec.Struct):
    access_token: str
    expires_in: int | None = None
    refresh_token: str | None = None
    refresh_token_expires_in: int | None = None
    refresh_token_expires_at: float | None = None
    scope: str | None = None


_token_decoder = msgspec.json.Decoder(_TokenResponse)


def parse_scopes(scopes: str | Iterable[str]) -> frozenset[str]:
    """Pinterest separates granted scopes with commas; the OAuth RFC with spaces. Accept both."""
    if isinstance(scopes, str):
        scopes = scopes.replace(",", " ").split()
    return frozenset(scope.strip() for scope in scopes if scope.strip())


class Authenticator:
    """Holds the client's credentials and hands out a valid bearer token.

    A token is obtained or renewed when it is missing, when it is about to expire, and once after a 401, if the
    client has ``app_id`` and ``app_secret``: with ``grant_type=refresh_token`` when a refresh token is known,
    else ``grant_type=client_credentials``. Renewal is single-flight: however many requests need it at once,
    one POST is made and all of them use its outcome. The renewal runs in a task of its own, so cancelling the
    call that started it (or its timeout) leaves it running for the others; a rotated refresh token is never
    lost half-way. With a :class:`TokenStore`, one process renews for every process sharing the store.
    """

    def __init__(
        self,
        *,
        access_token: str | None,
        refresh_token: str | None,
        app_id: str | None,
        app_secret: str | None,
        scopes: Iterable[str] | None,
        on_token_refresh: TokenRefreshCallback | None,
        clock: Clock,
        continuous_refresh: bool = False,
        refresh_token_expires_at: float | None = None,
        store: TokenStore | None = None,
    ) -> None:
        self._access_token = access_token
        self._refresh_token = refresh_token
        self._app_id = app_id
        self._app_secret = app_secret
        self._scopes = parse_scopes(scopes) if scopes is not None else None
        self._on_token_refresh = on_token_refresh
        self._clock = clock
        self._continuous_refresh = continuous_refresh
        self._refresh_expires_at = refresh_token_expires_at
        self._expires_at: float | None = None
        # The renewal under way, awaited (shielded) by every request that needs it.
        self._renewal: asyncio.Task[str] | None = None
        self._endpoint: TokenEndpoint | None = None
        self._store = store
        # Until the store has been reached once, every request goes through bearer() to reach it.
        self._store_lock = anyio.Lock()
        self._store_ready = store is None

    def connect(self, endpoint: TokenEndpoint) -> None:
        self._endpoint = endpoint

    @property
    def can_renew(self) -> bool:
        return bool(self._app_id and self._app_secret)

    @property
    def granted_scopes(self) -> frozenset[str] | None:
        """The scopes the token carries, when known (from the token response, or given by the caller)."""
        return self._scopes

    def check_scopes(self, needed: tuple[str, ...], operation_id: str | None) -> None:
        """Refuse a request needing scopes the token is known to lack (scopes unknown: nothing to refuse)."""
        granted = self._scopes
        if granted is None:
            return
        missing = tuple(scope for scope in needed if scope not in granted)
        if missing:
            raise MissingScopeError(operation_id or "this request", missing)

    @property
    def kind(self) -> str:
        """How the client authenticates, for reprs: never the credentials themselves."""
        if self.can_renew:
            return "refresh_token" if self._refresh_token else "client_credentials"
        return "access_token" if self._access_token else "none"

    def fresh_token(self) -> str | None:
        """The current token if it needs no renewal: the hot path, without a coroutine (46,500 fewer instructions
        per pins.get than awaiting bearer() within the deadline, 11%, bench/instructions.py)."""
        if not self._store_ready:
            return None
        if self._expires_at is not None and self._clock.monotonic() >= self._expires_at:
            return None
        return self._access_token

    async def bearer(self) -> str:
        """The access token to send now, obtained or renewed first if needed."""
        if not self._store_ready:
            await self._join_store()
        fresh = self.fresh_token()
        if fresh is not None:
            return fresh
        token = self._access_token
        if self.can_renew:
            return await self._renew(stale=token)
        if token is None:
            raise CredentialsError(
                "no access token: pass access_token= or set PINTEREST_ACCESS_TOKEN, or give app_id, app_secret "
                "(and refresh_token) so the client can obtain one"
            )
        # Past our estimate of its expiry but not renewable: let the server judge it.
        return token

    async def renew_rejected(self, rejected: str) -> bool:
        """After a 401 for ``rejected``: renew (once, whoever else asks); ``False`` when renewal is impossible."""
        if not self.can_renew:
            return False
        await self._renew(stale=rejected)
        return True

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()

    async def _join_store(self) -> None:
        """First use: reach the store (a clear error if it cannot be) and take the fleet's token if it has one."""
        assert self._store is not None
        async with self._store_lock:
            if self._store_ready:
                return
            shared = await self._store.connect()
            if shared is not None:
                self._adopt(shared)
            self._store_ready = True

    async def _renew(self, *, stale: str | None) -> str:
        current = self.fresh_token()
        if current is not None and current != stale:
            return current  # renewed since this request read its token
        renewal = self._renewal
        if renewal is None:
            renewal = self._renewal = asyncio.get_running_loop().create_task(self._renew_once(stale))
            renewal.add_done_callback(self._renewal_done)
        # A waiter cancelled (or timed out) stops waiting; the renewal goes on for the others.
        return await asyncio.shield(renewal)

    def _renewal_done(self, renewal: asyncio.Task[str]) -> None:
        if self._renewal is renewal:
            self._renewal = None
        if not renewal.cancelled():
            renewal.exception()  # retrieved here too, so a renewal nobody awaits any more logs nothing

    async def _renew_once(self, stale: str | None) -> str:
        if self._store is None:
            token, obtained_here = await self._request_token(), True
        else:
            shared = await self._store.renew(stale, self._obtain_with)
            token, obtained_here = shared.token, shared.obtained_here
        self._adopt(token)
        if obtained_here:
            logger.info("renewed the access token (valid for %s s)", token.expires_in)
            self._warn_if_refresh_token_expires_soon()
            if self._on_token_refresh is not None:
                result = self._on_token_refresh(token)
                if inspect.isawaitable(result):
                    await result
        return token.access_token

    async def _obtain_with(self, refresh_token: str | None, expires_at: float | None) -> OAuthToken:
        """The renewal a fleet store asks for: with the fleet's refresh token if it has one (it may have rotated)."""
        if refresh_token is not None and self._refresh_token is not None:
            self._refresh_token, self._refresh_expires_at = refresh_token, expires_at
        return await self._request_token()

    def _check_refresh_token(self) -> None:
        """A refresh token known to have expired is refused here: the server would refuse it too."""
        if self._refresh_expires_at is None or self._clock.time() < self._refresh_expires_at:
            return
        expired = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self._refresh_expires_at))
        raise CredentialsError(
            f"the refresh token expired at {expired} (refresh_token_expires_at): the user must authorize the "
            "app again to get a new one; apps created before 2025-09-25 should pass continuous_refresh=True "
            "so that every renewal extends it"
        )

    def _warn_if_refresh_token_expires_soon(self) -> None:
        if self._refresh_expires_at is None:
            return
        left = self._refresh_expires_at - self._clock.time()
        if left < _REFRESH_EXPIRY_WARNING:
            days = left / 86_400
            logger.warning(
                "the refresh token expires in %.1f days: the user must authorize the app again", days
            )

    def _token_form(self) -> dict[str, str]:
        if self._refresh_token:
            self._check_refresh_token()
            form = {"grant_type": "refresh_token", "refresh_token": self._refresh_token}
            if self._continuous_refresh:
                form["continuous_refresh"] = "true"
            return form
        form = {"grant_type": "client_credentials"}
        if self._scopes:
            form["scope"] = ",".join(sorted(self._scopes))
        return form

    async def _request_token(self) -> OAuthToken:
        assert self._endpoint is not None and self._app_id and self._app_secret
        form = self._token_form()
        basic = base64.b64encode(f"{self._app_id}:{self._app_secret}".encode()).decode("ascii")
        headers = {
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        response = await self._endpoint(urllib.parse.urlencode(form).encode(), headers)
        try:
            decoded = _token_decoder.decode(response.content)
        except msgspec.ValidationError as error:
            # msgspec's message names the field and the expected type, never the value (a secret here).
            raise ResponseValidationError(
                f"the /oauth/token response is not a token: {error}", status=response.status
            ) from None
        except msgspec.DecodeError:
            raise ResponseValidationError(
                "the /oauth/token response is not JSON", status=response.status
            ) from None
        return self._token_from(decoded)

    def _token_from(self, decoded: _TokenResponse) -> OAuthToken:
        refresh_expires_at = decoded.refresh_token_expires_at
        if refresh_expires_at is None and decoded.refresh_token_expires_in is not None:
            refresh_expires_at = self._clock.time() + decoded.refresh_token_expires_in
        if decoded.refresh_token is None and refresh_expires_at is None:
            refresh_expires_at = self._refresh_expires_at  # the same refresh token, whose expiry we knew
        return OAuthToken(
            access_token=decoded.access_token,
            refresh_token=decoded.refresh_token or self._refresh_token,
            expires_in=decoded.expires_in,
            refresh_token_expires_in=decoded.refresh_token_expires_in,
            refresh_token_expires_at=refresh_expires_at,
            scopes=parse_scopes(decoded.scope) if decoded.scope is not None else self._scopes,
        )

    def _adopt(self, token: OAuthToken) -> None:
        self._access_token = token.access_token
        if token.refresh_token:
            self._refresh_token = token.refresh_token
            self._refresh_expires_at = token.refresh_token_expires_at
        if token.scopes is not None:
            self._scopes = token.scopes
        if token.expires_in is None:
            self._expires_at = None
        else:
            margin = min(_EXPIRY_MARGIN, token.expires_in / 10)
            self._expires_at = self._clock.monotonic() + token.expires_in - margin
