"""CPU instructions per ``client.pins.get`` against bare aiohttp + msgspec, counted by valgrind: a figure that,
unlike requests per second, does not move with whatever else the machine is doing.

Each path runs in its own process under ``valgrind --tool=callgrind``, against the server of
``transport_pins_get.py`` (in a process of its own, not counted). After an uncounted warm-up, the client's
instructions are counted over ``--calls`` requests at concurrency 64; the ratio bare / aiopinterest is what the
throughput ratio would be if the client's CPU were the only limit. Slow: about a minute per path and 1,000 calls.
With ``--rate-limit-headers`` every answer carries Pinterest's rate-limit headers, which the client reads and
bare aiohttp ignores: what reading them costs. The children run with ``PYTHONHASHSEED=0``: with hash
randomisation a count moves by about 700 instructions between runs, with a fixed seed by about 50.

Run: ``.venv/bin/python bench/instructions.py [--calls 2000] [--rate-limit-headers]`` (needs valgrind).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.transport_pins_get import PATHS, _serve, run_workers

CONCURRENCY = 64


def _child(path: str, calls: int, rate_limit_headers: bool) -> None:
    """Inside valgrind: warm up, then make the counted calls inside functools.reduce, the collection toggle."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}/v5"
    server = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(sock, rate_limit_headers), daemon=True
    )
    server.start()
    loop = asyncio.new_event_loop()
    opened = PATHS[path](base_url, CONCURRENCY)
    try:
        call = loop.run_until_complete(opened.__aenter__())
        loop.run_until_complete(run_workers(300, CONCURRENCY, call))
        # callgrind counts only inside the C function functools_reduce: exactly the measured calls.
        functools.reduce(lambda _, __: loop.run_until_complete(run_workers(calls, CONCURRENCY, call)), [0, 0])
        loop.run_until_complete(opened.__aexit__(None, None, None))
    finally:
        loop.close()
        server.terminate()


def count(path: str, calls: int, rate_limit_headers: bool) -> float:
    """Instructions per request of one path."""
    with tempfile.TemporaryDirectory() as directory:
        completed = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--collect-atstart=no",
                "--toggle-collect=functools_reduce",
                f"--callgrind-out-file={directory}/callgrind.out",
                sys.executable,
                __file__,
                "--child",
                path,
                "--calls",
                str(calls),
                *(["--rate-limit-headers"] if rate_limit_headers else []),
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
    collected = re.search(r"Collected : (\d+)", completed.stderr)
    if collected is None:
        raise RuntimeError(f"callgrind reported no count:\n{completed.stderr[-2000:]}")
    return int(collected.group(1)) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rate-limit-headers", action="store_true", help="answers carry rate-limit headers")
    parser.add_argument("--child", choices=sorted(PATHS), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        _child(arguments.child, arguments.calls, arguments.rate_limit_headers)
        return
    if shutil.which("valgrind") is None:
        print("skipped: valgrind is not installed")  # a line in the report, not a failed benchmark run
        return
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        bare_count, sdk_count = pool.starmap(
            count, [(path, arguments.calls, arguments.rate_limit_headers) for path in ("bare", "sdk")]
        )
    answers = ", answers with rate-limit headers" if arguments.rate_limit_headers else ""
    print(
        f"{arguments.calls} GET /pins/{{id}} at concurrency {CONCURRENCY}{answers}, client instructions per request"
    )
    print("| path | instructions per request |")
    print("| --- | ---: |")
    print(f"| bare aiohttp + msgspec | {bare_count:,.0f} |")
    print(f"| aiopinterest client.pins.get | {sdk_count:,.0f} |")
    print(f"bare / aiopinterest: {bare_count / sdk_count:.3f} (the throughput goal is >= 0.90)")


if __name__ == "__main__":
    main()
