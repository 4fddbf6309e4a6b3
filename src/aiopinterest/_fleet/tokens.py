"""One OAuth token for every process using the same Redis, app and user; one renewal for all of them.

The token lives under ``keys.token`` with a key expiry equal to its lifetime (so PTTL is what is left of it, by
Redis's clock). A process that needs a new token takes ``keys.lock`` with SET NX PX, renews, publishes the token
and releases the lock in one script; the others poll until the token changes or the lock lapses (a renewer that
died holds the fleet for at most ``lock_seconds``).
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, TypeVar

import anyio
import msgspec

from .._transport.auth import OAuthToken, Obtain, SharedToken
from .._transport.clock import Clock
from ..errors import ConfigurationError
from .connection import RedisPerLoop, redacted
from .keys import FleetKeys

if TYPE_CHECKING:
    from redis.asyncio import Redis

_T = TypeVar("_T")

#: A token response without expires_in is kept this long in Redis (Pinterest always sends it).
_UNKNOWN_LIFETIME_MS = 3_600_000

# KEYS: token, refresh. Returns the token's JSON, its PTTL, and the refresh token's JSON.
_READ = """
return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1]), redis.call('GET', KEYS[2])}
"""
# KEYS: token, refresh, lock. ARGV: token JSON, its TTL ms, refresh JSON ('' for none), its TTL ms, lock owner.
_PUBLISH = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[3] ~= '' then redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4]) end
if redis.call('GET', KEYS[3]) == ARGV[5] then redis.call('DEL', KEYS[3]) end
return 1
"""
# KEYS: lock. ARGV: owner. Deletes the lock only if this process still holds it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RefreshToken(msgspec.Struct, frozen=True):
    """The fleet's latest refresh token: a renewer uses it rather than the one it started with (rotation)."""

    refresh_token: str
    expires_at: float | None = None


class _StoredToken(msgspec.Struct, frozen=True):
    access_token: str
    scopes: list[str] | None = None


class RedisTokenStore:
    """A :class:`~aiopinterest._transport.auth.TokenStore` in Redis."""

    def __init__(
        self,
        url: str,
        keys: FleetKeys,
        *,
        clock: Clock,
        lock_seconds: float = 30.0,
        poll_seconds: float = 0.05,
    ) -> None:
        self._url = url
        self._keys = keys
        self._clock = clock
        self._lock_ms = int(lock_seconds * 1000)
        self._poll = poll_seconds
        self._redis = RedisPerLoop(url)

    def __repr__(self) -> str:
        return f"RedisTokenStore({redacted(self._url)!r}, tag={self._keys.tag!r})"

    async def connect(self) -> OAuthToken | None:
        client = self._client()  # a ConfigurationError first if redis-py is not installed
        from redis.exceptions import RedisError

        try:
            await client.ping()
            token, _ = await self._read()
        except RedisError as error:
            raise ConfigurationError(
                f"cannot reach Redis at {redacted(self._url)}: {type(error).__name__}: {error}"
            ) from None
        return token

    async def renew(self, stale: str | None, obtain: Obtain) -> SharedToken:
        from redis.exceptions import RedisError

        owner = secrets.token_hex(16)
        try:
            current, refresh = await self._wait_for_turn(stale, owner)
        except RedisError as error:
            self._redis.warn_failed(error, "renewing the token in this process alone")
            return SharedToken(await obtain(None, None), obtained_here=True)
        if current is not None:
            return SharedToken(current, obtained_here=False)
        try:
            token = await obtain(*((refresh.refresh_token, refresh.expires_at) if refresh else (None, None)))
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._release(owner)
            raise
        try:
            await self._publish(token, owner)
        except RedisError as error:
            self._redis.warn_failed(error, "the renewed token stays in this process")
        return SharedToken(token, obtained_here=True)

    async def close(self) -> None:
        await self._redis.aclose()

    async def _wait_for_turn(
        self, stale: str | None, owner: str
    ) -> tuple[OAuthToken | None, RefreshToken | None]:
        """The fleet's token if it is not ``stale``; else hold the lock and get the fleet's refresh token."""
        redis = self._client()
        while True:
            current, refresh = await self._read()
            if current is not None and current.access_token != stale:
                return current, None
            if await redis.set(self._keys.lock, owner, nx=True, px=self._lock_ms):
                break
            await self._clock.sleep(self._poll)
        # The previous holder may have published between our read and our SET.
        current, refresh = await self._read()
        if current is not None and current.access_token != stale:
            await self._release(owner)
            return current, None
        return None, refresh

    async def _read(self) -> tuple[OAuthToken | None, RefreshToken | None]:
        raw, pttl, raw_refresh = await self._redis.script(_READ)(keys=[self._keys.token, self._keys.refresh])
        refresh = _decode(raw_refresh, RefreshToken)
        stored = _decode(raw, _StoredToken)
        if stored is None or pttl <= 0:
            return None, refresh
        token = OAuthToken(
            access_token=stored.access_token,
            refresh_token=refresh.refresh_token if refresh is not None else None,
            expires_in=int(pttl) // 1000,
            refresh_token_expires_in=None,
            refresh_token_expires_at=refresh.expires_at if refresh is not None else None,
            scopes=frozenset(stored.scopes) if stored.scopes is not None else None,
        )
        return token, refresh

    async def _publish(self, token: OAuthToken, owner: str) -> None:
        ttl_ms = token.expires_in * 1000 if token.expires_in else _UNKNOWN_LIFETIME_MS
        stored = _StoredToken(token.access_token, sorted(token.scopes) if token.scopes is not None else None)
        refresh_json, refresh_ttl_ms = b"", 0
        if token.refresh_token:
            refresh_ttl_ms = ttl_ms
            if token.refresh_token_expires_at is not None:
                refresh_ttl_ms = int((token.refresh_token_expires_at - time.time()) * 1000)
            if refresh_ttl_ms > 0:
                refresh = RefreshToken(token.refresh_token, token.refresh_token_expires_at)
                refresh_json = msgspec.json.encode(refresh)
        await self._redis.script(_PUBLISH)(
            keys=[self._keys.token, self._keys.refresh, self._keys.lock],
            args=[msgspec.json.encode(stored), ttl_ms, refresh_json, max(refresh_ttl_ms, 1), owner],
        )

    async def _release(self, owner: str) -> None:
        from redis.exceptions import RedisError

        try:
            await self._redis.script(_RELEASE)(keys=[self._keys.lock], args=[owner])
        except RedisError:
            pass  # the lock lapses by itself after lock_seconds

    def _client(self) -> Redis:
        return self._redis.get()


def _decode(raw: bytes | None, kind: type[_T]) -> _T | None:
    if raw is None:
        return None
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.DecodeError:
        return None  # not ours (or from another version): treated as absent, overwritten at the next renewal
