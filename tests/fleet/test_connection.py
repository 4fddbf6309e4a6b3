"""Redis per event loop: a fleet client used in successive asyncio.run() calls shares through Redis on each."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections.abc import Iterator

import pytest
from aiohttp import web

from aiopinterest import Client

from .conftest import RedisServer


@pytest.fixture
def api_in_a_thread() -> Iterator[str]:
    """A loopback API on a loop of its own thread, outliving the test's event loops; yields its base URL."""
    loop = asyncio.new_event_loop()

    async def pin(request: web.Request) -> web.Response:
        return web.json_response({"id": request.match_info["pin_id"], "board_id": "1"})

    app = web.Application()
    app.router.add_get("/v5/pins/{pin_id}", pin)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/v5"
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)
    loop.close()


def test_a_fleet_client_shares_through_redis_on_every_event_loop_and_closes_quietly(
    api_in_a_thread: str, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client("token", base_url=api_in_a_thread, redis_url=redis_server.url)

    async def calls(client: Client, first: int) -> list[str]:
        pins = await asyncio.gather(*(client.pins.get(pin_id=str(first + n)) for n in range(10)))
        return [pin.id for pin in pins]

    with caplog.at_level(logging.WARNING, logger="aiopinterest"):
        assert asyncio.run(calls(client, 0)) == [str(n) for n in range(10)]
        # The second loop cannot use the first loop's Redis connections: it opens its own.
        assert asyncio.run(calls(client, 10)) == [str(n) for n in range(10, 20)]
        asyncio.run(client.close())
    del client
    gc.collect()  # with warnings as errors, a connection left open on an ended loop fails here

    assert [r.getMessage() for r in caplog.records] == []  # Redis never taken for down
    assert any(b":budget:" in key for key in redis_server.client().keys("*"))
