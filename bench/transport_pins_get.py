"""Throughput of ``client.pins.get`` against bare aiohttp + ``msgspec.json.decode`` into the same struct (issue 3).

Both paths make the same GET /v5/pins/{id} calls, with the same concurrency, against one local aiohttp server that
answers a fixed Pin JSON. The server runs in its own process so that it does not share the clients' CPU. Both
paths stay open in one process and take turns in short slices (``--slice`` calls each, the first turn alternating),
so that the machine's drifting speed (other tenants, clock changes) hits both alike; each path's throughput is its
calls over its summed time, and the spread of the slice-by-slice ratios is shown beside. Goal: SDK >= 0.90 of bare.

Run: ``.venv/bin/python bench/transport_pins_get.py [--calls 20000] [--concurrency 64] [--slice 1000]``.
``measure()`` returns the figures for the harness; ``bare_path``/``sdk_path`` are shared with instructions.py.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import aiohttp
import msgspec
from aiohttp import web

import aiopinterest
from aiopinterest.models import Pin

PIN = msgspec.json.encode(
    {
        "id": "813744226420795884",
        "created_at": "2024-03-05T18:22:41",
        "link": "https://www.example.com/recipes/lemon-tart",
        "title": "Lemon tart with brown butter crust",
        "description": "A bright, sharp lemon tart on a nutty brown-butter shortcrust. Make the crust a day ahead.",
        "dominant_color": "#e8c35a",
        "alt_text": "A lemon tart on a marble counter",
        "creative_type": "REGULAR",
        "board_id": "549755885175",
        "board_section_id": "5027629787972154693",
        "board_owner": {"username": "bakingwithana"},
        "is_owner": True,
        "media": {
            "media_type": "image",
            "images": {
                size: {
                    "width": width,
                    "height": height,
                    "url": f"https://i.pinimg.com/{size}/d4/3f/1a/d43f1a.jpg",
                }
                for size, width, height in [
                    ("150x150", 150, 150),
                    ("400x300", 400, 300),
                    ("600x", 600, 900),
                    ("1200x", 1200, 1800),
                ]
            },
        },
        "parent_pin_id": None,
        "is_standard": True,
        "has_been_promoted": False,
        "note": "",
        "product_tags": [],
    }
)
TOKEN = "bench-token"
# Rate-limit headers in Pinterest's shape (the binding limit, then each policy and its window; what is left of
# it; seconds to its reset), with a limit far above what a count sends, so that no call waits for the budget.
RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": "100000, 100000;w=60",
    "X-RateLimit-Remaining": "99999",
    "X-RateLimit-Reset": "60",
}


def _serve(sock: socket.socket, rate_limit_headers: bool = False) -> None:
    """The server process: aiohttp's low-level server, answering every request with the Pin (and, with
    ``rate_limit_headers``, Pinterest's rate-limit headers, which the client reads on every answer)."""
    headers = RATE_LIMIT_HEADERS if rate_limit_headers else None

    async def handler(request: web.BaseRequest) -> web.Response:
        return web.Response(body=PIN, content_type="application/json", headers=headers)

    async def main() -> None:
        server = web.Server(handler, access_log=None)
        loop = asyncio.get_running_loop()
        await loop.create_server(server, sock=sock, backlog=1024)
        await asyncio.Event().wait()

    asyncio.run(main())


Call = Callable[[int], Awaitable[Pin]]


async def run_workers(calls: int, concurrency: int, call: Call, first: int = 0) -> tuple[float, float]:
    """Wall and client-CPU seconds for ``calls`` calls (pin ids from ``first``) made by ``concurrency`` workers;
    checks every result."""
    remaining = iter(range(first, first + calls))

    async def worker() -> None:
        for n in remaining:
            pin = await call(n)
            assert pin.board_id == "549755885175"

    start, cpu_start = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start, time.process_time() - cpu_start


