"""Processes sharing one rate-limit budget through Redis, against one server (issue 15).

One server with Pinterest's header shape (``pinterest`` in bench/ratelimit.py: 100 requests a second,
``X-RateLimit-Limit: 100, 100;w=1, 5000;w=60``, ``Remaining``, ``Reset`` in whole seconds, 429 with code 8), and
1, 4 and 16 client processes splitting ``--calls`` calls of client.pins.get among them (each process starts its
share at once, ``max_concurrency=64``), with ``redis_url`` (one fresh redis-server, persistence off) and
without. Every process imports and connects first, and all start together; the clock runs from the first request
any of them sends (the first call's imports are no part of the budget) to the last answer. The ideal time is the
calls divided by 100 a second; efficiency is ideal / achieved. Redis
round trips are every command the Redis server counted (INFO commandstats) per API response; client CPU is the
processes' own CPU time during the run per response; one process pacing itself at the shared budget's 97 a second
(``rate_limits``) without Redis separates the cost of spaced sends from the cost of Redis.

    python bench/shared_budget.py [--calls 600] [--baseline-calls 600] [--processes 1 4 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import loopback  # bench/loopback.py and bench/ratelimit.py, beside this script: the server's start and shapes
import ratelimit

ROOT = Path(__file__).resolve().parent.parent
SHAPE = "pinterest"
RATE = ratelimit.SHAPES[SHAPE]
GOALS = {4: (0.95, 0.01), 16: (0.90, 0.02)}  # processes: (efficiency at least, 429 share at most), with Redis


# -- one process of the fleet ---------------------------------------------------------------------------------


async def work(port: int, calls: int, budget: str) -> dict[str, float]:
    """Connect, say READY, wait for GO on standard input, then make ``calls`` calls at once. ``budget``: a Redis
    URL, ``own``, or ``paced`` (its own budget, paced by a client-side limit at the shared budget's 97 a second)."""
    import aiopinterest
    from aiopinterest._fleet.budget import MARGIN

    redis_url = budget if budget.startswith("redis") else None
    async with aiopinterest.Client(
        access_token="bench",
        base_url=f"http://127.0.0.1:{port}/v5",
        max_concurrency=64,
        redis_url=redis_url,
        redis_key_prefix="bench" if redis_url else None,
        rate_limits={"org_read": RATE / (1 + MARGIN)} if budget == "paced" else None,
    ) as client:
        await client._auth.bearer()  # the Redis connection, before the clock starts

        async def one(index: int) -> bool:
            try:
                await client.pins.get(pin_id=str(index))
            except aiopinterest.errors.PinterestError:
                return False
            return True

        sends: list[float] = []
        client.hooks.request.append(lambda event: sends.append(time.time()) if not sends else None)
        print("READY", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        cpu = time.process_time()
        outcomes = await asyncio.gather(*(one(index) for index in range(calls)))
        finished, cpu = time.time(), time.process_time() - cpu
        metrics = client.metrics["org_read"]
        return {
            "started": sends[0],
            "finished": finished,
            "cpu": cpu,
            "responses": metrics.requests,
            "rate_limited": metrics.rate_limited,
            "failed": outcomes.count(False),
        }


# -- the servers ----------------------------------------------------------------------------------------------


@contextmanager
def redis_server(directory: str) -> Iterator[int]:
    """A redis-server on a free loopback port, persistence off; yields its port."""
    binary = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin:/usr/sbin")
    if binary is None:
        raise SystemExit("redis-server is not installed: make redis-server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    arguments = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    arguments += ["--dir", directory, "--loglevel", "warning"]
    process = subprocess.Popen([binary, *arguments], stdout=subprocess.DEVNULL)
    try:
        for _ in range(500):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.02)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


# The commands clients send (INFO commandstats also counts those run inside scripts); INFO is the bench's own.
_ROUND_TRIPS = ("cmdstat_evalsha", "cmdstat_eval", "cmdstat_script|load", "cmdstat_ping", "cmdstat_hello")


def commands_served(port: int) -> int:
    """The round trips clients made to the Redis server on ``port``, from INFO commandstats."""
    import redis

    with redis.Redis(host="127.0.0.1", port=port) as client:
        stats = client.info("commandstats")
    return sum(int(entry["calls"]) for name, entry in stats.items() if name in _ROUND_TRIPS)


# -- one run --------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    processes: int
    budget: str
    calls: int
    seconds: float
    responses: int
    rate_limited: int
    failed: int
    cpu: float
    round_trips: int | None

    @property
    def efficiency(self) -> float:
        return self.calls / RATE / self.seconds

    @property
    def share_429(self) -> float:
        return self.rate_limited / max(self.responses, 1)

    @property
    def cpu_us(self) -> float:
        return self.cpu / max(self.responses, 1) * 1e6


def measure(processes: int, calls: int, redis_port: int | None, *, paced: bool = False) -> Outcome:
    """``processes`` workers sharing ``calls`` against a fresh server, through Redis on ``redis_port`` if given
    (else each with its own budget, ``paced`` or not)."""
    budget = f"redis://127.0.0.1:{redis_port}/0" if redis_port else "paced" if paced else "own"
    if redis_port:
        import redis

        with redis.Redis(host="127.0.0.1", port=redis_port) as client:
            client.flushall()
            client.config_resetstat()
    shares = [calls // processes + (index < calls % processes) for index in range(processes)]
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    environment.pop("PINTEREST_REDIS_URL", None)
    with loopback.serving(sys.executable, ratelimit.__file__, "--serve", SHAPE) as port:
        workers = [
            subprocess.Popen(
                [sys.executable, __file__, "--worker", str(port), str(share), budget],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=environment,
            )
            for share in shares
        ]
        for worker in workers:
            assert worker.stdout is not None
            if worker.stdout.readline().strip() != "READY":
                raise RuntimeError("a worker did not start")
        served_before = commands_served(redis_port) if redis_port else 0
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("GO\n")
            worker.stdin.flush()
        reports = []
        for worker in workers:
            out, _ = worker.communicate(timeout=600)
            if worker.returncode != 0:
                raise RuntimeError(f"a worker failed with exit code {worker.returncode}")
            reports.append(json.loads(out.splitlines()[-1]))
    round_trips = commands_served(redis_port) - served_before if redis_port else None
    return Outcome(
        processes=processes,
        budget=budget,
        calls=calls,
        seconds=max(r["finished"] for r in reports) - min(r["started"] for r in reports),
        responses=sum(r["responses"] for r in reports),
        rate_limited=sum(r["rate_limited"] for r in reports),
        failed=sum(r["failed"] for r in reports),
        cpu=sum(r["cpu"] for r in reports),
        round_trips=round_trips,
    )


_LABELS = {"own": "each its own", "paced": "its own, paced at 97/s"}


def report(outcomes: list[Outcome]) -> None:
    print(
        "| processes | budget | calls | achieved (s) | ideal (s) | ideal / achieved | 429 share "
        "| Redis round trips / request | client CPU / request (µs) | failed |"
    )
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for o in outcomes:
        trips = f"{o.round_trips / max(o.responses, 1):.2f}" if o.round_trips is not None else "-"
        print(
            f"| {o.processes} | {_LABELS.get(o.budget, 'shared (Redis)')} | {o.calls} | {o.seconds:.2f} "
            f"| {o.calls / RATE:.2f} | {o.efficiency:.3f} | {o.share_429:.1%} ({o.rate_limited} of "
            f"{o.responses}) | {trips} | {o.cpu_us:.0f} | {o.failed} |"
        )
    print()
    goals = "; ".join(
        f"{n} processes >= {e:.2f} of ideal with <= {s:.0%} 429s" for n, (e, s) in GOALS.items()
    )
    print(f"Goals (issue 15), with Redis: {goals}; nothing failed.")
    print(
        "Above 1 of ideal: the server counts fixed wall-clock windows and accepts a whole window at once, so a run"
        " of a few windows\nthat bursts at each window's start beats calls / 100; the shared budget spaces its"
        " sends (97 a second) instead,\nwhich holds whatever the phase of the server's windows, and its 429s are"
        " what counts without Redis."
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=600, help="calls per run with Redis")
    parser.add_argument("--baseline-calls", type=int, default=600, help="calls per run without Redis")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--worker", nargs=3, metavar=("PORT", "CALLS", "BUDGET"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.worker:
        port, calls, budget = arguments.worker
        print(json.dumps(asyncio.run(work(int(port), int(calls), budget))))
        return
    outcomes = []
    with tempfile.TemporaryDirectory() as scratch, redis_server(scratch) as redis_port:
        for processes in arguments.processes:
            outcomes.append(measure(processes, arguments.calls, redis_port))
            outcomes.append(measure(processes, arguments.baseline_calls, None))
        # The CPU the shared budget's spaced sends cost without Redis: what Redis itself adds is the rest.
        outcomes.append(measure(1, arguments.calls, None, paced=True))
    report(outcomes)


if __name__ == "__main__":
    main()
