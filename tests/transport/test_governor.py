"""The rate-limit governor, against loopback servers that keep their budgets on the test's fake clock."""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
from collections.abc import Callable, Coroutine
from typing import Any

import anyio
import pytest
from aiohttp import web

from aiopinterest import Client
from aiopinterest.errors import RateLimitError

from .conftest import AD_ACCOUNT, PIN, ApiServer, FakeClock, MakeClient, json_ad_account, json_pin

# Calls of two categories: pins.get is org_read, ad_accounts.get is ads_read.
WARM_UP, HOLDER, LIMITED = "900", "901", "902"


class Windows:
    """A server's fixed-window count: ``limit`` per ``window`` seconds of the fake clock, from time 1000."""

    def __init__(self, clock: FakeClock, limit: int, window: float) -> None:
        self.clock, self.limit, self.window = clock, limit, window
        self.counts: dict[int, int] = {}

    def take(self) -> tuple[bool, int, float]:
        """(accepted, remaining, seconds until the window ends)."""
        index = math.floor((self.clock.now - 1000.0) / self.window)
        used = self.counts.get(index, 0)
        accepted = used < self.limit
        self.counts[index] = used + accepted
        return accepted, self.limit - self.counts[index], 1000.0 + (index + 1) * self.window - self.clock.now


def too_many(headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"code": 8, "message": "slow down"}, status=429, headers=headers)


Read = Callable[[Client, str], Coroutine[Any, Any, object]]


async def read_a(client: Client, number: str) -> object:
    return await client.pins.get(pin_id=number)


async def read_b(client: Client, number: str) -> object:
    return await client.ad_accounts.get(ad_account_id=number)


async def call_all(client: Client, count: int, read: Read = read_a) -> None:
    async with anyio.create_task_group() as group:
        for n in range(count):
            group.start_soon(read, client, str(n))


async def test_concurrent_calls_never_send_past_the_remaining_budget(
    server: ApiServer, make_client: MakeClient, clock: FakeClock
) -> None:
    windows = Windows(clock, limit=10, window=60.0)
    sent_at: list[float] = []

    async def counted(request: web.Request) -> web.Response:
        sent_at.append(clock.now)
        accepted, remaining, reset = windows.take()
        headers = {
            "X-RateLimit-Limit": "10",
            "X-RateLimit-Remaining": str(max(remaining, 0)),
            "X-RateLimit-Reset": f"{reset:g}",
        }
        if not accepted:
            return too_many(headers)
        response = await json_pin(request)
        response.headers.update(headers)
        return response

    server.route("GET", PIN, counted)
    client = await make_client()

    with anyio.fail_after(10):
        await call_all(client, 64)

    assert client.metrics["org_read"].rate_limited == 0
    assert windows.counts == {0: 10, 1: 10, 2: 10, 3: 10, 4: 10, 5: 10, 6: 4}
    # Each window's sends go the moment it opens: nobody waits once the budget allows it.
    assert sorted(set(sent_at)) == [1000.0 + 60 * k for k in range(7)]


