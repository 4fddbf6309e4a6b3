"""Time as the transport sees it: one seam so tests and simulations never wait for real."""

from __future__ import annotations

import time
from typing import Protocol

import anyio


class Clock(Protocol):
    """Where the transport reads the time and waits.

    ``monotonic`` measures intervals (rate limits, backoff, token expiry); ``time`` is the wall clock, needed only to
    turn an HTTP-date ``Retry-After`` into a delay. Timeouts always run on the event loop's real clock.
    """

    def monotonic(self) -> float: ...

    def time(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    __slots__ = ()

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)
