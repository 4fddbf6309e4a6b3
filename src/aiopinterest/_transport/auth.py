"""Access tokens: the bearer for each request, and OAuth renewal through POST /oauth/token."""

from __future__ import annotations

import base64
import inspect
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass

import anyio
import msgspec

from .._options import RawResponse
from ..errors import CredentialsError, PinterestError, ResponseValidationError
from .clock import Clock

#: Renew a little before the server's expiry, so a token never expires in flight.
_EXPIRY_MARGIN = 60.0


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

    def __repr__(self) -> str:
        scopes = sorted(self.scopes) if self.scopes is not None else None
        return f"OAuthToken(access_token=<redacted>, expires_in={self.expires_in}, scopes={scopes})"


TokenRefreshCallback = Callable[[OAuthToken], Awaitable[None] | None]
#: Sends a form-encoded POST to /oauth/token with the given headers; provided by the transport.
TokenEndpoint = Callable[[bytes, Mapping[str, str]], Awaitable[RawResponse]]


class _TokenResponse(msgspec.Struct):
    access_token: str
    expires_in: int | None = None
    refresh_token: str | None = None
    refresh_token_expires_in: int | None = None
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
    one POST is made and all of them use its outcome.
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
    ) -> None:
        self._access_token = access_token
        self._refresh_token = refresh_token
        self._app_id = app_id
        self._app_secret = app_secret
        self._scopes = parse_scopes(scopes) if scopes is not None else None
        self._on_token_refresh = on_token_refresh
        self._clock = clock
        self._expires_at: float | None = None
        self._lock = anyio.Lock()
        # Counts finished renewals, so that requests queued behind one take its outcome instead of renewing again.
        self._renewals = 0
        self._last_failure: PinterestError | None = None
        self._endpoint: TokenEndpoint | None = None

    def connect(self, endpoint: TokenEndpoint) -> None:
        self._endpoint = endpoint

    @property
    def can_renew(self) -> bool:
        return bool(self._app_id and self._app_secret)

    @property
    def granted_scopes(self) -> frozenset[str] | None:
        """The scopes the token carries, when known (from the token response, or given by the caller)."""
        return self._scopes

    @property
    def kind(self) -> str:
        """How the client authenticates, for reprs: never the credentials themselves."""
        if self.can_renew:
            return "refresh_token" if self._refresh_token else "client_credentials"
        return "access_token" if self._access_token else "none"

    def fresh_token(self) -> str | None:
        """The current token if it needs no renewal: the hot path, without a coroutine."""
        if self._expires_at is not None and self._clock.monotonic() >= self._expires_at:
            return None
        return self._access_token

    async def bearer(self) -> str:
        """The access token to send now, obtained or renewed first if needed."""
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

    async def _renew(self, *, stale: str | None) -> str:
        renewals_seen = self._renewals
        async with self._lock:
            if self._renewals != renewals_seen:
                # A renewal finished while we queued: share its outcome.
                if self._last_failure is not None:
                    raise self._last_failure
                assert self._access_token is not None
                return self._access_token
            current = self.fresh_token()
            if current is not None and current != stale:
                return current
            try:
                token = await self._request_token()
            except PinterestError as failure:
                self._last_failure = failure
                raise
            finally:
                self._renewals += 1
            self._last_failure = None
            self._store(token)
            if self._on_token_refresh is not None:
                result = self._on_token_refresh(token)
                if inspect.isawaitable(result):
                    await result
            return token.access_token

    async def _request_token(self) -> OAuthToken:
        assert self._endpoint is not None and self._app_id and self._app_secret
        form: dict[str, str]
        if self._refresh_token:
            form = {"grant_type": "refresh_token", "refresh_token": self._refresh_token}
        else:
            form = {"grant_type": "client_credentials"}
            if self._scopes:
                form["scope"] = ",".join(sorted(self._scopes))
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
        return OAuthToken(
            access_token=decoded.access_token,
            refresh_token=decoded.refresh_token or self._refresh_token,
            expires_in=decoded.expires_in,
            refresh_token_expires_in=decoded.refresh_token_expires_in,
            scopes=parse_scopes(decoded.scope) if decoded.scope is not None else self._scopes,
        )

    def _store(self, token: OAuthToken) -> None:
        self._access_token = token.access_token
        self._refresh_token = token.refresh_token
        self._scopes = token.scopes
        if token.expires_in is None:
            self._expires_at = None
        else:
            margin = min(_EXPIRY_MARGIN, token.expires_in / 10)
            self._expires_at = self._clock.monotonic() + token.expires_in - margin
