"""Every failure is typed and carries no secret: a closed client, calls in flight at close(), unparseable
responses, refused connections, and a client carried from one event loop to the next."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import gc
import ipaddress
import ssl
import threading
import time
import traceback
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import anyio
import pytest
from aiohttp import web
from yarl import URL

from aiopinterest import Client, RetryPolicy

# A unit test below drives this internal helper: a URL in aiohttp's own messages has no public entry.
from aiopinterest._transport.redact import redact_exception_chain
from aiopinterest.errors import (
    ClientClosedError,
    ConnectError,
    PinterestError,
    RateLimitError,
    TransportError,
)
from aiopinterest.models import AdAccount, Pin

from .conftest import AD_ACCOUNT, PIN, ApiServer, FakeClock, MakeClient, json_ad_account, json_pin

TOKEN = "secret-bearer-0123456789"
APP_ID, APP_SECRET, REFRESH = "app-1", "app-secret-abcdef", "refresh-secret-98765"
SECRETS = (TOKEN, APP_SECRET, REFRESH, base64.b64encode(f"{APP_ID}:{APP_SECRET}".encode()).decode())


async def get_pin(client: Client) -> Pin:
    return await client.pins.get(pin_id="1")


def hang_requests(server: ApiServer, *, until_arrived: int) -> anyio.Event:
    """Make the pin route hang until the test ends; the event is set once ``until_arrived`` requests are in."""
    arrived = anyio.Event()

    async def hang(request: web.Request) -> web.Response:
        if len(server.requests) >= until_arrived:
            arrived.set()
        await server.stalled()
        return await json_pin(request)

    server.route("GET", PIN, hang)
    return arrived


async def test_a_closed_client_raises_client_closed_error_and_sends_nothing(
    server: ApiServer, make_client: MakeClient
) -> None:
    server.route("GET", PIN, json_pin)
    client = await make_client()
    await get_pin(client)
    await client.close()

    with pytest.raises(ClientClosedError, match="Client is closed") as caught:
        await get_pin(client)
    assert isinstance(caught.value, PinterestError)
    assert server.hits == {"/v5/pins/1": 1}


async def test_close_fails_every_call_in_flight_promptly_and_retries_none(
    server: ApiServer, make_client: MakeClient
) -> None:
    ten_arrived = hang_requests(server, until_arrived=10)
    # Ten calls reach the server, ten wait for a concurrency slot.
    client = await make_client(max_concurrency=10)
    outcomes: list[BaseException | Pin] = []

    async def call() -> None:
        try:
            outcomes.append(await get_pin(client))
        except Exception as error:
            outcomes.append(error)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            for _ in range(20):
                group.start_soon(call)
            await ten_arrived.wait()
            await client.close()

    assert len(outcomes) == 20
    assert all(isinstance(outcome, ClientClosedError) for outcome in outcomes), outcomes
    assert server.hits == {"/v5/pins/1": 10}  # nothing retried, nothing sent after close()


async def test_close_ends_a_call_waiting_to_retry(server: ApiServer, make_client: MakeClient) -> None:
    async def unavailable(request: web.Request) -> web.Response:
        return web.json_response({"code": 1, "message": "try later"}, status=503)

    server.route("GET", PIN, unavailable)
    clock = FakeClock(auto_advance=False)
    client = await make_client(clock=clock)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            failures: list[BaseException] = []

            async def call() -> None:
                with pytest.raises(ClientClosedError) as caught:
                    await get_pin(client)
                failures.append(caught.value)

            group.start_soon(call)
            await clock.until_sleeping(1)  # the backoff after the first 503
            await client.close()
    assert len(failures) == 1
    assert server.hits == {"/v5/pins/1": 1}


async def test_close_ends_calls_waiting_out_a_rate_limit(server: ApiServer, make_client: MakeClient) -> None:
    async def limited(request: web.Request) -> web.Response:
        return web.json_response(
            {"code": 8, "message": "slow down"}, status=429, headers={"Retry-After": "60"}
        )

    server.route("GET", PIN, limited)
    clock = FakeClock(auto_advance=False)
    client = await make_client(clock=clock)
    failures: list[BaseException] = []

    async def call() -> None:
        with pytest.raises(ClientClosedError) as caught:
            await get_pin(client)
        failures.append(caught.value)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(call)
            group.start_soon(call)
            with anyio.fail_after(2):
                while not server.requests:  # the governor spaces the first sends: let its time pass
                    await clock.advance(1.0)
                while not any(seconds >= 59 for seconds in clock.sleeps):  # the 429's block of a minute
                    await clock.advance(0.0)
            sent = len(server.requests)
            await client.close()
    assert len(failures) == 2
    assert len(server.requests) == sent  # nothing retried once closed


async def test_close_as_the_first_call_begins_still_closes_the_session(
    server: ApiServer, make_client: MakeClient
) -> None:
    server.route("GET", PIN, json_pin)
    client = await make_client()
    call = asyncio.create_task(get_pin(client))
    await asyncio.sleep(0)  # the call has made the session, and the task that closes it has not run yet

    await client.close()
    with pytest.raises(ClientClosedError):
        await call
    # An aiohttp session dropped unclosed warns as it is collected; warnings are errors.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del client, call
        gc.collect()
    assert [str(warning.message) for warning in caught] == []


async def test_a_callers_own_cancellation_still_cancels_after_close(
    server: ApiServer, make_client: MakeClient
) -> None:
    arrived = hang_requests(server, until_arrived=1)
    client = await make_client()

    async def caller() -> None:
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as group:
                group.start_soon(get_pin, client)
                await arrived.wait()
                scope.cancel()  # the caller gives up, then the client closes: the call must not become an error
                await client.close()
        assert scope.cancelled_caught

    with anyio.fail_after(5):
        await caller()


async def test_a_session_closed_by_its_owner_raises_client_closed_error(
    server: ApiServer, make_client: MakeClient
) -> None:
    server.route("GET", PIN, json_pin)
    session = aiohttp.ClientSession()
    client = await make_client(session=session)
    assert await get_pin(client) == Pin(id="1", title="ok")
    await session.close()

    with pytest.raises(ClientClosedError, match="aiohttp session is closed"):
        await get_pin(client)


@pytest.fixture
async def garbled_server() -> AsyncIterator[str]:
    """A server answering every request with a response aiohttp cannot parse; yields its base URL."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: twelve\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/v5"
    server.close()
    await server.wait_closed()


