"""The local Pinterest API stand-in: one aiohttp server on 127.0.0.1, in its own process.

Run by the harness as ``python -m bench.server --pages N``; it prints ``PORT <n>`` once listening and stops
when its standard input closes (the harness exited or closed the pipe) or after ``--lifetime`` seconds.
Every response body is built once at start-up (a page only gets its bookmark appended), so the server costs
the same for every client and as little as it can.
"""

from __future__ import annotations

import argparse

from aiohttp import web

from . import payloads
from .config import BOARD_ID, PAGE_SIZE
from .loopback import serve_app

_JSON = "application/json"
# The API sends these on every response; clients that pace themselves read them.
_RATE_LIMIT_HEADERS = {
    "x-ratelimit-limit": "1000000",
    "x-ratelimit-remaining": "999999",
    "x-ratelimit-reset": "60",
}


def make_app(pages: int) -> web.Application:
    pin = payloads.pin_body()
    board = payloads.board_body()
    items = payloads.page_items()

    async def get_pin(request: web.Request) -> web.Response:
        return web.Response(body=pin, content_type=_JSON, headers=_RATE_LIMIT_HEADERS)

    async def get_board(request: web.Request) -> web.Response:
        if request.match_info["board_id"] != BOARD_ID:
            return _error(404, "Board not found.")
        return web.Response(body=board, content_type=_JSON, headers=_RATE_LIMIT_HEADERS)

    async def list_board_pins(request: web.Request) -> web.Response:
        # A misconfigured client must fail loudly rather than be measured on other pages than the rest.
        if request.query.get("page_size") != str(PAGE_SIZE):
            return _error(400, f"benchmark clients must ask for page_size={PAGE_SIZE}")
        page = payloads.page_from(request.query.get("bookmark"))
        if page is None or not 0 <= page < pages:
            return _error(400, "Invalid bookmark.")
        bookmark = payloads.bookmark_for(page + 1) if page + 1 < pages else None
        body = payloads.page_body(items, bookmark)
        return web.Response(body=body, content_type=_JSON, headers=_RATE_LIMIT_HEADERS)

    app = web.Application()
    app.router.add_get("/v5/pins/{pin_id}", get_pin)
    app.router.add_get("/v5/boards/{board_id}", get_board)
    app.router.add_get("/v5/boards/{board_id}/pins", list_board_pins)
    return app


def _error(status: int, message: str) -> web.Response:
    return web.Response(
        status=status, body=payloads.dumps({"code": status, "message": message}), content_type=_JSON
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, required=True)
    parser.add_argument("--lifetime", type=float, default=1800.0)
    args = parser.parse_args()
    serve_app(make_app(args.pages), backlog=1024, lifetime=args.lifetime)


if __name__ == "__main__":
    main()