async def test_a_burst_of_retries_after_a_429_all_go_when_the_block_ends(
    server: ApiServer, make_client: MakeClient, clock: FakeClock
) -> None:
    arrived: list[float] = []
    burst = asyncio.Event()
    state = {"blocked_until": math.inf}

    async def blocking(request: web.Request) -> web.Response:
        arrived.append(clock.now)
        if request.match_info["pin_id"] == WARM_UP:
            return web.json_response(
                {"id": "1"}, headers={"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "999"}
            )
        if clock.now < state["blocked_until"]:
            if len(arrived) == 31:  # the whole burst is in: answer it
                state["blocked_until"] = clock.now + 5
                burst.set()
            await burst.wait()
            return too_many({"Retry-After": "5"})
        return await json_pin(request)

    server.route("GET", PIN, blocking)
    client = await make_client()
    await client.pins.get(pin_id=WARM_UP)
    start = clock.now

    with anyio.fail_after(10):
        await call_all(client, 30)

    retried = arrived[31:]
    assert client.metrics["org_read"].rate_limited == 30
    assert len(retried) == 30 and set(retried) == {start + 5}


async def test_calls_waiting_for_a_slot_send_nothing_during_a_block(
    server: ApiServer, make_client: MakeClient
) -> None:
    clock = FakeClock(auto_advance=False)
    arrived: list[tuple[str, float]] = []
    release_429 = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        item = request.match_info["pin_id"]
        arrived.append((item, clock.now))
        if item == LIMITED and len(arrived) == 3:
            await release_429.wait()
            return too_many({"Retry-After": "10"})
        if item == HOLDER:
            await server.stalled()
        return await json_pin(request)

    server.route("GET", PIN, handler)
    client = await make_client(clock=clock, max_concurrency=2)
    await client.pins.get(pin_id=WARM_UP)  # the category's first answer
    arrived.clear()
    arrived.append((WARM_UP, clock.now))
    async with anyio.create_task_group() as group:
        group.start_soon(read_a, client, HOLDER)
        await anyio.sleep(0.05)
        group.start_soon(read_a, client, LIMITED)
        await anyio.sleep(0.05)
        for n in range(10):  # admitted by an open budget, queued for the two busy slots
            group.start_soon(read_a, client, str(n))
        await anyio.sleep(0.05)
        release_429.set()
        await clock.until_sleeping(1)  # the block's timer
        await anyio.sleep(0.1)
        assert [item for item, _ in arrived] == [WARM_UP, HOLDER, LIMITED]  # the freed slot sent nothing
        await clock.advance(10)
        with anyio.fail_after(5):
            while len(arrived) < 14:  # noqa: ASYNC110 (the server's log is a plain list)
                await anyio.sleep(0.01)
        group.cancel_scope.cancel()

    assert all(at == 1010.0 for item, at in arrived[3:])
    assert sorted(item for item, _ in arrived[3:]) == sorted([LIMITED, *(str(n) for n in range(10))])


async def test_the_per_minute_policy_binds_when_the_header_says_so(
    server: ApiServer, make_client: MakeClient, clock: FakeClock
) -> None:
    per_second, per_minute = Windows(clock, 100, 1.0), Windows(clock, 20, 60.0)

    async def two_policies(request: web.Request) -> web.Response:
        second_ok, _, _ = per_second.take()
        minute_ok, minute_left, minute_reset = per_minute.take()
        headers = {
            "X-RateLimit-Limit": "20, 100;w=1, 20;w=60",
            "X-RateLimit-Remaining": str(max(minute_left, 0)),
            "X-RateLimit-Reset": str(math.ceil(minute_reset)),
        }
        if second_ok and minute_ok:
            response = await json_pin(request)
            response.headers.update(headers)
            return response
        return too_many(headers)

    server.route("GET", PIN, two_policies)
    client = await make_client()

    with anyio.fail_after(10):
        await call_all(client, 30)

    assert client.metrics["org_read"].rate_limited == 0
    assert per_minute.counts == {0: 20, 1: 10}
    metrics = client.metrics["org_read"]
    assert (metrics.limit, metrics.window) == (20, 60.0)


async def test_without_headers_the_rate_is_found_from_429s(
    server: ApiServer, make_client: MakeClient, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    bucket = {"tokens": 5.0, "at": clock.now}

    async def token_bucket(request: web.Request) -> web.Response:
        bucket["tokens"] = min(5.0, bucket["tokens"] + (clock.now - bucket["at"]) * 10.0)
        bucket["at"] = clock.now
        if bucket["tokens"] < 1:
            return too_many()
        bucket["tokens"] -= 1
        return await json_pin(request)

    server.route("GET", PIN, token_bucket)
    client = await make_client()
    start = clock.now

    with anyio.fail_after(20), caplog.at_level(logging.INFO, logger="aiopinterest"):
        await call_all(client, 200)

    found = "rate limit: org_read answered 429 without rate-limit headers; pacing at"
    assert any(r.levelno == logging.INFO and r.getMessage().startswith(found) for r in caplog.records)
    metrics = client.metrics["org_read"]
    assert metrics.rate_limited <= 30  # of some 200 responses: the 429s teach, they do not flood
    assert metrics.pace is not None and 5 <= metrics.pace <= 20  # found near the bucket's 10 a second
    elapsed = clock.now - start
    assert (200 - 5) / 10 <= elapsed <= (200 - 5) / 10 / 0.8


async def test_a_429_blocks_its_category_only(server: ApiServer, make_client: MakeClient) -> None:
    clock = FakeClock(auto_advance=False)
    limited = {"first": True}

    async def category_a(request: web.Request) -> web.Response:
        if limited.pop("first", False):
            return too_many({"Retry-After": "30"})
        return await json_pin(request)

    server.route("GET", PIN, category_a)
    server.route("GET", AD_ACCOUNT, json_ad_account)
    client = await make_client(clock=clock)
    done: list[str] = []

    async def call(read: Read, name: str, number: str) -> None:
        await read(client, number)
        done.append(name)

    async with anyio.create_task_group() as group:
        group.start_soon(call, read_a, "a1", "1")
        await clock.until_sleeping(1)  # a1 met the 429; the block's timer sleeps
        group.start_soon(call, read_a, "a2", "2")
        await anyio.sleep(0.05)
        await call(read_b, "b1", "1")  # the other category flows meanwhile

        assert done == ["b1"]
        assert server.hits == {"/v5/pins/1": 1, "/v5/ad_accounts/1": 1}
        assert client.metrics["org_read"].blocked_until == 1030
        assert client.metrics["org_read"].waiting == 2
        assert client.metrics["ads_read"].blocked_until is None
        await clock.advance(30)

    assert sorted(done) == ["a1", "a2", "b1"]
    assert client.metrics["org_read"].gate_wait == 60  # two calls waited 30 s each
    assert client.metrics["org_read"].held == 30  # one category, held for 30 s
    assert client.metrics["ads_read"].gate_wait == 0


async def test_calls_of_a_category_go_in_the_order_they_came(
    server: ApiServer, make_client: MakeClient, clock: FakeClock
) -> None:
    order: list[str] = []

    async def recorded(request: web.Request) -> web.Response:
        order.append(request.match_info["pin_id"])
        return await json_pin(request)

    server.route("GET", PIN, recorded)
    client = await make_client(rate_limits={"org_read": 4})

    async with anyio.create_task_group() as group:
        for n in range(12):
            group.start_soon(read_a, client, f"{n:02}")
            await anyio.lowlevel.checkpoint()

    assert order == [f"{n:02}" for n in range(12)]


async def test_client_side_rate_spaces_sends_evenly(
    server: ApiServer, make_client: MakeClient, clock: FakeClock
) -> None:
    sent_at: list[float] = []

    async def recorded(request: web.Request) -> web.Response:
        sent_at.append(clock.now)
        return await json_pin(request)

    server.route("GET", PIN, recorded)
    server.route("GET", AD_ACCOUNT, json_ad_account)
    client = await make_client(rate_limits={"org_read": 4})

    await call_all(client, 9)
    await call_all(client, 3, read_b)

    assert [round(b - a, 6) for a, b in itertools.pairwise(sent_at)] == [0.25] * 8
    assert client.metrics["org_read"].pace == 4
    assert client.metrics["ads_read"].gate_wait == 0


def test_client_side_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="org_read"):
        Client(access_token="t", rate_limits={"org_read": 0})


async def test_a_spent_daily_budget_fails_fast_saying_when_it_refills(
    server: ApiServer, make_client: MakeClient, clock: FakeClock
) -> None:
    server.route("GET", PIN, json_pin)
    client = await make_client(rate_limit_priors="trial")  # 1,000 requests a day for all categories

    with anyio.fail_after(30):
        await call_all(client, 1000)
        with pytest.raises(RateLimitError, match=r"refills in 86\d\d\d s") as caught:
            await client.ad_accounts.get(ad_account_id="1001")

    assert caught.value.retry_after is not None and caught.value.retry_after > 86_000
    assert server.hits.get("/v5/ad_accounts/1001") is None  # refused before sending


def test_priors_must_name_an_access_tier() -> None:
    with pytest.raises(ValueError, match="rate_limit_priors"):
        Client(access_token="t", rate_limit_priors="gold")  # type: ignore[arg-type]


async def test_metrics_show_the_learned_budget(
    server: ApiServer, make_client: MakeClient, clock: FakeClock
) -> None:
    async def budgeted(request: web.Request) -> web.Response:
        response = await json_pin(request)
        response.headers.update(
            {"X-RateLimit-Limit": "50, 50;w=10", "X-RateLimit-Remaining": "7", "X-RateLimit-Reset": "4"}
        )
        return response

    server.route("GET", PIN, budgeted)
    client = await make_client()
    await client.pins.get(pin_id="1")

    metrics = client.metrics["org_read"]
    assert (metrics.limit, metrics.window, metrics.remaining, metrics.in_flight) == (50, 10.0, 7, 0)
    assert metrics.pace is None and metrics.held == 0
    assert client.metrics.total().requests == 1  # the gauges are not summed, the counters are


async def test_blocks_and_releases_are_logged_at_info(
    server: ApiServer, make_client: MakeClient, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    limited = {"first": True}

    async def once_limited(request: web.Request) -> web.Response:
        if limited.pop("first", False):
            return too_many({"Retry-After": "3"})
        return await json_pin(request)

    server.route("GET", PIN, once_limited)
    client = await make_client()
    with caplog.at_level(logging.INFO, logger="aiopinterest"):
        await call_all(client, 2)

    messages = [record.getMessage() for record in caplog.records if record.levelno == logging.INFO]
    assert any("org_read blocked for 3 s" in message for message in messages)
    assert any("org_read released after 3 s" in message for message in messages)
    assert any(message.startswith("retrying GET") for message in messages)


async def test_pacing_that_holds_calls_a_second_or_more_is_logged_at_info(
    server: ApiServer, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    server.route("GET", PIN, json_pin)
    client = await make_client(rate_limits={"org_read": 0.5})

    with caplog.at_level(logging.INFO, logger="aiopinterest"):
        await call_all(client, 3)

    messages = [record.getMessage() for record in caplog.records if record.levelno == logging.INFO]
    assert any(
        message.startswith("rate limit: org_read holding") and message.endswith("(pacing at 0.5 requests/s)")
        for message in messages
    ), messages
