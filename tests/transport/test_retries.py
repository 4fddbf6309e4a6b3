"""Retries: every 429 header form, 5xx, connection failures, resets mid-body, timeouts; and their limits."""

from __future__ import annotations

import email.utils
import errno
from collections.abc import Awaitable, Callable, Iterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractStreamWriter

from aiopinterest import RequestOptions, RetryPolicy, Timeout
from aiopinterest.errors import (
    ConnectError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    TransportError,
)
from aiopinterest.models import Pin

from .conftest import PIN, SAVE, ApiServer, FakeClock, MakeClient, json_pin


def failing_then_ok(*failures: web.Response) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A handler answering with ``failures`` in turn, then 200 with a Pin."""
    pending: Iterator[web.Response] = iter(failures)

    async def handler(request: web.Request) -> web.Response:
        response = next(pending, None)
        return response if response is not None else await json_pin(request)

    return handler


def error(status: int, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"code": status, "message": "try later"}, status=status, headers=headers)


@pytest.mark.parametrize(
    ("headers", "expected_wait"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": "HTTP-DATE+12"}, 12.0),
        ({"X-RateLimit-Reset": "9"}, 9.0),
        ({"X-RateLimit-Reset": "EPOCH+15"}, 15.0),
        ({"Retry-After": "4", "X-RateLimit-Reset": "30"}, 4.0),
        ({}, 0.25),  # no hint: full-jitter backoff, base 0.5 * 2**0 * jitter 0.5
    ],
    ids=[
        "retry-after-seconds",
        "retry-after-http-date",
        "reset-seconds",
        "reset-epoch",
        "retry-after-wins",
        "backoff",
    ],
)
async def test_429_waits_as_the_server_says_then_succeeds(
    server: ApiServer,
    make_client: MakeClient,
    clock: FakeClock,
    headers: dict[str, str],
    expected_wait: float,
) -> None:
    resolved = {}
    for name, value in headers.items():
        if value.startswith("HTTP-DATE+"):
            value = email.utils.formatdate(
                clock.time() + float(value.removeprefix("HTTP-DATE+")), usegmt=True
            )
        elif value.startswith("EPOCH+"):
            value = str(int(clock.time() + float(value.removeprefix("EPOCH+"))))
        resolved[name] = value
    server.route("GET", PIN, failing_then_ok(error(429, resolved)))
    client = await make_client()

    item = await client.pins.get(pin_id="1")

    assert item == Pin(id="1", title="ok")
    assert server.hits["/v5/pins/1"] == 2
    assert clock.sleeps == [pytest.approx(expected_wait, abs=1.0)]
    counters = client.metrics["org_read"]
    assert (counters.requests, counters.retries, counters.rate_limited) == (2, 1, 1)
    assert counters.gate_wait == pytest.approx(expected_wait, abs=1.0)


async def test_429_is_retried_for_post_too(server: ApiServer, make_client: MakeClient) -> None:
    server.route("POST", SAVE, failing_then_ok(error(429, {"Retry-After": "1"})))
    client = await make_client()

    assert await client.pins.save(pin_id="1", board_id="9") == Pin(id="1", title="ok")
    assert server.hits["/v5/pins/1/save"] == 2


async def test_429_until_attempts_run_out_raises_rate_limit_error(
    server: ApiServer, make_client: MakeClient
) -> None:
    async def always_429(request: web.Request) -> web.Response:
        return error(429, {"Retry-After": "2", "x-request-id": "req-9"})

    server.route("GET", PIN, always_429)
    client = await make_client(retry=RetryPolicy(max_attempts=3, jitter=lambda: 0.5))

    with pytest.raises(RateLimitError) as caught:
        await client.pins.get(pin_id="1")

    assert server.hits["/v5/pins/1"] == 3
    error_ = caught.value
    assert (error_.status, error_.attempts, error_.retry_after, error_.request_id) == (429, 3, 2.0, "req-9")
    assert error_.message == "try later" and error_.code == 429
    assert b"try later" in error_.body
    assert "after 3 attempts" in str(error_)


async def test_a_wait_beyond_max_wait_gives_up_at_once(server: ApiServer, make_client: MakeClient) -> None:
    server.route("GET", PIN, failing_then_ok(error(429, {"Retry-After": "3600"})))
    client = await make_client(retry=RetryPolicy(max_wait=60))

    with pytest.raises(RateLimitError) as caught:
        await client.pins.get(pin_id="1")

    assert caught.value.attempts == 1 and caught.value.retry_after == 3600
    assert server.hits["/v5/pins/1"] == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_5xx_then_success_for_get(
    server: ApiServer, make_client: MakeClient, clock: FakeClock, status: int
) -> None:
    server.route("GET", PIN, failing_then_ok(error(status), error(status)))
    client = await make_client()

    assert await client.pins.get(pin_id="1") == Pin(id="1", title="ok")

    assert server.hits["/v5/pins/1"] == 3
    assert clock.sleeps == [0.25, 0.5]  # full-jitter backoff with jitter pinned to 0.5
    counters = client.metrics["org_read"]
    assert (counters.server_errors, counters.retries, counters.backoff_wait) == (2, 2, 0.75)


async def test_503_honours_retry_after(server: ApiServer, make_client: MakeClient, clock: FakeClock) -> None:
    server.route("GET", PIN, failing_then_ok(error(503, {"Retry-After": "5"})))
    client = await make_client()

    await client.pins.get(pin_id="1")

    assert clock.sleeps == [5.0]


async def test_5xx_exhaustion_reports_attempts_and_last_response(
    server: ApiServer, make_client: MakeClient
) -> None:
    async def always_500(request: web.Request) -> web.Response:
        return web.Response(status=500, text="<html>upstream exploded</html>", content_type="text/html")

    server.route("GET", PIN, always_500)
    client = await make_client(retry=RetryPolicy(max_attempts=4, jitter=lambda: 0.5))

    with pytest.raises(ServerError) as caught:
        await client.pins.get(pin_id="1")

    assert caught.value.attempts == 4 and server.hits["/v5/pins/1"] == 4
    assert caught.value.status == 500 and caught.value.code is None
    message = str(caught.value)
    assert "500 on GET" in message and "upstream exploded" in message and "after 4 attempts" in message


async def test_post_is_not_retried_on_500(server: ApiServer, make_client: MakeClient) -> None:
    server.route("POST", SAVE, failing_then_ok(error(500)))
    client = await make_client()

    with pytest.raises(ServerError) as caught:
        await client.pins.save(pin_id="1", board_id="9")

    assert caught.value.attempts == 1
    assert server.hits["/v5/pins/1/save"] == 1


async def test_post_is_retried_on_500_when_the_policy_opts_in(
    server: ApiServer, make_client: MakeClient
) -> None:
    server.route("POST", SAVE, failing_then_ok(error(500)))
    client = await make_client(retry=RetryPolicy(retry_non_idempotent=True, jitter=lambda: 0.5))

    assert await client.pins.save(pin_id="1", board_id="9") == Pin(id="1", title="ok")
    assert server.hits["/v5/pins/1/save"] == 2


async def test_disabled_policy_never_retries(server: ApiServer, make_client: MakeClient) -> None:
    server.route("GET", PIN, failing_then_ok(error(503)))
    client = await make_client(retry=RetryPolicy.disabled())

    with pytest.raises(ServerError):
        await client.pins.get(pin_id="1")
    assert server.hits["/v5/pins/1"] == 1


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_connect_failure_is_retried_for_every_method(
    make_client: MakeClient, clock: FakeClock, refused_port: int, method: str
) -> None:
    client = await make_client(
        base_url=f"http://127.0.0.1:{refused_port}/v5",
        retry=RetryPolicy(max_attempts=3, jitter=lambda: 0.5),
    )

    with pytest.raises(ConnectError) as caught:
        if method == "GET":
            await client.pins.get(pin_id="1")
        else:
            await client.pins.save(pin_id="1", board_id="9")

    assert caught.value.attempts == 3
    assert "after 3 attempts" in str(caught.value)
    assert client.metrics.total().transport_errors == 3
    assert clock.sleeps == [0.25, 0.5]


def _reset_mid_body_then_ok(server: ApiServer) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        if server.hits[request.path] > 1:
            return await json_pin(request)
        response = web.StreamResponse(headers={"Content-Type": "application/json", "Content-Length": "1000"})
        await response.prepare(request)
        await response.write(b'{"id": "1", "ti')
        assert request.transport is not None
        request.transport.abort()
        return response

    return handler


async def test_connection_reset_mid_body_is_retried_for_get(
    server: ApiServer, make_client: MakeClient
) -> None:
    server.route("GET", PIN, _reset_mid_body_then_ok(server))
    client = await make_client()

    assert await client.pins.get(pin_id="1") == Pin(id="1", title="ok")
    assert server.hits["/v5/pins/1"] == 2
    assert client.metrics["org_read"].transport_errors == 1


async def test_connection_reset_mid_body_is_not_retried_for_post(
    server: ApiServer, make_client: MakeClient
) -> None:
    server.route("POST", SAVE, _reset_mid_body_then_ok(server))
    client = await make_client()

    with pytest.raises(TransportError) as caught:
        await client.pins.save(pin_id="1", board_id="9")

    assert not isinstance(caught.value, ConnectError)
    assert caught.value.attempts == 1 and server.hits["/v5/pins/1/save"] == 1


async def test_a_stalled_attempt_is_abandoned_and_retried_for_get(
    server: ApiServer, make_client: MakeClient
) -> None:
    async def slow_first(request: web.Request) -> web.StreamResponse:
        if server.hits[request.path] == 1:
            await server.stalled()
        return await json_pin(request)

    server.route("GET", PIN, slow_first)
    client = await make_client(timeout=Timeout(attempt=0.05))

    assert await client.pins.get(pin_id="1") == Pin(id="1", title="ok")
    assert server.hits["/v5/pins/1"] == 2


async def test_read_timeout_exhaustion_raises_request_timeout_error(
    server: ApiServer, make_client: MakeClient
) -> None:
    async def stalled(request: web.Request) -> web.StreamResponse:
        await server.stalled()
        return await json_pin(request)

    server.route("GET", PIN, stalled)
    client = await make_client(
        timeout=Timeout(read=0.02), retry=RetryPolicy(max_attempts=2, jitter=lambda: 0.0)
    )

    with pytest.raises(RequestTimeoutError) as caught:
        await client.pins.get(pin_id="1")
    assert caught.value.attempts == 2
    assert isinstance(caught.value, TimeoutError)
    assert "within its" not in str(caught.value)  # a read timeout, not the call's total


async def test_total_timeout_bounds_the_whole_call(server: ApiServer, make_client: MakeClient) -> None:
    async def stalled(request: web.Request) -> web.StreamResponse:
        await server.stalled()
        return await json_pin(request)

    server.route("GET", PIN, stalled)
    client = await make_client(timeout=Timeout(total=60, read=None))

    with pytest.raises(RequestTimeoutError, match=r"within its 0\.05 s timeout"):
        await client.pins.get(pin_id="1", options=RequestOptions(timeout=0.05))


class FailingPayload(aiohttp.payload.Payload):
    """A request body whose own code fails after the first bytes, as a broken source file or callback would."""

    def __init__(self, failure: Exception) -> None:
        super().__init__(b"", content_type="application/octet-stream")
        self._size = 1000
        self._failure = failure

    async def write(self, writer: AbstractStreamWriter) -> None:
        await writer.write(b"first bytes")
        raise self._failure

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("not text")


@pytest.mark.parametrize(
    "failure",
    [ValueError("progress callback failed"), OSError(errno.EIO, "Input/output error")],
    ids=["callback", "source-read"],
)
async def test_a_failure_inside_the_body_writer_is_raised_as_itself_and_not_retried(
    server: ApiServer, make_client: MakeClient, failure: Exception
) -> None:
    async def upload(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=204)

    server.route("POST", "/upload", upload)
    client = await make_client()

    with pytest.raises(type(failure)) as caught:
        # replay_safe: even a request the policy would replay after a lost connection is not retried.
        await client.request(
            "POST", str(server.url("/upload")), body=lambda: FailingPayload(failure), replay_safe=True
        )

    assert caught.value is failure
    assert server.hits.get("/upload", 0) <= 1
    counters = client.metrics["external"]
    assert (counters.requests, counters.retries, counters.transport_errors) == (1, 0, 0)


async def test_a_per_call_retry_policy_replaces_the_clients(
    server: ApiServer, make_client: MakeClient
) -> None:
    server.route("GET", PIN, failing_then_ok(error(503)))
    server.route("POST", SAVE, failing_then_ok(error(500)))
    client = await make_client()
    never = RequestOptions(retry=RetryPolicy.disabled())
    replay_posts = RequestOptions(retry=RetryPolicy(retry_non_idempotent=True, jitter=lambda: 0.0))

    with pytest.raises(ServerError):
        await client.pins.get(pin_id="1", options=never)
    assert server.hits["/v5/pins/1"] == 1
    assert await client.pins.save(pin_id="2", board_id="9", options=replay_posts) == Pin(id="2", title="ok")
    assert server.hits["/v5/pins/2/save"] == 2