def every_text_of(error: BaseException) -> list[str]:
    """What a user, a log or an error tracker may show of an exception: its text and repr, the whole
    formatted traceback, and the repr of every exception in its cause and context chain."""
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    pending, seen = [error], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        texts += [str(current), repr(current), repr(current.args), repr(vars(current))]
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]
    return texts


async def test_an_unparseable_response_raises_an_error_with_no_bearer_token(
    garbled_server: str, clock: FakeClock
) -> None:
    async with Client(TOKEN, base_url=garbled_server, clock=clock) as client:
        with pytest.raises(TransportError) as caught:
            await get_pin(client)

    cause = caught.value.__cause__
    assert isinstance(cause, aiohttp.ClientResponseError)  # the type is kept for those who look
    assert "REDACTED" in repr(cause)
    for text in every_text_of(caught.value):
        assert TOKEN not in text


async def test_an_unparseable_token_response_raises_an_error_with_no_app_secret(
    garbled_server: str, clock: FakeClock
) -> None:
    async with Client(
        base_url=garbled_server, app_id=APP_ID, app_secret=APP_SECRET, refresh_token=REFRESH, clock=clock
    ) as client:
        with pytest.raises(TransportError) as caught:
            await get_pin(client)

    for text in every_text_of(caught.value):
        for secret in SECRETS:
            assert secret not in text


def test_urls_with_signatures_are_redacted_in_aiohttp_messages() -> None:
    url = URL("https://bucket.s3.amazonaws.com/report.csv?X-Amz-Signature=deadbeef&part=1")
    error = aiohttp.ConnectionTimeoutError(f"Connection timeout to host {url}")

    redact_exception_chain(error, url)

    assert "deadbeef" not in str(error)
    assert "X-Amz-Signature=REDACTED&part=1" in str(error)


