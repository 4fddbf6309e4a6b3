"""Streaming pagination: memory stays flat however many items, and prefetch hides the server's latency.

    python bench/pagination_stream.py            # 100,000 and 1,000,000 pins; prefetch 1 vs 0 over 100 pages
    python bench/pagination_stream.py --quick    # 20,000 and 100,000 pins; 30 pages

The API is a loopback aiohttp server in its own process, so its memory and CPU stay out of the figures. Each
measurement runs in a fresh client process: peak RSS growth is the process's peak RSS (``ru_maxrss``) minus its
RSS after the first page, when imports, the session and the decoders are in place.

Prefetch: the server waits 20 ms before each page, and the consumer spends 20 ms per page (awaiting, as a job
writing each page to storage would). Depth 0 pays both in turn; depth 1 overlaps them.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import socket
import sys
import time
from typing import Any

import msgspec
from aiohttp import web

PAGE_SIZE = 250


def _pin(n: int) -> dict[str, Any]:
    return {
        "id": str(10**17 + n),
        "created_at": "2025-05-21T01:13:01",
        "link": f"https://example.com/products/{n}",
        "title": f"Pin number {n}",
        "description": "A description of the kind a Pin carries, long enough to look like real data. " * 2,
        "dominant_color": "#a1b2c3",
        "board_id": "123456123456123456",
        "board_owner": {"username": "benchmark"},
        "creative_type": "REGULAR",
        "is_owner": True,
        "media": {
            "media_type": "image",
            "images": {
                size: {"width": 150, "height": 150, "url": f"https://i.pinimg.com/{size}/{n:08x}.jpg"}
                for size in ("150x150", "400x300", "600x", "1200x")
            },
        },
    }


def _page(start: int, size: int, total: int) -> bytes:
    stop = min(start + size, total)
    body = {"items": [_pin(n) for n in range(start, stop)], "bookmark": str(stop) if stop < total else None}
    return msgspec.json.encode(body)


def _serve(port: int, total: int, latency: float) -> None:
    # Small runs are served from pages encoded up front, so that only the latency and the client are measured.
    ready = {start: _page(start, PAGE_SIZE, total) for start in range(0, total, PAGE_SIZE)} if latency else {}

    async def pins(request: web.Request) -> web.Response:
        start = int(request.query.get("bookmark") or 0)
        size = int(request.query.get("page_size") or PAGE_SIZE)
        if latency:
            await asyncio.sleep(latency)
        body = ready.get(start) if size == PAGE_SIZE else None
        return web.Response(body=body or _page(start, size, total), content_type="application/json")

    app = web.Application()
    app.router.add_get("/v5/boards/{board_id}/pins", pins)
    web.run_app(app, host="127.0.0.1", port=port, print=None, handle_signals=True)


class Server:
    """The API in a child process, on a free port."""

    def __init__(self, total: int, latency: float = 0.0) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(self.port, total, latency), daemon=True
        )

    def __enter__(self) -> Server:
        self._process.start()
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        self._process.terminate()
        self._process.join(5)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def _stream(port: int, total: int) -> dict[str, float]:
    import aiopinterest

    async with aiopinterest.Client(access_token="bench", base_url=f"http://127.0.0.1:{port}/v5") as client:
        await client.boards.list_pins(board_id="1")  # warm-up: session, decoders
        baseline = _rss_bytes()
        count = 0
        started = time.perf_counter()
        async for _pin in client.boards.list_pins(board_id="1"):
            count += 1
        elapsed = time.perf_counter() - started
    assert count == total, count
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"items": count, "growth_mb": (peak - baseline) / 2**20, "items_per_s": count / elapsed}


async def _prefetch(port: int, pages: int, depth: int, work: float) -> dict[str, float]:
    import aiopinterest

    async with aiopinterest.Client(access_token="bench", base_url=f"http://127.0.0.1:{port}/v5") as client:
        await client.boards.list_pins(board_id="1", page_size=1)
        count = 0
        started = time.perf_counter()
        async for page in client.boards.list_pins(board_id="1").with_options(prefetch=depth).pages():
            count += len(page.items)
            await asyncio.sleep(work)  # the consumer's own I/O for this page
        elapsed = time.perf_counter() - started
    assert count == pages * PAGE_SIZE, count
    return {"items": count, "items_per_s": count / elapsed, "seconds": elapsed}


def _in_child(target: str, *args: Any) -> dict[str, float]:
    """Run one measurement in a fresh interpreter, so peak RSS belongs to it alone."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        result: dict[str, float] = pool.apply(_run, (target, *args))
    return result


def _run(target: str, *args: Any) -> dict[str, float]:
    coroutine = {"stream": _stream, "prefetch": _prefetch}[target]
    return asyncio.run(coroutine(*args))  # type: ignore[operator]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs, for a smoke test")
    arguments = parser.parse_args()
    sizes = (20_000, 100_000) if arguments.quick else (100_000, 1_000_000)
    pages = 30 if arguments.quick else 100

    print(f"Streaming pins, {PAGE_SIZE} per page, default prefetch (1)")
    for total in sizes:
        with Server(total) as server:
            result = _in_child("stream", server.port, total)
        print(
            f"  {total:>9,} pins ({total // PAGE_SIZE:>5,} pages): peak RSS growth {result['growth_mb']:6.1f} MB, "
            f"{result['items_per_s']:>9,.0f} items/s"
        )

    print(f"Prefetch, 20 ms server latency + 20 ms consumer work per page, {pages} pages of {PAGE_SIZE}")
    rates = {}
    with Server(pages * PAGE_SIZE, latency=0.020) as server:
        for depth in (0, 1):
            result = _in_child("prefetch", server.port, pages, depth, 0.020)
            rates[depth] = result["items_per_s"]
            print(f"  depth {depth}: {result['items_per_s']:>8,.0f} items/s ({result['seconds']:.2f} s)")
    print(f"  depth 1 / depth 0: {rates[1] / rates[0]:.2f}x")


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))
    main()
