"""A loopback server paging through a board's pins, with faults on demand, and clients wired to it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import anyio
import anyio.lowlevel
import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from aiopinterest import Client, RetryPolicy


class InstantClock:
    """Backoff and rate-limit waits take no real time; every wait is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await anyio.lowlevel.checkpoint()


@dataclass
class PinServer:
    """``GET /v5/boards/{board_id}/pins`` over ``total`` pins with ids "0", "1", ...

    The bookmark of the page starting at pin ``n`` is ``"b<n>"``. Faults, by the bookmark of the page requested
    (``None``: the first page): ``fail`` answers a status (as many times as listed), ``loop`` answers with the
    requested bookmark as the next one, ``empty`` answers no items but a next bookmark (``"b<n>e"``, which
    serves pin ``n`` on), ``stall`` hangs until the request
    is cancelled. ``delay`` sleeps before every answer.
    """

    total: int
    default_page_size: int = 25
    fail: dict[str | None, list[int]] = field(default_factory=dict)
    loop: set[str | None] = field(default_factory=set)
    empty: set[str | None] = field(default_factory=set)
    stall: set[str | None] = field(default_factory=set)
    delay: float = 0.0
    requests: list[tuple[str | None, int | None]] = field(default_factory=list)
    in_flight: int = 0
    cancelled: int = 0
    stalled: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        bookmark = request.query.get("bookmark")
        size = request.query.get("page_size")
        self.requests.append((bookmark, int(size) if size else None))
        self.in_flight += 1
        try:
            return await self._answer(bookmark, int(size) if size else self.default_page_size)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.in_flight -= 1

    async def _answer(self, bookmark: str | None, page_size: int) -> web.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        if bookmark in self.stall:
            self.stalled.set()
            await asyncio.Event().wait()
        statuses = self.fail.get(bookmark)
        if statuses:
            status = statuses.pop(0)
            return web.json_response({"code": 1, "message": f"injected {status}"}, status=status)
        start = 0 if bookmark is None else int(bookmark[1:].rstrip("e"))
        if bookmark in self.empty:
            return _page([], f"b{start}e")
        stop = min(start + page_size, self.total)
        items = [{"id": str(n), "title": f"pin {n}"} for n in range(start, stop)]
        if bookmark in self.loop:
            return _page(items, bookmark)
        return _page(items, f"b{stop}" if stop < self.total else None)


def _page(items: list[dict[str, str]], bookmark: str | None) -> web.Response:
    return web.Response(
        body=msgspec.json.encode({"items": items, "bookmark": bookmark}), content_type="application/json"
    )


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[web.Application], Awaitable[str]]]:
    """Start an aiohttp app on 127.0.0.1; returns its origin (``http://127.0.0.1:port``)."""
    servers: list[TestServer] = []

    async def start(app: web.Application) -> str:
        server = TestServer(app, host="127.0.0.1", port=0)
        await server.start_server()
        servers.append(server)
        return str(server.make_url("/")).rstrip("/")

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
def clock() -> InstantClock:
    return InstantClock()


@pytest.fixture
async def make_client(clock: InstantClock) -> AsyncIterator[Callable[..., Client]]:
    clients: list[Client] = []

    def make(origin: str, **kwargs: object) -> Client:
        kwargs.setdefault("retry", RetryPolicy(jitter=lambda: 0.5))
        kwargs.setdefault("access_token", "test-token")
        client = Client(base_url=origin + "/v5", clock=clock, **kwargs)  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def pins_api(
    serve: Callable[[web.Application], Awaitable[str]], make_client: Callable[..., Client]
) -> Callable[..., Awaitable[tuple[PinServer, Client]]]:
    """``await pins_api(total=..., **faults)``: a started :class:`PinServer` and a client pointed at it."""

    async def start(**settings: object) -> tuple[PinServer, Client]:
        pins = PinServer(**settings)  # type: ignore[arg-type]
        app = web.Application()
        app.router.add_get("/v5/boards/{board_id}/pins", pins.handle)
        return pins, make_client(await serve(app))

    return start
