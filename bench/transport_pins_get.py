"""Throughput of ``client.pins.get`` against bare aiohttp + ``msgspec.json.decode`` into the same struct.

Both paths make the same GET /v5/pins/{id} calls, with the same concurrency, against one local aiohttp server that
answers a fixed Pin JSON. The server runs in its own process so that it does not share the clients' CPU; the two
paths alternate round by round so that drift on the machine hits both alike. Goal: SDK >= 0.90 of bare.

Run: ``.venv/bin/python bench/transport_pins_get.py [--calls 20000] [--concurrency 64] [--rounds 5]``.
``measure()`` returns the figures for the harness.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import statistics
import time
from collections.abc import Awaitable, Callable

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


def _serve(sock: socket.socket) -> None:
    """The server process: aiohttp's low-level server, answering every request with the Pin."""

    async def handler(request: web.BaseRequest) -> web.Response:
        return web.Response(body=PIN, content_type="application/json")

    async def main() -> None:
        server = web.Server(handler, access_log=None)
        loop = asyncio.get_running_loop()
        await loop.create_server(server, sock=sock, backlog=1024)
        await asyncio.Event().wait()

    asyncio.run(main())


async def _run_workers(
    calls: int, concurrency: int, call: Callable[[int], Awaitable[Pin]]
) -> tuple[float, float]:
    """Wall and client-CPU seconds for ``calls`` calls made by ``concurrency`` workers; checks every result."""
    remaining = iter(range(calls))

    async def worker() -> None:
        for n in remaining:
            pin = await call(n)
            assert pin.board_id == "549755885175"

    start, cpu_start = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start, time.process_time() - cpu_start


async def bare(base_url: str, calls: int, concurrency: int) -> tuple[float, float]:
    """The baseline: what a careful hand-written aiohttp caller would do."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
    decoder = msgspec.json.Decoder(Pin)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def call(n: int) -> Pin:
            async with session.get(f"{base_url}/pins/{n}", headers=headers) as response:
                response.raise_for_status()
                return decoder.decode(await response.read())

        return await _run_workers(calls, concurrency, call)


async def sdk(base_url: str, calls: int, concurrency: int) -> tuple[float, float]:
    async with aiopinterest.Client(
        access_token=TOKEN, base_url=base_url, max_concurrency=concurrency
    ) as client:

        async def call(n: int) -> Pin:
            return await client.pins.get(pin_id=str(n))

        return await _run_workers(calls, concurrency, call)


def measure(calls: int = 20_000, concurrency: int = 64, rounds: int = 5) -> dict[str, float]:
    """Median throughput and client CPU per call of each path over ``rounds`` alternating rounds.

    Throughput is what the goal is stated in; CPU microseconds per call in the client process is the steadier
    figure when other work shares the machine, and its ratio is reported beside.
    """
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}/v5"
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(sock,), daemon=True)
    server.start()
    paths = {"bare": bare, "sdk": sdk}
    throughput: dict[str, list[float]] = {name: [] for name in paths}
    cpu_per_call: dict[str, list[float]] = {name: [] for name in paths}
    try:

        async def run_all() -> None:
            for path in paths.values():
                await path(base_url, 1000, concurrency)  # warm up both paths (and the server)
            for _ in range(rounds):
                for name, path in paths.items():
                    wall, cpu = await path(base_url, calls, concurrency)
                    throughput[name].append(calls / wall)
                    cpu_per_call[name].append(cpu / calls * 1e6)

        asyncio.run(run_all())
    finally:
        server.terminate()
        server.join()
        sock.close()
    results = {}
    for name in paths:
        results[f"{name}_rps"] = statistics.median(throughput[name])
        results[f"{name}_cpu_us"] = statistics.median(cpu_per_call[name])
    results["ratio"] = results["sdk_rps"] / results["bare_rps"]
    results["cpu_ratio"] = results["bare_cpu_us"] / results["sdk_cpu_us"]
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    results = measure(args.calls, args.concurrency, args.rounds)
    print(f"{args.calls} GET /pins/{{id}} at concurrency {args.concurrency}, median of {args.rounds} rounds")
    print("| path | requests/s | client CPU µs per call |")
    print("| --- | ---: | ---: |")
    print(f"| bare aiohttp + msgspec | {results['bare_rps']:.0f} | {results['bare_cpu_us']:.1f} |")
    print(f"| aiopinterest client.pins.get | {results['sdk_rps']:.0f} | {results['sdk_cpu_us']:.1f} |")
    print(f"throughput ratio sdk/bare: {results['ratio']:.3f} (goal >= 0.90)")
    print(f"CPU-per-call ratio bare/sdk: {results['cpu_ratio']:.3f}")


if __name__ == "__main__":
    main()
