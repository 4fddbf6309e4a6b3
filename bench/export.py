"""``aiopinterest export`` against the listing limit: board pins from the local benchmark server to JSONL and Parquet.

    python bench/export.py                      # 200,000 pins (800 pages of 250); peak RSS also at 50,000
    python bench/export.py --items 20000 --small 5000   # a quick check

The limit is bare aiohttp + msgspec reading the same pages into aiopinterest's Pin structs, one after the other,
writing nothing. The export runs the command's own code (``Exporter``, as ``aiopinterest export board_pins
--out DIR`` does) with its default commits every second and fsync. Every measurement runs in a fresh process,
so that its peak RSS (VmHWM) is its own; peak RSS is reported at two sizes to show it does not grow with the
number of items. The API is bench/server.py (plus a one-board ``GET /boards``) in its own process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from bench.child import peak_rss_mb  # noqa: E402
from bench.config import BOARD_ID, PAGE_SIZE  # noqa: E402
from bench.loopback import serve_app, serving  # noqa: E402

GOAL = 0.85  # JSONL export / listing limit


def _serve(pages: int) -> None:
    """bench/server.py's app, with the board list the export starts from; stops when stdin closes."""
    from aiohttp import web

    from bench import payloads, server

    app = server.make_app(pages)
    boards = payloads.dumps({"items": [{"id": BOARD_ID, "pin_count": pages * PAGE_SIZE}], "bookmark": None})

    async def list_boards(request: web.Request) -> web.Response:
        return web.Response(body=boards, content_type="application/json")

    app.router.add_get("/v5/boards", list_boards)
    serve_app(app)


async def _limit(base_url: str) -> int:
    import aiohttp
    import msgspec

    from bench.drivers.bare import PinPage

    decode = msgspec.json.Decoder(PinPage).decode
    count, bookmark = 0, None
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer bench"}) as session:
        while True:
            params = {"page_size": str(PAGE_SIZE), **({"bookmark": bookmark} if bookmark else {})}
            async with session.get(f"{base_url}/boards/{BOARD_ID}/pins", params=params) as response:
                page = decode(await response.read())
            count += len(page.items)
            bookmark = page.bookmark
            if bookmark is None:
                return count


async def _export(base_url: str, format: Any) -> int:
    import aiopinterest
    from aiopinterest.cli.export import Exporter, ExportOptions
    from aiopinterest.cli.progress import Reporter

    with tempfile.TemporaryDirectory() as directory:
        async with aiopinterest.Client(access_token="bench", base_url=base_url) as client:
            options = ExportOptions(directory=Path(directory), streams=["board_pins"], format=format)
            summary = await Exporter(client, options, Reporter()).run()
    return summary.streams["board_pins"].items


def _measure(kind: str, port: int) -> None:
    # Imported before the clock starts: import time is measured elsewhere (import_cost.py).
    import aiohttp  # noqa: F401

    import aiopinterest.cli.export  # noqa: F401
    import bench.drivers.bare  # noqa: F401

    if kind == "parquet":
        import pyarrow.parquet  # noqa: F401
    base_url = f"http://127.0.0.1:{port}/v5"
    started = time.perf_counter()
    items = asyncio.run(_limit(base_url) if kind == "limit" else _export(base_url, kind))
    seconds = time.perf_counter() - started
    print(
        "RESULT " + json.dumps({"items": items, "seconds": seconds, "peak_rss_mb": peak_rss_mb()}), flush=True
    )


def _run_measure(kind: str, pages: int) -> dict[str, float]:
    with serving(sys.executable, __file__, "--serve", "--pages", str(pages)) as port:
        done = subprocess.run(
            [sys.executable, __file__, "--measure", kind, "--port", str(port)],
            capture_output=True,
            text=True,
            check=True,
        )
    [line] = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    result: dict[str, float] = json.loads(line.removeprefix("RESULT "))
    if result["items"] != pages * PAGE_SIZE:
        raise RuntimeError(f"{kind}: {result['items']} items, expected {pages * PAGE_SIZE}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--items", type=int, default=200_000, help="board pins to export (default: %(default)s)"
    )
    parser.add_argument("--small", type=int, default=50_000, help="a smaller run, for peak RSS against size")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--pages", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        return _serve(arguments.pages)
    if arguments.measure:
        return _measure(arguments.measure, arguments.port)

    pages, small_pages = arguments.items // PAGE_SIZE, arguments.small // PAGE_SIZE
    print(
        f"Export of {pages * PAGE_SIZE:,} board pins ({pages} pages of {PAGE_SIZE}) from the local benchmark server"
    )
    results = {kind: _run_measure(kind, pages) for kind in ("limit", "jsonl", "parquet")}
    small = {kind: _run_measure(kind, small_pages) for kind in ("jsonl", "parquet")}
    limit_rate = results["limit"]["items"] / results["limit"]["seconds"]
    labels = {
        "limit": "listing limit (bare aiohttp + msgspec)",
        "jsonl": "aiopinterest export --format jsonl",
        "parquet": "aiopinterest export --format parquet",
    }
    for kind, result in results.items():
        rate = result["items"] / result["seconds"]
        line = f"  {labels[kind]:<40} {rate:>9,.0f} items/s  {rate / limit_rate:4.2f}x the limit"
        line += f"  peak RSS {result['peak_rss_mb']:6.1f} MB"
        if kind in small:
            line += f" ({small[kind]['peak_rss_mb']:.1f} MB at {small_pages * PAGE_SIZE:,} items)"
        print(line)
    ratio = results["jsonl"]["items"] / results["jsonl"]["seconds"] / limit_rate
    print(f"  JSONL goal >= {GOAL}x the limit: {'met' if ratio >= GOAL else 'missed'} ({ratio:.2f}x)")


if __name__ == "__main__":
    main()