async def test_a_refused_connection_retried_to_exhaustion_is_reported_as_a_connection_failure(
    clock: FakeClock, refused_port: int
) -> None:
    async with Client(TOKEN, base_url=f"http://127.0.0.1:{refused_port}/v5", clock=clock) as client:
        with pytest.raises(ConnectError, match=r"Cannot connect .* \(after 5 attempts\)") as caught:
            await get_pin(client)
    assert caught.value.attempts == 5


async def test_a_refused_connection_is_reported_as_such_when_the_next_retry_would_pass_the_timeout(
    clock: FakeClock, refused_port: int
) -> None:
    # Backoff 0.25 s after the first attempt (the default policy with jitter 0.5): more than the call has left.
    retry = RetryPolicy(jitter=lambda: 0.5)
    base_url = f"http://127.0.0.1:{refused_port}/v5"
    async with Client(TOKEN, base_url=base_url, clock=clock, timeout=0.2, retry=retry) as client:
        with pytest.raises(ConnectError, match="Cannot connect") as caught:
            await get_pin(client)
    assert caught.value.attempts == 1
    assert clock.sleeps == []  # no pointless wait before failing


async def test_a_rate_limit_wait_longer_than_the_timeout_gives_up_at_once_with_the_429(
    server: ApiServer, make_client: MakeClient, clock: FakeClock
) -> None:
    async def limited(request: web.Request) -> web.Response:
        return web.json_response(
            {"code": 8, "message": "slow down"}, status=429, headers={"Retry-After": "60"}
        )

    server.route("GET", PIN, limited)
    client = await make_client(timeout=30)

    with pytest.raises(RateLimitError) as caught:
        await get_pin(client)
    assert (caught.value.retry_after, caught.value.attempts) == (60, 1)
    assert server.hits == {"/v5/pins/1": 1}


class ThreadedServer:
    """An API server on a loop of its own thread: ``pins.get`` answers, ``ad_accounts.get`` answers a 429 first."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.requests: list[web.Request] = []
        #: The client address of each request's connection.
        self.peers: list[tuple[str, int]] = []
        self.base_url = ""

    async def pin(self, request: web.Request) -> web.Response:
        self.requests.append(request)
        assert request.transport is not None
        self.peers.append(request.transport.get_extra_info("peername"))
        return await json_pin(request)

    async def limited_at_first(self, request: web.Request) -> web.Response:
        self.requests.append(request)
        if len(self.requests) == 1:
            return web.json_response({"code": 8}, status=429, headers={"Retry-After": "30"})
        return await json_ad_account(request)

    def wait_until_disconnected(self, request: web.Request) -> bool:
        """Whether the server sees ``request``'s connection closed by the client, within 5 s of real time."""
        deadline = time.monotonic() + 5
        while request.transport is not None and time.monotonic() < deadline:
            time.sleep(0.005)
        return request.transport is None


@contextlib.contextmanager
def serving_in_a_thread(tls: ssl.SSLContext | None = None) -> Iterator[ThreadedServer]:
    """A ThreadedServer running, over TLS with ``tls``, outliving the event loops of the test."""
    server = ThreadedServer()
    loop = server.loop
    app = web.Application()
    app.router.add_get(PIN, server.pin)
    app.router.add_get(AD_ACCOUNT, server.limited_at_first)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    loop.run_until_complete(site.start())
    server.base_url = f"{'https' if tls else 'http'}://127.0.0.1:{runner.addresses[0][1]}/v5"
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield server
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)
    loop.close()


@pytest.fixture
def threaded_server() -> Iterator[ThreadedServer]:
    with serving_in_a_thread() as server:
        yield server


