"""How close the client runs to the rate a server allows, and how often it runs into it (issue 13).

Three local servers, each in its own process, each limiting ``GET /v5/pins/{id}`` in a shape of its own:

- ``fixed``: a fixed window of 100 requests per wall-clock second; ``X-RateLimit-Limit: 100``, ``Remaining``,
  ``Reset`` as the Unix time the window ends, and ``Retry-After`` on a 429;
- ``pinterest``: Pinterest's header shape: ``X-RateLimit-Limit: 100, 100;w=1, 5000;w=60`` (two fixed-window
  policies), ``Remaining`` of the one that binds, ``Reset`` as whole seconds to wait (rounded up), and a 429 with
  body code 8 and no ``Retry-After``;
- ``bucket``: a token bucket of 80 requests a second with bursts of 20, answering 429 and nothing else: no
  rate-limit header at all.

Each is sized for about ten seconds of work: ``--calls`` calls at concurrency 64 (``max_concurrency=64``, all
calls started at once). The ideal time is the number of calls divided by the rate the server sustains (100 or 80
a second), so an efficiency of 1.0 means the client used the whole budget from first call to last. The client is
this checkout's; with ``--baseline REF`` the same client code runs also from git revision REF (the code before
the governor, for instance), side by side in the same run, with ``--baseline-calls`` calls per server (fewer: the
old code takes minutes for what the new one does in seconds).

    python bench/ratelimit.py [--calls-fixed 1000] [--calls-bucket 800] [--baseline 5c28a42 --baseline-calls 250]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from loopback import serve_app, serving  # bench/loopback.py, beside this script

if TYPE_CHECKING:
    from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
PIN = b'{"id": "1", "title": "a pin", "created_at": "2024-01-01T00:00:00", "board_id": "2"}'
SHAPES = {"fixed": 100.0, "pinterest": 100.0, "bucket": 80.0}  # the sustained rate each allows


# -- the servers ----------------------------------------------------------------------------------------------


class FixedWindows:
    """Counts per fixed window of ``window`` seconds, aligned to the wall clock."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._current, self._count = -1, 0

    def take(self, now: float) -> tuple[bool, int, float]:
        """Count one request at ``now``: (accepted, remaining, Unix time the window ends)."""
        index = math.floor(now / self.window)
        if index != self._current:
            self._current, self._count = index, 0
        accepted = self._count < self.limit
        self._count += accepted
        return accepted, self.limit - self._count, (index + 1) * self.window


class TokenBucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self._tokens, self._at = burst, time.monotonic()

    def take(self, now: float) -> bool:
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


def make_app(shape: str) -> web.Application:
    from aiohttp import web

    json_type = "application/json"
    per_second, per_minute = FixedWindows(100, 1.0), FixedWindows(5000, 60.0)
    bucket = TokenBucket(80.0, 20.0)

    async def fixed(request: web.Request) -> web.Response:
        accepted, remaining, ends = per_second.take(time.time())
        headers = {
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": str(max(remaining, 0)),
            "X-RateLimit-Reset": str(int(ends)),
        }
        if accepted:
            return web.Response(body=PIN, content_type=json_type, headers=headers)
        headers["Retry-After"] = str(math.ceil(ends - time.time()))
        return web.json_response({"code": 8, "message": "slow down"}, status=429, headers=headers)

    async def pinterest(request: web.Request) -> web.Response:
        now = time.time()
        second_ok, second_left, second_ends = per_second.take(now)
        minute_ok, minute_left, minute_ends = per_minute.take(now) if second_ok else (False, 0, 0.0)
        # The binding policy is the one nearer to running out.
        if minute_ok and second_left * 60 > minute_left:
            limit, remaining, ends = 5000, minute_left, minute_ends
        else:
            limit, remaining, ends = 100, second_left, second_ends
        headers = {
            "X-RateLimit-Limit": f"{limit}, 100;w=1, 5000;w=60",
            "X-RateLimit-Remaining": str(max(remaining, 0)),
            "X-RateLimit-Reset": str(math.ceil(ends - now)),
        }
        if second_ok and minute_ok:
            return web.Response(body=PIN, content_type=json_type, headers=headers)
        return web.json_response({"code": 8, "message": "rate limited"}, status=429, headers=headers)

    async def header_less(request: web.Request) -> web.Response:
        if bucket.take(time.monotonic()):
            return web.Response(body=PIN, content_type=json_type)
        return web.json_response({"code": 8, "message": "rate limited"}, status=429)

    app = web.Application()
    app.router.add_get(
        "/v5/pins/{pin_id}", {"fixed": fixed, "pinterest": pinterest, "bucket": header_less}[shape]
    )
    return app


