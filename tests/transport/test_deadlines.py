"""Attempt timeouts: one timer for every attempt in flight, and a caller's own cancellation left alone."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest
from aiohttp import web

from aiopinterest import Timeout
from aiopinterest._client import Client
from aiopinterest._options import RequestOptions
from aiopinterest._transport.deadlines import AttemptDeadlines
from aiopinterest._transport.retry import RetryPolicy
from aiopinterest.errors import RequestTimeoutError

from .conftest import ApiServer, Item, json_item, operation

MakeClient = Callable[..., Awaitable[Client]]
GET = operation("GET")
POST = operation("POST")


def stalled_route(server: ApiServer, method: str = "GET") -> None:
    async def stalled(request: web.Request) -> web.StreamResponse:
        await server.stalled()
        return await json_item(request)

    server.route(method, "/v5/items/{item_id}", stalled)


async def test_every_stalled_attempt_in_flight_times_out(server: ApiServer, make_client: MakeClient) -> None:
    stalled_route(server)
    client = await make_client(timeout=Timeout(attempt=0.05), retry=RetryPolicy.disabled())
    outcomes: list[BaseException] = []

    async def call(n: int) -> None:
        try:
            await client._request(GET, Item, path={"item_id": str(n)})
        except RequestTimeoutError as error:
            outcomes.append(error)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            for n in range(40):
                group.start_soon(call, n)

    assert len(outcomes) == 40
    assert all("attempt timeout of 0.05 s" in str(error) for error in outcomes)
    assert all(error.attempts == 1 for error in outcomes if isinstance(error, RequestTimeoutError))
    assert client.metrics["cat_a"].transport_errors == 40
    # Nothing left being timed, and the one timer is not re-armed for nothing.
    deadlines = client._transport._deadlines
    assert not deadlines._running and not deadlines._expired and deadlines._timer is None


async def test_a_short_deadline_after_a_long_one_still_fires_on_time(
    server: ApiServer, make_client: MakeClient
) -> None:
    stalled_route(server)
    client = await make_client(timeout=Timeout(attempt=30), retry=RetryPolicy.disabled())
    long_started = anyio.Event()

    async def long_call() -> None:
        long_started.set()
        await client._request(GET, Item, path={"item_id": "long"})

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            group.start_soon(long_call)
            await long_started.wait()
            # The timer is armed for the 30 s attempt; this one must not wait for it.
            with pytest.raises(RequestTimeoutError, match=r"attempt timeout of 0\.05 s"):
                await client._request(
                    GET,
                    Item,
                    path={"item_id": "short"},
                    options=RequestOptions(timeout=Timeout(attempt=0.05)),
                )
            group.cancel_scope.cancel()


async def test_a_timed_out_post_is_not_sent_again(server: ApiServer, make_client: MakeClient) -> None:
    stalled_route(server, "POST")
    client = await make_client(timeout=Timeout(attempt=0.05))

    with anyio.fail_after(10), pytest.raises(RequestTimeoutError) as caught:
        await client._request(POST, Item, path={"item_id": "1"})

    assert caught.value.attempts == 1 and server.hits["/v5/items/1"] == 1


async def test_the_callers_own_cancel_scope_is_not_turned_into_a_timeout(
    server: ApiServer, make_client: MakeClient
) -> None:
    stalled_route(server)
    client = await make_client(timeout=Timeout(attempt=30))

    with anyio.fail_after(10):
        with anyio.move_on_after(0.05) as scope:
            await client._request(GET, Item, path={"item_id": "1"})
    assert scope.cancelled_caught
    assert not client._transport._deadlines._running


async def test_cancelled_by_the_caller_and_by_the_deadline_at_once_stays_cancelled() -> None:
    deadlines = AttemptDeadlines()
    outcome: list[str] = []

    async def attempt() -> None:
        task = deadlines.start(0.0)
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            outcome.append("timed out" if deadlines.stop(task) else "cancelled")
            raise

    task = asyncio.create_task(attempt())
    await asyncio.sleep(0)  # the attempt starts; the timer, due at once, is queued
    task.cancel()  # and the caller cancels too, before the timer has run
    with pytest.raises(asyncio.CancelledError):
        await task
    assert outcome == ["cancelled"]
    assert task.cancelling() >= 1  # the caller's request is still counted
    deadlines.close()


async def test_only_the_deadline_makes_a_timeout_and_its_cancellation_is_taken_back() -> None:
    deadlines = AttemptDeadlines()

    async def attempt() -> bool:
        task = deadlines.start(0.01)
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            if deadlines.stop(task):
                return True
            raise
        deadlines.stop(task)
        return False

    task = asyncio.create_task(attempt())
    assert await task is True
    assert task.cancelling() == 0 and not task.cancelled()


async def test_close_stops_the_timer() -> None:
    deadlines = AttemptDeadlines()
    task = deadlines.start(30)
    assert deadlines._timer is not None
    deadlines.close()
    assert deadlines._timer is None
    assert deadlines.stop(task) is False


async def test_closing_the_client_stops_its_timer(server: ApiServer, make_client: MakeClient) -> None:
    server.route("GET", "/v5/items/{item_id}", json_item)
    client = await make_client()
    await client._request(GET, Item, path={"item_id": "1"})
    assert client._transport._deadlines._timer is not None  # armed by the first attempt, for its deadline
    await client.close()
    assert client._transport._deadlines._timer is None


def test_a_second_event_loop_gets_a_timer_of_its_own() -> None:
    deadlines = AttemptDeadlines()

    async def attempt(seconds: float) -> str:
        task = deadlines.start(seconds)
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            if deadlines.stop(task):
                return "timed out"
            raise
        deadlines.stop(task)
        return "not cut off"

    async def end_with_an_attempt_timed() -> asyncio.Task[Any]:
        return deadlines.start(0.01)  # as if the loop stopped in mid-attempt

    # That loop closes with the timer still on it, and an attempt never stopped.
    orphan = asyncio.run(end_with_an_attempt_timed())
    # A later deadline than that dead timer's: it must be given a timer on this loop.
    assert asyncio.run(attempt(0.2)) == "timed out"
    assert orphan not in deadlines._running and not deadlines._expired
    deadlines.close()
