"""Media upload benchmark: stream a 1 GiB file to a local S3-style endpoint; peak memory and throughput vs curl.

    .venv/bin/python bench/media_upload.py [--size-mib 1024] [--rounds 3]

A server process (a minimal aiohttp app) answers ``POST /v5/media`` like Pinterest and takes the presigned POST at
``/upload``, reading the multipart body and discarding it while counting bytes. The same file then goes to it
``--rounds`` times each through ``client.media.upload``, through it again reading the file in the 1 MiB chunks it
used before 4 MiB, and through ``curl -F``, alternating, in one run. Reported: the best throughput of each, the
ratio to curl (goal: at least 0.8x) and to the 1 MiB chunks, and the client's peak RSS growth during its uploads
(goal: at most 32 MiB) measured from the kernel's high-water mark (``VmHWM``, reset before the first
upload through ``/proc/self/clear_refs``). Linux only; the file is created in a temporary directory and deleted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from loopback import serve_app, serving  # bench/loopback.py, beside this script

MIB = 1024 * 1024
_FIELDS = {
    "key": "uploads/bench",
    "policy": "cG9saWN5",
    "x-amz-algorithm": "AWS4-HMAC-SHA256",
    "x-amz-credential": "BENCH/20260101/us-east-1/s3/aws4_request",
    "x-amz-date": "20260101T000000Z",
    "x-amz-signature": "0" * 64,
}


def serve() -> None:
    """The server process: prints its port, then serves until its standard input closes."""
    from aiohttp import web

    received: list[int] = []

    async def register(request: web.Request) -> web.Response:
        upload_url = f"http://127.0.0.1:{request.url.port}/upload"
        return web.json_response(
            {"media_id": "1", "media_type": "video", "upload_url": upload_url, "upload_parameters": _FIELDS},
            status=201,
        )

    async def upload(request: web.Request) -> web.Response:
        count = 0
        while chunk := await request.content.readany():
            count += len(chunk)
        received.append(count)
        return web.Response(status=204, headers={"X-Received-Bytes": str(count)})

    app = web.Application()
    app.router.add_post("/v5/media", register)
    app.router.add_post("/upload", upload)
    serve_app(app)


def make_file(path: Path, size_mib: int) -> None:
    block = os.urandom(MIB)
    with path.open("wb") as file:
        for _ in range(size_mib):
            file.write(block)


def kib_status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} missing from /proc/self/status")


def reset_peak_rss() -> None:
    # Writing 5 to clear_refs resets the high-water mark VmHWM to the current RSS.
    Path("/proc/self/clear_refs").write_text("5")


@contextmanager
def file_chunks_of(size: int) -> Iterator[None]:
    """The client reading files in chunks of ``size`` bytes for a while (a private constant, set for comparison)."""
    from aiopinterest.media import sources

    chosen = sources._CHUNK_SIZE
    sources._CHUNK_SIZE = size
    try:
        yield
    finally:
        sources._CHUNK_SIZE = chosen


def curl_upload(path: Path, port: int) -> float:
    form = [arg for name, value in _FIELDS.items() for arg in ("-F", f"{name}={value}")]
    started = time.perf_counter()
    subprocess.run(
        [
            "curl",
            "-sS",
            "--fail",
            "-o",
            "/dev/null",
            *form,
            "-F",
            f"file=@{path}",
            f"http://127.0.0.1:{port}/upload",
        ],
        check=True,
    )
    return time.perf_counter() - started


async def run(path: Path, size: int, port: int, rounds: int) -> None:
    from aiopinterest import Client

    async with Client(access_token="bench", base_url=f"http://127.0.0.1:{port}/v5") as client:
        # Warm up: sessions, imports and the code paths exist before the baseline is taken.
        await client.media.upload(b"warm-up", wait=False)
        baseline_kib = kib_status("VmRSS")
        reset_peak_rss()
        ours: list[float] = []
        small_chunks: list[float] = []
        theirs: list[float] = []
        for _ in range(rounds):
            started = time.perf_counter()
            await client.media.upload(path, wait=False)
            ours.append(time.perf_counter() - started)
            with file_chunks_of(MIB):
                started = time.perf_counter()
                await client.media.upload(path, wait=False)
                small_chunks.append(time.perf_counter() - started)
            theirs.append(await asyncio.to_thread(curl_upload, path, port))
        peak_kib = kib_status("VmHWM")

    def rate(seconds: float) -> float:
        return size / MIB / seconds

    def runs(times: list[float]) -> str:
        return f"{rate(min(times)):8.1f} MiB/s  (runs: {', '.join(f'{rate(s):.0f}' for s in times)})"

    best_ours, best_small, best_curl = rate(min(ours)), rate(min(small_chunks)), rate(min(theirs))
    growth_mib = (peak_kib - baseline_kib) / 1024
    print(f"file: {size / MIB:.0f} MiB, {rounds} rounds each, best of each")
    print(f"aiopinterest:   {runs(ours)}")
    print(f"  1 MiB chunks: {runs(small_chunks)}")
    print(f"curl -F:        {runs(theirs)}")
    print(f"ratio:          {best_ours / best_curl:8.2f}x curl   (goal >= 0.8)")
    print(f"                {best_ours / best_small:8.2f}x the 1 MiB chunks")
    print(f"peak RSS growth: {growth_mib:.1f} MiB   (goal <= 32; baseline RSS {baseline_kib / 1024:.1f} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    with serving(sys.executable, __file__, "--serve") as port, tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "upload.bin"
        make_file(path, args.size_mib)
        asyncio.run(run(path, args.size_mib * MIB, port, args.rounds))


if __name__ == "__main__":
    main()