# -- the client -----------------------------------------------------------------------------------------------


async def drive(port: int, calls: int) -> dict[str, float]:
    """``calls`` calls of client.pins.get, all started at once, at most 64 in flight."""
    import aiopinterest

    async with aiopinterest.Client(
        access_token="bench", base_url=f"http://127.0.0.1:{port}/v5", max_concurrency=64
    ) as client:

        async def one(index: int) -> bool:
            try:
                await client.pins.get(pin_id=str(index))
            except aiopinterest.errors.PinterestError:
                return False
            return True

        started = time.perf_counter()
        outcomes = await asyncio.gather(*(one(index) for index in range(calls)))
        elapsed = time.perf_counter() - started
        metrics = client.metrics["org_read"]
        return {
            "seconds": elapsed,
            "responses": metrics.requests,
            "rate_limited": metrics.rate_limited,
            "failed": outcomes.count(False),
        }


@dataclass
class Outcome:
    shape: str
    code: str
    calls: int
    seconds: float
    responses: int
    rate_limited: int
    failed: int

    @property
    def efficiency(self) -> float:
        return self.calls / SHAPES[self.shape] / self.seconds

    @property
    def share_429(self) -> float:
        return self.rate_limited / max(self.responses, 1)


def measure(shape: str, calls: int, code: str, pythonpath: Path | None) -> Outcome:
    """One run: a fresh server of ``shape`` and a client process importing aiopinterest from ``pythonpath``."""
    with serving(sys.executable, __file__, "--serve", shape) as port:
        environment = dict(os.environ)
        if pythonpath is not None:
            environment["PYTHONPATH"] = str(pythonpath)
        completed = subprocess.run(
            [sys.executable, __file__, "--client", str(port), "--calls", str(calls)],
            env=environment,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
    return Outcome(shape, code, calls, **json.loads(completed.stdout.splitlines()[-1]))


def checkout(revision: str, into: Path) -> Path:
    """The ``src`` tree of git revision ``revision``, unpacked under ``into``."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision, "src"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls-fixed", type=int, default=1000, help="calls against each 100/s server")
    parser.add_argument("--calls-bucket", type=int, default=800, help="calls against the 80/s token bucket")
    parser.add_argument("--baseline", metavar="REF", help="also run the client code of this git revision")
    parser.add_argument(
        "--baseline-calls",
        type=int,
        default=250,
        help="calls per server for the baseline (slow code, fewer calls)",
    )
    parser.add_argument("--serve", choices=sorted(SHAPES), help=argparse.SUPPRESS)
    parser.add_argument("--client", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--calls", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        serve_app(make_app(arguments.serve))
        return
    if arguments.client:
        print(json.dumps(asyncio.run(drive(arguments.client, arguments.calls))))
        return
    counts = {
        "fixed": arguments.calls_fixed,
        "pinterest": arguments.calls_fixed,
        "bucket": arguments.calls_bucket,
    }
    with tempfile.TemporaryDirectory() as scratch:
        codes: list[tuple[str, Path | None]] = [("this checkout", ROOT / "src")]
        if arguments.baseline:
            codes.append((arguments.baseline, checkout(arguments.baseline, Path(scratch))))
        outcomes = [
            measure(shape, counts[shape] if path == ROOT / "src" else arguments.baseline_calls, code, path)
            for shape in SHAPES
            for code, path in codes
        ]
    print(
        "| server | client code | calls | achieved (s) | ideal (s) | ideal / achieved | 429 share | failed |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for o in outcomes:
        ideal = o.calls / SHAPES[o.shape]
        print(
            f"| {o.shape} | {o.code} | {o.calls} | {o.seconds:.2f} | {ideal:.2f} | {o.efficiency:.3f} | "
            f"{o.share_429:.1%} ({o.rate_limited} of {o.responses}) | {o.failed} |"
        )
    print()
    print(
        "Goals (issue 13): fixed and pinterest >= 0.95 of ideal with <= 1% 429s; bucket >= 0.85 with <= 5%;"
    )
    print("nothing failed.")


if __name__ == "__main__":
    main()
