"""An async web back end (aiohttp.web): one Client for the application's lifetime, shared by every request.

    PINTEREST_ACCESS_TOKEN=... python examples/web_backend.py --port 8000
    curl 'http://127.0.0.1:8000/boards/<board_id>/pins?limit=50'

``GET /boards/{board_id}/pins`` answers ``{"board_id": ..., "pins": [{"id", "title", "link"}, ...]}`` with up to
``limit`` Pins (default 100, at most 1,000); an unknown board is a 404, a bad ``limit`` a 400,
Pinterest failing after the client's retries a 502. The Client is
opened when the app starts and closed when it stops (``cleanup_ctx``), so every handler shares one aiohttp
session, one connection pool and one view of Pinterest's rate limits.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator

from aiohttp import web

import aiopinterest
from aiopinterest.errors import NotFoundError, PaginationError

CLIENT = web.AppKey("pinterest_client", aiopinterest.Client)
DEFAULT_LIMIT = 100
MAX_LIMIT = 1_000


async def pinterest_client(app: web.Application) -> AsyncIterator[None]:
    # Credentials from PINTEREST_ACCESS_TOKEN (or the OAuth variables), read once at start-up.
    async with aiopinterest.Client() as client:
        app[CLIENT] = client
        yield


def requested_limit(request: web.Request) -> int:
    text = request.query.get("limit", str(DEFAULT_LIMIT))
    if not text.isdecimal() or not 1 <= int(text) <= MAX_LIMIT:
        raise web.HTTPBadRequest(text=f"limit: a whole number from 1 to {MAX_LIMIT}")
    return int(text)


async def board_pins(request: web.Request) -> web.Response:
    board_id = request.match_info["board_id"]
    limit = requested_limit(request)
    pins = request.app[CLIENT].boards.list_pins(board_id=board_id).with_options(max_items=limit)
    try:
        found = [{"id": pin.id, "title": pin.title, "link": pin.link} async for pin in pins]
    except PaginationError as error:
        # A page that failed after the client's retries; the cause is the API's own error.
        if isinstance(error.__cause__, NotFoundError):
            raise web.HTTPNotFound(text=f"board {board_id} not found") from None
        raise web.HTTPBadGateway(text="Pinterest did not answer; try again later") from error
    return web.json_response({"board_id": board_id, "pins": found})


def make_app() -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(pinterest_client)
    app.router.add_get("/boards/{board_id}/pins", board_pins)
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    arguments = parser.parse_args()
    web.run_app(make_app(), host=arguments.host, port=arguments.port)