@asynccontextmanager
async def bare_path(base_url: str, concurrency: int) -> AsyncIterator[Call]:
    """The baseline: what a careful hand-written aiohttp caller would do."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
    decoder = msgspec.json.Decoder(Pin)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def call(n: int) -> Pin:
            async with session.get(f"{base_url}/pins/{n}", headers=headers) as response:
                response.raise_for_status()
                return decoder.decode(await response.read())

        yield call


@asynccontextmanager
async def sdk_path(base_url: str, concurrency: int) -> AsyncIterator[Call]:
    async with aiopinterest.Client(
        access_token=TOKEN, base_url=base_url, max_concurrency=concurrency
    ) as client:

        async def call(n: int) -> Pin:
            return await client.pins.get(pin_id=str(n))

        yield call


PATHS = {"bare": bare_path, "sdk": sdk_path}


def measure(calls: int = 20_000, concurrency: int = 64, slice_calls: int = 1_000) -> dict[str, float]:
    """Each path's throughput over ``calls`` calls taken in alternating slices, with client CPU per call and the
    spread of the per-slice throughput ratios."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}/v5"
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(sock,), daemon=True)
    server.start()
    wall = dict.fromkeys(PATHS, 0.0)
    cpu = dict.fromkeys(PATHS, 0.0)
    slice_ratios: list[float] = []
    try:

        async def run_all() -> None:
            async with AsyncExitStack() as stack:
                paths = {
                    name: await stack.enter_async_context(path(base_url, concurrency))
                    for name, path in PATHS.items()
                }
                for call in paths.values():
                    await run_workers(1_000, concurrency, call)  # warm up both paths (and the server)
                order = list(paths)
                for first in range(0, calls, slice_calls):
                    size = min(slice_calls, calls - first)
                    rates = {}
                    for name in order:
                        seconds, cpu_seconds = await run_workers(size, concurrency, paths[name], first)
                        wall[name] += seconds
                        cpu[name] += cpu_seconds
                        rates[name] = size / seconds
                    slice_ratios.append(rates["sdk"] / rates["bare"])
                    order.reverse()

        asyncio.run(run_all())
    finally:
        server.terminate()
        server.join()
        sock.close()
    results = {f"{name}_rps": calls / wall[name] for name in PATHS}
    results |= {f"{name}_cpu_us": cpu[name] / calls * 1e6 for name in PATHS}
    results["ratio"] = results["sdk_rps"] / results["bare_rps"]
    results["cpu_ratio"] = results["bare_cpu_us"] / results["sdk_cpu_us"]
    quartiles = statistics.quantiles(slice_ratios, n=4)
    results |= {"slices": len(slice_ratios), "slice_q1": quartiles[0], "slice_median": quartiles[1]}
    results |= {"slice_q3": quartiles[2], "slice_min": min(slice_ratios), "slice_max": max(slice_ratios)}
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--slice", type=int, default=1_000, help="calls per turn of each path")
    args = parser.parse_args()
    r = measure(args.calls, args.concurrency, args.slice)
    print(
        f"{args.calls:,} GET /pins/{{id}} per path at concurrency {args.concurrency}, "
        f"in {r['slices']:.0f} alternating slices of {args.slice:,}"
    )
    print("| path | requests/s | client CPU µs per call |")
    print("| --- | ---: | ---: |")
    print(f"| bare aiohttp + msgspec | {r['bare_rps']:,.0f} | {r['bare_cpu_us']:.1f} |")
    print(f"| aiopinterest client.pins.get | {r['sdk_rps']:,.0f} | {r['sdk_cpu_us']:.1f} |")
    print(f"throughput ratio sdk/bare: {r['ratio']:.3f} (goal >= 0.90)")
    print(f"CPU-per-call ratio bare/sdk: {r['cpu_ratio']:.3f}")
    print(
        f"per-slice throughput ratios: median {r['slice_median']:.3f}, quartiles {r['slice_q1']:.3f}-"
        f"{r['slice_q3']:.3f}, range {r['slice_min']:.3f}-{r['slice_max']:.3f}"
    )


if __name__ == "__main__":
    main()
