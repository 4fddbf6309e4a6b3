"""Per-category rate-limit gates: a shared 429 wait, proactive pacing, client-side limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import pytest
from aiohttp import web

from aiopinterest._client import Client
from aiopinterest._transport.clock import SystemClock
from aiopinterest._transport.gates import RateLimitGates

from .conftest import ApiServer, FakeClock, Item, json_item, operation

MakeClient = Callable[..., Awaitable[Client]]
READ_A = operation("GET", category="cat_a")
READ_B = operation("GET", category="cat_b", path="/other/{item_id}")


def serve_budgets(server: ApiServer, *budgets: dict[str, str]) -> None:
    """Answer GET /v5/items/{item_id} with an item and the next of ``budgets`` as its X-RateLimit-* headers (the
    last one again once they run out)."""
    left = list(budgets)

    async def with_budget(request: web.Request) -> web.Response:
        response = await json_item(request)
        response.headers.update(left.pop(0) if len(left) > 1 else left[0])
        return response

    server.route("GET", "/v5/items/{item_id}", with_budget)


async def test_a_429_pauses_its_category_only(server: ApiServer, make_client: MakeClient) -> None:
    clock = FakeClock(auto_advance=False)
    limited = {"first": True}

    async def category_a(request: web.Request) -> web.Response:
        if limited.pop("first", False):
            return web.json_response(
                {"code": 8, "message": "slow down"}, status=429, headers={"Retry-After": "30"}
            )
        return await json_item(request)

    server.route("GET", "/v5/items/{item_id}", category_a)
    server.route("GET", "/v5/other/{item_id}", json_item)
    client = await make_client(clock=clock)
    done: list[str] = []

    async def call(op: object, item_id: str) -> None:
        await client._request(op, Item, path={"item_id": item_id})  # type: ignore[arg-type]
        done.append(item_id)

    async with anyio.create_task_group() as group:
        group.start_soon(call, READ_A, "a1")
        await clock.until_sleeping(1)  # a1 met the 429 and waits at the gate
        group.start_soon(call, READ_A, "a2")
        await clock.until_sleeping(2)  # a2 waits behind the same gate, unsent
        await call(READ_B, "b1")  # the other category flows meanwhile

        assert done == ["b1"]
        assert server.hits == {"/v5/items/a1": 1, "/v5/other/b1": 1}
        assert client._transport._gates.blocked_for("cat_a") == 30
        assert client._transport._gates.blocked_for("cat_b") == 0
        await clock.advance(30)

    assert sorted(done) == ["a1", "a2", "b1"]
    assert server.hits == {"/v5/items/a1": 2, "/v5/items/a2": 1, "/v5/other/b1": 1}
    assert client.metrics["cat_a"].gate_wait == 60  # two requests waited 30 s each
    assert client.metrics["cat_b"].gate_wait == 0


async def test_pacing_spreads_the_remaining_budget_until_reset(
    server: ApiServer, make_client: MakeClient, clock: FakeClock
) -> None:
    serve_budgets(
        server, {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "5", "X-RateLimit-Reset": "10"}
    )
    client = await make_client()

    for n in range(3):
        await client._request(READ_A, Item, path={"item_id": str(n)})

    # The first response reveals 5 of 100 left for 10 s: one request every 2 s from then on.
    assert clock.sleeps == [2.0, 2.0]
    assert client.metrics["cat_a"].rate_limited == 0


async def test_pacing_stops_when_the_budget_recovers(
    server: ApiServer, make_client: MakeClient, clock: FakeClock
) -> None:
    serve_budgets(
        server,
        *(
            {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": left, "X-RateLimit-Reset": "10"}
            for left in ("5", "80")
        ),
    )
    client = await make_client()

    for n in range(3):
        await client._request(READ_A, Item, path={"item_id": str(n)})
    assert clock.sleeps == [2.0]


async def test_pacing_follows_a_changed_limit(
    server: ApiServer, make_client: MakeClient, clock: FakeClock
) -> None:
    # 50 left is ample of 100 (above 10%), scarce of 1000 (below 100): pacing must read the new limit.
    serve_budgets(
        server,
        *(
            {"X-RateLimit-Limit": limit, "X-RateLimit-Remaining": "50", "X-RateLimit-Reset": "10"}
            for limit in ("100", "1000")
        ),
    )
    client = await make_client()

    for n in range(3):
        await client._request(READ_A, Item, path={"item_id": str(n)})
    assert clock.sleeps == pytest.approx([0.2])  # after the second response: 50 requests in 10 s


async def test_exhausted_budget_blocks_until_reset(
    server: ApiServer, make_client: MakeClient, clock: FakeClock
) -> None:
    serve_budgets(server, {"X-RateLimit-Limit": "100;w=60", "X-RateLimit-Remaining": "0"})
    client = await make_client()

    await client._request(READ_A, Item, path={"item_id": "1"})
    await client._request(READ_A, Item, path={"item_id": "2"})
    assert clock.sleeps == [60.0]  # the window named by ";w=60", in place of a 429


async def test_pacing_can_be_disabled(server: ApiServer, make_client: MakeClient, clock: FakeClock) -> None:
    serve_budgets(
        server, {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "9"}
    )
    client = await make_client(pace_below=None)

    await client._request(READ_A, Item, path={"item_id": "1"})
    await client._request(READ_A, Item, path={"item_id": "2"})
    assert clock.sleeps == []


async def test_client_side_requests_per_second(
    server: ApiServer, make_client: MakeClient, clock: FakeClock
) -> None:
    server.route("GET", "/v5/items/{item_id}", json_item)
    server.route("GET", "/v5/other/{item_id}", json_item)
    client = await make_client(rate_limits={"cat_a": 4})

    for n in range(3):
        await client._request(READ_A, Item, path={"item_id": str(n)})
        await client._request(READ_B, Item, path={"item_id": str(n)})

    assert clock.sleeps == [0.25, 0.25]  # cat_a only
    assert client.metrics["cat_a"].gate_wait == pytest.approx(0.5)


def test_client_side_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="cat_a"):
        RateLimitGates(SystemClock(), per_second={"cat_a": 0})