@pytest.fixture
def threaded_tls_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadedServer]:
    """The same over TLS, with a certificate for 127.0.0.1 that the client's connections trust."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert_file, key_file)
    # The context aiohttp verifies servers with by default (private: it has no public seam), here one that
    # trusts this certificate alone.
    monkeypatch.setattr(
        aiohttp.connector, "_SSL_CONTEXT_VERIFIED", ssl.create_default_context(cafile=cert_file)
    )
    with serving_in_a_thread(server_side) as server:
        yield server


def test_a_client_works_across_successive_asyncio_runs(threaded_server: ThreadedServer) -> None:
    client = Client(TOKEN, base_url=threaded_server.base_url)

    assert asyncio.run(get_pin(client)) == Pin(id="1", title="ok")
    assert asyncio.run(get_pin(client)) == Pin(id="1", title="ok")

    first, second = threaded_server.requests
    # A session per loop: each run connected afresh, and its connection closed as its loop ended.
    assert len(set(threaded_server.peers)) == 2
    assert threaded_server.wait_until_disconnected(first)
    assert threaded_server.wait_until_disconnected(second)
    gc.collect()  # with warnings as errors, a leaked session or socket would fail here

    async def close() -> None:
        await client.close()
        with pytest.raises(ClientClosedError):
            await get_pin(client)

    asyncio.run(close())


def test_a_rate_limit_wait_cut_short_by_the_end_of_a_loop_does_not_stall_the_next_loop(
    threaded_server: ThreadedServer,
) -> None:
    clock = FakeClock(auto_advance=False)
    client = Client(TOKEN, base_url=threaded_server.base_url, clock=clock)

    async def first_run() -> None:
        call = asyncio.create_task(client.ad_accounts.get(ad_account_id="1"))
        with anyio.fail_after(5):
            while not any(seconds >= 29 for seconds in clock.sleeps):  # blocked by the 429 for 30 s
                await clock.advance(0.0)
        assert not call.done()  # and the loop ends, cancelling it with the governor's wake-up

    async def second_run() -> AdAccount:
        clock.auto_advance = True
        with anyio.fail_after(5):
            return await client.ad_accounts.get(ad_account_id="1")

    asyncio.run(first_run())
    assert asyncio.run(second_run()) == AdAccount(id="1", name="ok")
    asyncio.run(client.close())


def test_a_session_given_on_an_ended_loop_raises_client_closed_error(threaded_server: ThreadedServer) -> None:
    async def make() -> tuple[Client, aiohttp.ClientSession]:
        session = aiohttp.ClientSession()
        return Client(TOKEN, base_url=threaded_server.base_url, session=session), session

    client, session = asyncio.run(make())

    async def use() -> None:
        with pytest.raises(ClientClosedError, match="event loop"):
            await get_pin(client)

    asyncio.run(use())
    assert threaded_server.requests == []
    asyncio.run(session.close())  # the caller's session, the caller's to close


@pytest.mark.parametrize("then", ["used and closed", "used and dropped", "closed", "dropped"])
@pytest.mark.parametrize("served_by", ["threaded_server", "threaded_tls_server"])
def test_a_client_whose_loop_was_closed_by_hand_lets_its_session_go_quietly_and_works_on_the_next_loop(
    served_by: str, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture, then: str
) -> None:
    server: ThreadedServer = request.getfixturevalue(served_by)
    client = Client(TOKEN, base_url=server.base_url)
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(client.pins.get(pin_id="1")).id == "1"
    finally:
        # By hand: nothing shuts down the tasks left on it (asyncio.run would), the session's among them.
        loop.close()
    first = server.requests[0]
    assert first.transport is not None  # its keep-alive connection still open, on a closed loop

    if then.startswith("used"):
        assert asyncio.run(client.pins.get(pin_id="2")).id == "2"
        assert server.peers[1] != server.peers[0]  # on a connection of the new loop's session
        assert server.wait_until_disconnected(first)
    if then.endswith("closed"):
        asyncio.run(client.close())
    del client, loop
    # With warnings as errors, an unclosed session, connector, transport or socket left behind fails here.
    gc.collect()
    assert server.wait_until_disconnected(first)
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []
