"""The governor's budget shared through a real Redis by processes of one fleet, against one loopback server."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import math
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from aiohttp import web

from aiopinterest import Client
from tests.transport.conftest import ApiServer, FakeClock

from . import budget_worker
from .conftest import RedisServer

ROOT = Path(__file__).resolve().parents[2]
BUDGET_KEY = f"{{{budget_worker.PREFIX}}}:budget:{budget_worker.CATEGORY}"
_BOUND = 30.0  # seconds for a broken test to give up, not a timing


class Worker:
    """One fleet process (tests/fleet/budget_worker.py) and the JSON lines it prints."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, redis_url: str, api: ApiServer, *steps: str) -> Worker:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.fleet.budget_worker",
            redis_url,
            api.base_url,
            *steps,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        return cls(process)

    async def line(self) -> dict[str, object]:
        assert self.process.stdout is not None
        with anyio.fail_after(_BOUND):
            raw = await self.process.stdout.readline()
        assert raw, "the worker exited early"
        result: dict[str, object] = json.loads(raw)
        return result

    def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"go\n")

    async def finish(self) -> None:
        with anyio.fail_after(_BOUND):
            assert await self.process.wait() == 0


def fleet_client(redis_url: str, api: ApiServer, **options: object) -> Client:
    return Client(
        "fleet-access",
        base_url=api.base_url,
        redis_url=redis_url,
        redis_key_prefix=budget_worker.PREFIX,
        **options,  # type: ignore[arg-type]
    )


async def call(client: Client, path: str) -> int:
    response = await client.request("GET", path, authenticated=True, category=budget_worker.CATEGORY)
    return response.status


class FixedWindowApi:
    """/v5/items/{id} allowing ``limit`` requests per wall-clock second with Pinterest's headers, and 429 (code
    8, no Retry-After) beyond; records the second of every arrival."""

    def __init__(self, api: ApiServer, limit: int) -> None:
        self.limit = limit
        self.arrivals: Counter[int] = Counter()
        self.refused = 0
        api.route("GET", "/v5/items/{item_id}", self.item)

    async def item(self, request: web.Request) -> web.Response:
        now = time.time()
        second = math.floor(now)
        self.arrivals[second] += 1
        count = self.arrivals[second]
        headers = {
            "X-RateLimit-Limit": f"{self.limit}, {self.limit};w=1",
            "X-RateLimit-Remaining": str(max(0, self.limit - count)),
            "X-RateLimit-Reset": str(math.ceil(second + 1 - now)),
        }
        if count > self.limit:
            self.refused += 1
            return web.json_response({"code": 8, "message": "rate limited"}, status=429, headers=headers)
        return web.json_response({"id": request.match_info["item_id"]}, headers=headers)


async def test_three_processes_share_one_budget_and_the_server_sees_its_limit(
    redis_server: RedisServer, api: ApiServer
) -> None:
    server = FixedWindowApi(api, limit=10)
    await api.start()
    workers = [await Worker.start(redis_server.url, api, "wait", "calls:/items/1:10") for _ in range(3)]
    for worker in workers:
        assert await worker.line() == {"ready": True}
    for worker in workers:
        worker.go()

    results = [await worker.line() for worker in workers]
    for worker in workers:
        await worker.finish()

    assert all(result["statuses"] == [200] * 10 for result in results)
    # Each process alone would send its ten in the first second: twenty refused. Shared, the server sees its
    # limit (one over at most, for the jitter of a loaded machine) and next to no 429.
    assert max(server.arrivals.values()) <= server.limit + 1, server.arrivals
    assert server.refused <= 1
    assert sum(server.arrivals.values()) == 30 + server.refused
    with redis_server.client() as redis:  # one hash tag: one Redis Cluster slot for the fleet's scripts
        assert {key.split(b"}")[0] for key in redis.keys("*")} == {b"{" + budget_worker.PREFIX.encode()}


