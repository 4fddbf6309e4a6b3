"""Fixtures for transport tests: loopback API servers, a controllable clock, and clients wired to both."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

from aiopinterest import Client, RetryPolicy

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: The ``make_client`` fixture: ``await make_client(**client_kwargs)``, a Client on the test server and fake clock.
MakeClient = Callable[..., Awaitable[Client]]

#: The routes of the operations transport tests call through the public API. Pin ids are digits (the spec's
#: pattern); ``pins.get`` is in category ``org_read``, ``pins.save`` and ``pins.delete`` in ``org_write``,
#: ``ad_accounts.get`` in ``ads_read``.
PIN = "/v5/pins/{pin_id}"
SAVE = "/v5/pins/{pin_id}/save"
AD_ACCOUNT = "/v5/ad_accounts/{ad_account_id}"


class FakeClock:
    """A clock whose sleeps take no real time.

    With ``auto_advance`` (default) time is virtual: it moves to the next sleeper's due time only once nothing
    else can happen (no task is ready and no loopback I/O arrives for a few real milliseconds), so a timer never
    fires "before" a loopback answer that takes no virtual time. Without it, sleepers wait until the test calls
    :meth:`advance`, so a test can observe who is waiting.
    """

    def __init__(self, *, auto_advance: bool = True) -> None:
        self.now = 1000.0
        self.wall = 1_700_000_000.0
        self.sleeps: list[float] = []
        self.auto_advance = auto_advance
        self._waiters: list[tuple[float, anyio.Event]] = []
        self._new_sleeper = anyio.Event()
        self._driver: asyncio.Task[None] | None = None

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.wall + (self.now - 1000.0)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        entry = (self.now + max(0.0, seconds), anyio.Event())
        self._waiters.append(entry)
        self._new_sleeper.set()
        if self.auto_advance and self._driver is None:
            self._driver = asyncio.get_running_loop().create_task(self._drive())
        try:
            await entry[1].wait()
        finally:
            if entry in self._waiters:  # cancelled: its due time no longer moves the clock
                self._waiters.remove(entry)

    async def _drive(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._waiters:
                idle = 0
                while idle < 3:
                    await asyncio.sleep(0.001)
                    idle = idle + 1 if not loop._ready else 0  # type: ignore[attr-defined]
                if self._waiters:
                    await self.advance(max(0.0, min(due for due, _ in self._waiters) - self.now))
        finally:
            self._driver = None

    @property
    def sleeping(self) -> int:
        return len(self._waiters)

    async def until_sleeping(self, count: int) -> None:
        """Wait (up to 5 s of real time) until ``count`` tasks are asleep on this clock."""
        with anyio.fail_after(5):
            while self.sleeping < count:
                self._new_sleeper = anyio.Event()
                await self._new_sleeper.wait()

    async def advance(self, seconds: float) -> None:
        self.now += seconds
        due = [(t, e) for t, e in self._waiters if t <= self.now]
        self._waiters = [(t, e) for t, e in self._waiters if t > self.now]
        for _, event in due:
            event.set()
        for _ in range(5):
            await anyio.lowlevel.checkpoint()


class ApiServer:
    """A loopback HTTP server; ``routes`` maps (method, path) to handlers. Counts requests per path."""

    def __init__(self) -> None:
        self.app = web.Application()
        self.hits: dict[str, int] = {}
        self.requests: list[web.Request] = []
        self.stall = asyncio.Event()
        self._server: TestServer | None = None

    def route(self, method: str, path: str, handler: Handler) -> None:
        async def counted(request: web.Request) -> web.StreamResponse:
            self.hits[request.path] = self.hits.get(request.path, 0) + 1
            self.requests.append(request)
            return await handler(request)

        self.app.router.add_route(method, path, counted)

    async def stalled(self) -> None:
        """Await in a handler to hang until the test ends."""
        await self.stall.wait()

    async def start(self) -> None:
        self._server = TestServer(self.app, host="127.0.0.1", port=0)
        await self._server.start_server()

    async def close(self) -> None:
        self.stall.set()
        if self._server is not None:
            await self._server.close()

    @property
    def started(self) -> bool:
        return self._server is not None

    @property
    def origin(self) -> str:
        assert self._server is not None
        return str(self._server.make_url("/")).rstrip("/")

    @property
    def base_url(self) -> str:
        return self.origin + "/v5"

    def url(self, path: str) -> URL:
        return URL(self.origin + path)


@pytest.fixture
async def make_server() -> AsyncIterator[Callable[[], Awaitable[ApiServer]]]:
    servers: list[ApiServer] = []

    async def make() -> ApiServer:
        server = ApiServer()
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.close()


@pytest.fixture
async def server(make_server: Callable[[], Awaitable[ApiServer]]) -> ApiServer:
    """An API server; add routes, then ``await server.start()`` (done by ``make_client``)."""
    return await make_server()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def deterministic_retry() -> RetryPolicy:
    # jitter 0.5: backoff after attempt n is exactly backoff_base * 2**(n-1) / 2.
    return RetryPolicy(jitter=lambda: 0.5)


@pytest.fixture
async def make_client(
    server: ApiServer, clock: FakeClock, deterministic_retry: RetryPolicy
) -> AsyncIterator[MakeClient]:
    clients: list[Client] = []

    async def make(**kwargs: Any) -> Client:
        if not server.started:
            await server.start()
        kwargs.setdefault("access_token", "test-access-token")
        kwargs.setdefault("base_url", server.base_url)
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("retry", deterministic_retry)
        client = Client(**kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A port where connecting is refused for the whole test.

    The socket stays bound (never listening) until the test ends: a port merely picked and released could be
    taken meanwhile by another server, or be chosen by the kernel as the client's own source port, which
    connects the socket to itself (TCP simultaneous open) and gets an answer instead of a refusal.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


async def json_pin(request: web.Request) -> web.Response:
    """A handler answering 200 with a Pin whose id is the path's ``pin_id`` and whose title is ``ok``."""
    return web.json_response({"id": request.match_info.get("pin_id", "1"), "title": "ok"})


async def json_ad_account(request: web.Request) -> web.Response:
    """A handler answering 200 with an AdAccount whose id is the path's ``ad_account_id``."""
    return web.json_response({"id": request.match_info["ad_account_id"], "name": "ok"})
