"""Opening redis-py's asyncio client lazily, one per event loop, and naming a Redis URL without its password."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from yarl import URL

from .._dead_loops import close_transport_without_loop
from ..errors import ConfigurationError

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger("aiopinterest")

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


class RedisPerLoop:
    """redis-py's client for ``url`` on the running event loop, opened on first use there.

    Its connections belong to the loop they were made on: a client used in successive ``asyncio.run()`` calls
    gets one per loop, and the previous loop's is let go of (closed on that loop if it still runs, its sockets
    closed directly if it has ended)."""

    def __init__(self, url: str, *, timeout: float = SOCKET_TIMEOUT) -> None:
        self.url = url
        self._timeout = timeout
        self._redis: Redis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._scripts: dict[str, Any] = {}  # by source

    def get(self) -> Redis:
        loop = asyncio.get_running_loop()
        if self._redis is None or self._loop is not loop:
            self._let_go()
            self._redis, self._loop = open_redis(self.url, timeout=self._timeout), loop
        return self._redis

    def script(self, source: str) -> Any:
        """``source`` registered on the running loop's client: redis-py sends EVALSHA, and loads the script on
        the first NOSCRIPT (a restarted Redis included)."""
        client = self.get()
        script = self._scripts.get(source)
        if script is None or script.registered_client is not client:  # first use, or a new loop's client
            script = self._scripts[source] = client.register_script(source)
        return script

    def warn_failed(self, error: BaseException, then: str) -> None:
        """Log at WARNING that Redis failed with ``error``, and what the caller does ``then``."""
        logger.warning("Redis at %s failed (%s): %s", redacted(self.url), type(error).__name__, then)

    async def aclose(self) -> None:
        if self._redis is not None and self._loop is asyncio.get_running_loop():
            redis, self._redis, self._loop = self._redis, None, None
            await redis.aclose()
        else:
            self._let_go()

    def _let_go(self) -> None:
        redis, loop = self._redis, self._loop
        self._redis = self._loop = None
        if redis is None or loop is None:
            return
        if not loop.is_closed():
            asyncio.run_coroutine_threadsafe(redis.aclose(), loop)
            return
        pool = redis.connection_pool
        # Private: redis-py offers no way to drop a pool without its loop.
        for connection in [*pool._get_free_connections(), *pool._get_in_use_connections()]:
            writer = connection._writer
            if writer is not None:
                close_transport_without_loop(writer.transport)
            connection._writer = connection._reader = None
