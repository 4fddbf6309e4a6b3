"""Call hooks around all of a call's attempts, and what each attempt's event says about waits and retries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import pytest
from aiohttp import web

from aiopinterest import CallEndEvent, CallEvent, Client, RequestEvent, ResponseEvent
from aiopinterest.errors import NotFoundError

from .conftest import PIN, ApiServer, FakeClock, MakeClient, json_pin

Event = CallEvent | CallEndEvent | RequestEvent | ResponseEvent


def answers(*statuses: int) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A handler answering each status in turn (429s asking for a 2 s wait), then 200 with a Pin."""
    remaining = list(statuses)

    async def handler(request: web.Request) -> web.Response:
        if remaining:
            status = remaining.pop(0)
            return web.json_response(
                {"code": 1, "message": "no"}, status=status, headers={"Retry-After": "2"}
            )
        return await json_pin(request)

    return handler


def recorder(client: Client) -> list[Event]:
    events: list[Event] = []
    client.hooks.call_start.append(events.append)
    client.hooks.call_end.append(events.append)
    client.hooks.request.append(events.append)
    client.hooks.response.append(events.append)
    return events


async def test_call_hooks_run_once_around_every_attempt(
    server: ApiServer, make_client: MakeClient, clock: FakeClock
) -> None:
    server.route("GET", PIN, answers(503))
    client = await make_client()
    events = recorder(client)

    await client.pins.get(pin_id="1")

    assert [type(e).__name__ for e in events] == [
        "CallEvent",
        "RequestEvent",
        "ResponseEvent",
        "RequestEvent",
        "ResponseEvent",
        "CallEndEvent",
    ]
    call, first, _, second, _, end = events
    assert isinstance(call, CallEvent) and isinstance(end, CallEndEvent)
    assert (call.method, call.category, call.operation_id) == ("GET", "org_read", "pins/get")
    assert call.url.endswith("/v5/pins/1")
    assert isinstance(first, RequestEvent) and isinstance(second, RequestEvent)
    assert (first.backoff, first.retry_reason, first.rate_limit_wait) == (0.0, None, 0.0)
    assert (second.backoff, second.retry_reason) == (clock.sleeps[0], "503")
    assert second.backoff > 0
    assert end.call is call and end.status == 200 and end.error is None and end.elapsed >= 0


async def test_a_429_wait_is_reported_as_the_next_attempts_rate_limit_wait(
    server: ApiServer, make_client: MakeClient
) -> None:
    server.route("GET", PIN, answers(429))
    client = await make_client()
    events = recorder(client)

    await client.pins.get(pin_id="1")

    retried = [e for e in events if isinstance(e, RequestEvent)][1]
    assert (retried.rate_limit_wait, retried.backoff, retried.retry_reason) == (2.0, 0.0, "429")


async def test_call_end_sees_the_error_a_call_raises(server: ApiServer, make_client: MakeClient) -> None:
    server.route("GET", PIN, answers(404))
    client = await make_client()
    events = recorder(client)

    with pytest.raises(NotFoundError):
        await client.pins.get(pin_id="1")

    end = events[-1]
    assert isinstance(end, CallEndEvent)
    assert end.status is None and isinstance(end.error, NotFoundError)


async def test_call_end_runs_when_the_call_is_cancelled(server: ApiServer, make_client: MakeClient) -> None:
    async def stalled(request: web.Request) -> web.Response:
        await server.stalled()
        return web.Response()

    server.route("GET", PIN, stalled)
    client = await make_client()
    events = recorder(client)

    with anyio.move_on_after(0.2):
        await client.pins.get(pin_id="1")

    end = events[-1]
    assert isinstance(end, CallEndEvent)
    assert end.status is None and end.error is not None
    assert [type(e).__name__ for e in events] == ["CallEvent", "RequestEvent", "CallEndEvent"]


async def test_a_failing_call_start_hook_fails_the_call_before_sending(
    server: ApiServer, make_client: MakeClient
) -> None:
    server.route("GET", PIN, json_pin)
    client = await make_client()

    def refuse(event: CallEvent) -> None:
        raise RuntimeError("no calls now")

    client.hooks.call_start.append(refuse)
    with pytest.raises(RuntimeError, match="no calls now"):
        await client.pins.get(pin_id="1")
    assert server.hits == {}
