"""Client.stream: bodies read in chunks, sharing slots, retries, hooks, metrics and token rules with API calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
import anyio
import pytest
from aiohttp import web

from aiopinterest import ResponseEvent, Timeout
from aiopinterest.errors import ClientClosedError, NotFoundError, RequestTimeoutError, TransportError

from .conftest import PIN, ApiServer, FakeClock, MakeClient, json_pin

MakeServer = Callable[[], Awaitable[ApiServer]]
PIECE = b"x" * 10_000
PIECES = 100


async def dribble(request: web.Request) -> web.StreamResponse:
    """One megabyte, written in pieces as a large file would be."""
    response = web.StreamResponse(headers={"Content-Type": "text/csv"})
    await response.prepare(request)
    for _ in range(PIECES):
        await response.write(PIECE)
    await response.write_eof()
    return response


async def first_piece(request: web.Request, headers: dict[str, str]) -> web.StreamResponse:
    """A response under way: its headers and the first piece of its body sent."""
    response = web.StreamResponse(headers=headers)
    await response.prepare(request)
    await response.write(PIECE)
    return response


async def test_the_body_arrives_in_chunks_and_is_counted_on_close(
    server: ApiServer, make_client: MakeClient
) -> None:
    server.route("GET", "/files/big", dribble)
    events: list[ResponseEvent] = []
    client = await make_client(on_response=events.append)

    largest = total = 0
    async with client.stream("GET", str(server.url("/files/big"))) as response:
        assert (response.status, response.headers["Content-Type"]) == (200, "text/csv")
        async for chunk in response.iter_chunks(4096):
            largest, total = max(largest, len(chunk)), total + len(chunk)
        assert await response.read() == b""
        assert events == []  # recorded once the body is done with

    assert total == len(PIECE) * PIECES and largest <= 4096
    assert [(e.status, e.bytes_received) for e in events] == [(200, total)]
    assert client.metrics["external"].bytes_received == total


async def test_the_stream_holds_its_concurrency_slot_until_closed(
    server: ApiServer, make_client: MakeClient
) -> None:
    server.route("GET", "/files/big", dribble)
    server.route("GET", PIN, json_pin)
    client = await make_client(max_concurrency=1)
    api_call_done = anyio.Event()

    async def api_call() -> None:
        await client.pins.get(pin_id="1")
        api_call_done.set()

    async with anyio.create_task_group() as tasks:
        async with client.stream("GET", str(server.url("/files/big"))) as response:
            tasks.start_soon(api_call)
            await response.read(10)  # then stop reading: leaving the block must free the slot
            await anyio.sleep(0.05)
            assert not api_call_done.is_set()
        with anyio.fail_after(5):
            await api_call_done.wait()


async def test_failures_before_the_body_are_retried(
    server: ApiServer, make_client: MakeClient, clock: FakeClock
) -> None:
    async def unavailable_then_file(request: web.Request) -> web.StreamResponse:
        if server.hits[request.path] == 1:
            return web.Response(status=503, text="busy")
        return await dribble(request)

    server.route("GET", "/files/big", unavailable_then_file)
    client = await make_client()

    async with client.stream("GET", str(server.url("/files/big"))) as response:
        assert len(await response.read()) == len(PIECE) * PIECES

    assert server.hits["/files/big"] == 2 and clock.sleeps == [0.25]
    assert client.metrics["external"].server_errors == 1


async def test_an_error_status_raises_the_typed_error_on_entering(
    server: ApiServer, make_client: MakeClient
) -> None:
    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404, text="<Error><Code>NoSuchKey</Code></Error>")

    server.route("GET", "/files/gone", missing)
    client = await make_client()

    with pytest.raises(NotFoundError) as caught:
        async with client.stream("GET", str(server.url("/files/gone"))):
            pytest.fail("the block must not run")
    assert b"NoSuchKey" in caught.value.body


async def test_a_body_that_breaks_off_raises_transport_error_and_is_not_retried(
    server: ApiServer, make_client: MakeClient
) -> None:
    async def cut_short(request: web.Request) -> web.StreamResponse:
        response = await first_piece(request, {"Content-Length": "100000"})
        assert request.transport is not None
        request.transport.abort()
        return response

    server.route("GET", "/files/cut", cut_short)
    client = await make_client()

    with pytest.raises(TransportError, match="broke off"):
        async with client.stream("GET", str(server.url("/files/cut"))) as response:
            async for _ in response.iter_chunks():
                pass
    assert server.hits["/files/cut"] == 1


async def test_the_bearer_token_never_goes_to_another_host(
    server: ApiServer, make_server: MakeServer, make_client: MakeClient
) -> None:
    other = await make_server()
    seen: list[str | None] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.Response(text="file")

    async def redirect_away(request: web.Request) -> web.Response:
        raise web.HTTPFound(str(other.url("/file")))

    other.route("GET", "/file", record)
    await other.start()
    server.route("GET", "/v5/export", redirect_away)
    client = await make_client()

    async with client.stream("GET", str(other.url("/file"))) as response:
        assert await response.read() == b"file"
    async with client.stream("GET", "/export", authenticated=True) as response:
        assert await response.read() == b"file"
    with pytest.raises(ValueError, match="refusing to send the access token"):
        async with client.stream("GET", str(other.url("/file")), authenticated=True):
            pass

    assert seen == [None, None]


async def test_a_user_session_keeps_its_own_credentials_to_the_api_origin(
    server: ApiServer, make_server: MakeServer, make_client: MakeClient
) -> None:
    other = await make_server()
    seen: dict[str, str | None] = {}

    async def record(request: web.Request) -> web.Response:
        seen[request.path] = request.headers.get("Authorization")
        return web.json_response({"id": "1"})

    other.route("GET", "/file", record)
    other.route("POST", "/upload", record)
    await other.start()
    server.route("GET", PIN, record)

    async with aiohttp.ClientSession(headers={"Authorization": "Bearer session-secret"}) as session:
        client = await make_client(session=session)
        async with client.stream("GET", str(other.url("/file"))) as response:
            await response.read()
        await client.request("POST", str(other.url("/upload")), body=b"data")
        await client.pins.get(pin_id="1")

    assert seen == {"/file": None, "/upload": None, "/v5/pins/1": "Bearer test-access-token"}


async def test_the_clock_is_the_one_given(make_client: MakeClient, clock: FakeClock) -> None:
    client = await make_client()
    assert client.clock is clock


async def test_a_streamed_body_that_stalls_is_cut_off_by_the_attempt_timeout(
    server: ApiServer, make_client: MakeClient
) -> None:
    async def stalls_midway(request: web.Request) -> web.StreamResponse:
        response = await first_piece(request, {"Content-Type": "text/csv"})
        await server.stalled()
        return response

    server.route("GET", "/files/stalls", stalls_midway)
    client = await make_client(timeout=Timeout(attempt=0.1))

    received = 0
    with anyio.fail_after(10), pytest.raises(RequestTimeoutError, match="broke off after 10000 bytes"):
        # The body is read after the transport has returned: the attempt's limit still holds over it.
        async with client.stream("GET", str(server.url("/files/stalls"))) as response:
            async for chunk in response.iter_chunks():
                received += len(chunk)
    assert received == len(PIECE)


async def test_a_body_still_being_read_when_the_client_closes_raises_client_closed_error(
    server: ApiServer, make_client: MakeClient
) -> None:
    finish = anyio.Event()

    async def endless(request: web.Request) -> web.StreamResponse:
        response = await first_piece(request, {"Content-Type": "text/csv"})
        await finish.wait()  # the rest never comes while the client reads
        return response

    server.route("GET", "/files/big", endless)
    client = await make_client()
    try:
        async with client.stream("GET", str(server.url("/files/big"))) as response:
            assert await response.read(len(PIECE)) == PIECE
            await client.close()
            with pytest.raises(ClientClosedError, match="closed"):
                await response.read()
    finally:
        finish.set()