async def test_a_429_seen_by_one_process_blocks_the_others(redis_server: RedisServer, api: ApiServer) -> None:
    arrivals: list[tuple[str, float]] = []

    async def item(request: web.Request) -> web.Response:
        arrivals.append((request.match_info["who"], time.monotonic()))
        if len(arrivals) == 1:
            return web.json_response(
                {"code": 8, "message": "slow down"}, status=429, headers={"Retry-After": "2"}
            )
        return web.json_response({})

    api.route("GET", "/v5/{who}/items", item)
    await api.start()
    other = await Worker.start(redis_server.url, api, "wait", "calls:/other/items:1")
    assert await other.line() == {"ready": True}

    async with fleet_client(redis_server.url, api) as client:
        refused = asyncio.ensure_future(call(client, "/this/items"))
        with redis_server.client() as redis, anyio.fail_after(_BOUND):
            while redis.hget(BUDGET_KEY, "blocked") is None:  # noqa: ASYNC110 (the block is in Redis)
                await asyncio.sleep(0.01)
        other.go()
        result = await other.line()
        assert await refused == 200  # retried after the block, in this process
    await other.finish()

    assert result == {"statuses": [200]}
    (first, refused_at), *rest = arrivals
    other_at = next(at for who, at in rest if who == "other")
    assert first == "this"
    assert other_at - refused_at >= 1.5  # held by the block another process was told of


async def test_a_killed_process_frees_its_share_once_its_lease_lapses(
    redis_server: RedisServer, api: ApiServer
) -> None:
    fast: list[float] = []

    async def limited(request: web.Request) -> web.Response:
        fast.append(time.monotonic())
        headers = {"X-RateLimit-Limit": "2, 2;w=1", "X-RateLimit-Remaining": "1", "X-RateLimit-Reset": "1"}
        return web.json_response({}, headers=headers)

    async def stalled(request: web.Request) -> web.Response:
        await api.stalled()
        return web.json_response({})

    api.route("GET", "/v5/fast", limited)
    api.route("GET", "/v5/slow", stalled)
    await api.start()
    # The victim learns the limit (2 at once), then holds both permits with requests that never end.
    victim = await Worker.start(redis_server.url, api, "calls:/fast:1", "hang:/slow:2")
    assert await victim.line() == {"statuses": [200]}
    with anyio.fail_after(_BOUND):
        while api.hits.get("/v5/slow", 0) < 2:  # noqa: ASYNC110 (the server's log is a plain dict)
            await asyncio.sleep(0.01)

    async with fleet_client(redis_server.url, api) as client:
        survivor = asyncio.ensure_future(call(client, "/fast"))
        await asyncio.sleep(0.5)
        assert len(fast) == 1  # the fleet's two permits are the victim's: the survivor waits
        victim.process.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        await victim.process.wait()
        with anyio.fail_after(_BOUND):
            assert await survivor == 200

    # The lease (3 s) is renewed every 0.75 s while requests are in flight, so it lapses 1.5 to 3 s after the
    # kill; the survivor's request goes soon after (it asks every 100 ms while others hold the fleet's cap).
    freed_after = fast[1] - killed_at
    assert 1.2 <= freed_after <= 3.0 + 2.0


