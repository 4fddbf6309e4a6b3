"""Attempt timeouts: one timer for every attempt in flight, and a caller's own cancellation left alone."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import anyio
import pytest
from aiohttp import web

from aiopinterest import RequestOptions, RetryPolicy, Timeout

# Unit tests below drive this internal class directly: its races cannot be staged through a client call.
from aiopinterest._transport.deadlines import AttemptDeadlines
from aiopinterest.errors import RequestTimeoutError
from aiopinterest.models import Pin

from .conftest import PIN, SAVE, ApiServer, MakeClient, json_pin


def stalled_route(server: ApiServer, method: str = "GET") -> None:
    """Pins whose id is not 0 hang until the test ends; pin 0 is answered at once."""

    async def stalled(request: web.Request) -> web.StreamResponse:
        if request.match_info["pin_id"] != "0":
            await server.stalled()
        return await json_pin(request)

    server.route(method, PIN if method == "GET" else SAVE, stalled)


async def test_every_stalled_attempt_in_flight_times_out(server: ApiServer, make_client: MakeClient) -> None:
    stalled_route(server)
    client = await make_client(timeout=Timeout(attempt=0.05), retry=RetryPolicy.disabled())
    outcomes: list[tuple[str, int]] = []
    callers: list[weakref.ref[asyncio.Task[object]]] = []

    async def call(n: int) -> None:
        task = asyncio.current_task()
        assert task is not None
        callers.append(weakref.ref(task))
        try:
            await client.pins.get(pin_id=str(n + 1))
        except RequestTimeoutError as error:
            outcomes.append((str(error), error.attempts))

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            for n in range(40):
                group.start_soon(call, n)

    assert len(outcomes) == 40
    assert all("attempt timeout of 0.05 s" in text for text, _ in outcomes)
    assert all(attempts == 1 for _, attempts in outcomes)
    assert client.metrics["org_read"].transport_errors == 40
    # Nothing is left being timed: no finished caller is held on to, and the next call is not cut off.
    gc.collect()
    assert [ref for ref in callers if ref() is not None] == []
    assert await client.pins.get(pin_id="0") == Pin(id="0", title="ok")


async def test_a_short_deadline_after_a_long_one_still_fires_on_time(
    server: ApiServer, make_client: MakeClient
) -> None:
    stalled_route(server)
    client = await make_client(timeout=Timeout(attempt=30), retry=RetryPolicy.disabled())
    long_started = anyio.Event()

    async def long_call() -> None:
        long_started.set()
        await client.pins.get(pin_id="1")

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            group.start_soon(long_call)
            await long_started.wait()
            # The timer is armed for the 30 s attempt; this one must not wait for it.
            with pytest.raises(RequestTimeoutError, match=r"attempt timeout of 0\.05 s"):
                await client.pins.get(pin_id="2", options=RequestOptions(timeout=Timeout(attempt=0.05)))
            group.cancel_scope.cancel()


async def test_a_timed_out_post_is_not_sent_again(server: ApiServer, make_client: MakeClient) -> None:
    stalled_route(server, "POST")
    client = await make_client(timeout=Timeout(attempt=0.05))

    with anyio.fail_after(10), pytest.raises(RequestTimeoutError) as caught:
        await client.pins.save(pin_id="1", board_id="9")

    assert caught.value.attempts == 1 and server.hits["/v5/pins/1/save"] == 1


async def test_the_callers_own_cancel_scope_is_not_turned_into_a_timeout(
    server: ApiServer, make_client: MakeClient
) -> None:
    stalled_route(server)
    client = await make_client(timeout=Timeout(attempt=0.2))

    with anyio.fail_after(10):
        with anyio.move_on_after(0.02) as scope:
            await client.pins.get(pin_id="1")
        assert scope.cancelled_caught
        # The abandoned attempt's deadline is forgotten: it does not cut off this task once it passes.
        await asyncio.sleep(0.4)


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
    task = deadlines.start(0.01)
    deadlines.close()
    await asyncio.sleep(0.05)  # past the deadline: nothing cancels this task
    assert deadlines.stop(task) is False


async def test_closing_the_client_stops_its_timer(
    server: ApiServer, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.route("GET", PIN, json_pin)
    await server.start()
    loop = asyncio.get_running_loop()
    timers: list[asyncio.TimerHandle] = []
    schedule = loop.call_later

    def recorded(delay: float, callback: Any, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        timer = schedule(delay, callback, *args, **kwargs)
        timers.append(timer)
        return timer

    monkeypatch.setattr(loop, "call_later", recorded)  # every timer the client (and aiohttp) sets from now on
    client = await make_client()
    await client.pins.get(pin_id="1")
    monkeypatch.undo()
    assert any(not timer.cancelled() for timer in timers)  # the attempt deadline's, armed by the first call

    await client.close()
    assert [timer for timer in timers if not timer.cancelled() and timer.when() > loop.time()] == []


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
    orphan = weakref.ref(asyncio.run(end_with_an_attempt_timed()))
    # A later deadline than that dead timer's: it must be given a timer on this loop.
    assert asyncio.run(attempt(0.2)) == "timed out"
    gc.collect()
    assert orphan() is None  # what was timed on the dead loop is not held on to
    deadlines.close()
