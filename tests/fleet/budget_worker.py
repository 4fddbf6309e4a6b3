"""One process of a fleet sharing a rate-limit budget, run by tests/fleet/test_shared_budget.py.

Usage: python -m tests.fleet.budget_worker REDIS_URL BASE_URL STEP...; each step is ``wait`` (say ready, then read a line
from standard input), ``calls:PATH:N`` (N calls of GET PATH at once, awaited; prints their statuses as JSON) or
``hang:PATH:N`` (N calls started and never awaited: the process then sleeps until it is killed).
"""

from __future__ import annotations

import asyncio
import json
import sys

from aiopinterest import Client

PREFIX = "fleet-budget"
CATEGORY = "org_read"


async def main(redis_url: str, base_url: str, steps: list[str]) -> None:
    async with Client(
        "fleet-access", base_url=base_url, redis_url=redis_url, redis_key_prefix=PREFIX, max_concurrency=16
    ) as client:

        async def call(path: str) -> int:
            response = await client.request(
                "GET", path, authenticated=True, category=CATEGORY, raise_for_status=False
            )
            return response.status

        for step in steps:
            kind, _, rest = step.partition(":")
            if kind == "wait":
                print(json.dumps({"ready": True}), flush=True)
                await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
                continue
            path, _, count = rest.rpartition(":")
            calls = [asyncio.ensure_future(call(path)) for _ in range(int(count))]
            if kind == "hang":
                await asyncio.Event().wait()
            print(json.dumps({"statuses": await asyncio.gather(*calls)}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