async def test_redis_stopped_and_restarted_during_a_run_calls_go_on_and_the_client_rejoins(
    make_redis: Callable[..., RedisServer], api: ApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    server = FixedWindowApi(api, limit=50)
    await api.start()
    redis_server = make_redis()
    caplog.set_level(logging.WARNING, logger="aiopinterest")

    async with fleet_client(redis_server.url, api) as client:
        before = await asyncio.gather(*(call(client, f"/items/{n}") for n in range(10)))
        redis_server.stop()
        during = await asyncio.gather(*(call(client, f"/items/{n}") for n in range(10)))
        assert "pacing on this process's share of the fleet's budget until it is back" in caplog.text
        restarted = make_redis(port=redis_server.port)  # empty: no keys, no script loaded
        with anyio.fail_after(_BOUND):
            while "is back: rejoining the fleet's budget" not in caplog.text:
                await call(client, "/items/after")
                await asyncio.sleep(0.1)
        after = await asyncio.gather(*(call(client, f"/items/{n}") for n in range(10)))

    assert before == during == after == [200] * 10
    assert server.refused == 0
    with restarted.client() as redis:
        stats = redis.info("commandstats")
        assert stats["cmdstat_evalsha"]["calls"] >= 1  # reserving from the restarted Redis again,
        assert stats["cmdstat_script|load"]["calls"] >= 1  # after loading the script anew (NOSCRIPT)
        assert redis.hget(BUDGET_KEY, "tat") is not None


async def test_while_redis_is_down_a_process_keeps_to_its_share_of_the_budget_it_last_saw(
    make_redis: Callable[..., RedisServer], api: ApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    async def item(request: web.Request) -> web.Response:
        headers = {"X-RateLimit-Limit": "10, 10;w=1", "X-RateLimit-Remaining": "9", "X-RateLimit-Reset": "1"}
        return web.json_response({}, headers=headers)

    api.route("GET", "/v5/items/{item_id}", item)
    await api.start()
    caplog.set_level(logging.WARNING, logger="aiopinterest")
    redis_server = make_redis()
    with redis_server.client() as redis:  # three other processes of the fleet, alive for a minute
        seconds, _ = redis.time()
        redis.zadd(f"{BUDGET_KEY}:leases", {name: (seconds + 60) * 1000 for name in ("p1", "p2", "p3")})
    clock = FakeClock()
    sent: list[float] = []

    async with fleet_client(redis_server.url, api, clock=clock) as client:
        client.hooks.request.append(lambda event: sent.append(clock.monotonic()))
        await call(client, "/items/0")  # learns the limit (10 a second) and that four processes share it
        redis_server.stop()
        await asyncio.gather(*(call(client, f"/items/{n}") for n in range(4)))
        assert "pacing on this process's share" in caplog.text
        make_redis(port=redis_server.port)  # back, and empty: no other process has rejoined yet
        await asyncio.gather(*(call(client, f"/items/{n}") for n in range(4)))
        assert "is back: rejoining the fleet's budget" in caplog.text

    # A quarter of the fleet's 10 / 1.03 a second, alone and for two seconds after Redis came back (while the
    # others rejoin): never the whole budget, which the empty Redis would grant.
    share_interval = 4 * 1.03 / 10
    gaps = [later - earlier for earlier, later in itertools.pairwise(sent[1:])]  # after the first call
    assert len(gaps) == 7 and min(gaps) >= share_interval - 1e-6, gaps


async def test_a_rate_found_from_429s_by_one_process_paces_the_others(
    redis_server: RedisServer, api: ApiServer
) -> None:
    refusals = 3

    async def header_less(request: web.Request) -> web.Response:
        nonlocal refusals
        if request.match_info["who"] == "finder" and refusals:
            refusals -= 1
            return web.json_response({"code": 8, "message": "rate limited"}, status=429)
        return web.json_response({})

    api.route("GET", "/v5/{who}/items", header_less)
    await api.start()
    clock = FakeClock()
    sent: list[float] = []

    async with (
        fleet_client(redis_server.url, api) as finder,
        fleet_client(redis_server.url, api, clock=clock) as other,
    ):
        assert await call(finder, "/finder/items") == 200  # after three 429s without a header: a rate found
        other.hooks.request.append(lambda event: sent.append(clock.monotonic()))
        for _ in range(4):
            assert await call(other, "/other/items") == 200
        with redis_server.client() as redis:
            found = min(float(rate) for rate in redis.hvals(f"{BUDGET_KEY}:rates"))

    # The other process never saw a 429, yet sends no faster than the rate the fleet found.
    assert found > 0
    gaps = [later - earlier for earlier, later in itertools.pairwise(sent)]
    assert len(gaps) == 3 and min(gaps) >= 1 / found - 0.002, (gaps, found)


async def test_clients_of_different_static_tokens_do_not_share_a_budget(
    redis_server: RedisServer, api: ApiServer
) -> None:
    api.route("GET", "/v5/items", lambda request: _empty())
    await api.start()

    for token in ("user-a-token", "user-b-token", "user-a-token"):
        async with Client(token, base_url=api.base_url, redis_url=redis_server.url) as client:
            await call(client, "/items")

    with redis_server.client() as redis:
        keys = [key.decode() for key in redis.keys("*:budget:org_read")]
    # Without an app or a refresh token the access token is the only identity: a hash of it names the keys.
    assert len(keys) == 2
    assert not any("user-" in key for key in keys)


async def _empty() -> web.Response:
    return web.json_response({})
