"""Opening redis-py's asyncio client lazily, and naming a Redis URL without its password."""

from __future__ import annotations

from typing import TYPE_CHECKING

from yarl import URL

from ..errors import ConfigurationError

if TYPE_CHECKING:
    from redis.asyncio import Redis

#: A Redis that does not answer within this long is treated as down (the call goes on without it).
SOCKET_TIMEOUT = 5.0


def redacted(url: str) -> str:
    """``url`` fit for messages and logs: the password replaced, the rest kept so the user can recognise it."""
    try:
        parsed = URL(url)
    except (TypeError, ValueError):
        return "<unparseable Redis URL>"
    return str(parsed.with_password("***")) if parsed.password else str(parsed)


def open_redis(url: str, *, timeout: float = SOCKET_TIMEOUT) -> Redis:
    """A client for ``url`` (``redis://``, ``rediss://`` for TLS, ``unix://``); hiredis parses when installed.
    A command that gets no answer within ``timeout`` seconds fails."""
    try:
        from redis.asyncio import Redis
    except ImportError:
        raise ConfigurationError(
            "redis_url needs redis-py: install the extra with pip install 'aiopinterest[redis]'"
        ) from None
    try:
        return Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    except ValueError as error:
        raise ConfigurationError(f"redis_url {redacted(url)} is not a Redis URL: {error}") from None
