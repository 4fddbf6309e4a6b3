"""The client: pre-flight checks, typed errors, decoding, per-call options, hooks, metrics, lifecycle, proxies."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable
from functools import partial

import aiohttp
import anyio
import pytest
from aiohttp import web

from aiopinterest import Client, RawResponse, RequestEvent, RequestOptions, ResponseEvent, RetryPolicy
from aiopinterest.errors import (
    APIError,
    BadRequestError,
    ConflictError,
    MissingScopeError,
    NotFoundError,
    PermissionDeniedError,
    RequestValidationError,
    ResponseValidationError,
    SandboxUnsupportedError,
    ServerError,
    UnprocessableEntityError,
)
from aiopinterest.models import Pin

from .conftest import PIN, SAVE, ApiServer, FakeClock, MakeClient, json_pin


def test_base_url_follows_sandbox() -> None:
    assert Client("t").base_url == "https://api.pinterest.com/v5"
    assert Client("t", sandbox=True).base_url == "https://api-sandbox.pinterest.com/v5"
    assert Client("t", base_url="http://localhost:1/v5/").base_url == "http://localhost:1/v5"


@pytest.mark.parametrize("prefix", ["", "/", "/v5", "/v5/", "/api/v5"])
async def test_operation_urls_join_the_base_url_path(
    server: ApiServer, make_client: MakeClient, prefix: str
) -> None:
    seen: list[str] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(str(request.rel_url))
        return web.json_response({"id": request.match_info["id"]})

    # integrations.get_by_id: a path parameter with no pattern, so any text goes, encoded.
    route = prefix.rstrip("/") + "/integrations/{id}"
    server.route("GET", route, record)
    await server.start()
    client = await make_client(base_url=server.origin + prefix)
    await client.integrations.get_by_id(id="a b/c", options=RequestOptions(query={"q": "x&y"}))
    assert seen == [prefix.rstrip("/") + "/integrations/a%20b%2Fc?q=x%26y"]


async def test_sandbox_client_refuses_operations_disabled_in_sandbox(
    server: ApiServer, make_client: MakeClient
) -> None:
    server.route("GET", PIN, json_pin)
    client = await make_client(sandbox=True)

    with pytest.raises(SandboxUnsupportedError, match=r"audiences\.get .*x-sandbox: disabled"):
        await client.audiences.get(ad_account_id="1", audience_id="2")
    assert server.hits == {}
    assert await client.pins.get(pin_id="1") == Pin(id="1", title="ok")


async def test_invalid_arguments_fail_before_sending(server: ApiServer, make_client: MakeClient) -> None:
    server.route("GET", PIN, json_pin)
    client = await make_client()

    with pytest.raises(RequestValidationError, match="pin_id"):
        await client.pins.get(pin_id="not-a-number")  # the spec's pattern: digits
    assert server.hits == {}


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, BadRequestError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (418, APIError),
        (501, ServerError),
    ],
)
async def test_error_statuses_raise_typed_errors(
    server: ApiServer, make_client: MakeClient, status: int, error_type: type[APIError]
) -> None:
    async def failing(request: web.Request) -> web.Response:
        return web.json_response(
            {"code": 3, "message": "Pin not found."}, status=status, headers={"x-request-id": "abc123"}
        )

    server.route("GET", PIN, failing)
    client = await make_client()

    with pytest.raises(error_type) as caught:
        await client.pins.get(pin_id="1")

    error = caught.value
    assert type(error) is error_type
    assert (error.status, error.code, error.message, error.request_id) == (
        status,
        3,
        "Pin not found.",
        "abc123",
    )
    assert error.method == "GET" and error.url == f"{server.base_url}/pins/1"
    assert (
        str(error) == f"{status} on GET {server.base_url}/pins/1: Pin not found.; code 3; x-request-id abc123"
    )


async def test_non_json_error_body_gives_status_and_snippet(
    server: ApiServer, make_client: MakeClient
) -> None:
    async def proxy_page(request: web.Request) -> web.Response:
        return web.Response(
            status=502, text="<html><h1>502 Bad Gateway</h1>" + "x" * 1000, content_type="text/html"
        )

    server.route("POST", SAVE, proxy_page)
    client = await make_client()

    with pytest.raises(ServerError) as caught:
        await client.pins.save(pin_id="1", board_id="9")
    message = str(caught.value)
    assert message.startswith("502 on POST") and "<h1>502 Bad Gateway</h1>" in message
    assert len(message) < 400 and caught.value.code is None


async def test_invalid_2xx_body_names_the_bad_field(server: ApiServer, make_client: MakeClient) -> None:
    async def bad_pin(request: web.Request) -> web.Response:
        return web.json_response({"id": "1", "media": {"media_type": "image", "images": 7}})

    server.route("GET", PIN, bad_pin)
    client = await make_client()

    with pytest.raises(ResponseValidationError) as caught:
        await client.pins.get(pin_id="1")
    assert caught.value.field is not None and caught.value.field.startswith("$.media")
    assert caught.value.status == 200


async def test_2xx_body_that_is_not_json(server: ApiServer, make_client: MakeClient) -> None:
    async def html(request: web.Request) -> web.Response:
        return web.Response(text="<html>maintenance</html>", content_type="text/html")

    server.route("GET", PIN, html)
    client = await make_client()

    with pytest.raises(ResponseValidationError, match=r"not valid JSON.*maintenance"):
        await client.pins.get(pin_id="1")


async def test_no_body_expected_returns_none(server: ApiServer, make_client: MakeClient) -> None:
    async def deleted(request: web.Request) -> web.Response:
        return web.Response(status=204)

    server.route("DELETE", PIN, deleted)
    client = await make_client()

    result: object = await client.pins.delete(pin_id="1")
    assert result is None


async def test_per_call_options(server: ApiServer, make_client: MakeClient) -> None:
    async def echo(request: web.Request) -> web.Response:
        return web.json_response(
            {"id": request.query.get("extra", "-"), "title": request.headers.get("X-Trace", "-")},
            headers={"x-request-id": "r-1"},
        )

    server.route("GET", PIN, echo)
    client = await make_client()
    raw = RawResponse()

    item = await client.pins.get(
        pin_id="1",
        options=RequestOptions(headers={"X-Trace": "t-9"}, query={"extra": "q"}, capture=raw, timeout=5),
    )

    assert item == Pin(id="q", title="t-9")
    assert raw.status == 200 and raw.headers["X-Request-Id"] == "r-1"
    assert raw.content.replace(b" ", b"") == b'{"id":"q","title":"t-9"}'
    assert raw.url.endswith("/v5/pins/1?extra=q")


async def test_capture_receives_error_responses_too(server: ApiServer, make_client: MakeClient) -> None:
    async def missing(request: web.Request) -> web.Response:
        return web.json_response({"code": 3, "message": "nope"}, status=404)

    server.route("GET", PIN, missing)
    client = await make_client()
    raw = RawResponse()

    with pytest.raises(NotFoundError):
        await client.pins.get(pin_id="1", options=RequestOptions(capture=raw))
    assert raw.status == 404 and b"nope" in raw.content


async def test_authorization_cannot_be_overridden_per_call(
    server: ApiServer, make_client: MakeClient
) -> None:
    client = await make_client()
    with pytest.raises(RequestValidationError, match="Authorization"):
        await client.pins.get(pin_id="1", options=RequestOptions(headers={"authorization": "Bearer x"}))


async def test_hooks_see_every_attempt_and_may_add_headers(
    server: ApiServer, make_client: MakeClient
) -> None:
    attempts: list[str | None] = []

    async def flaky(request: web.Request) -> web.Response:
        attempts.append(request.headers.get("traceparent"))
        if len(attempts) == 1:
            return web.json_response({"code": 1, "message": "busy"}, status=503)
        return await json_pin(request)

    server.route("GET", PIN, flaky)
    seen: list[RequestEvent] = []
    outcomes: list[ResponseEvent] = []

    async def trace(event: RequestEvent) -> None:
        event.headers["traceparent"] = f"00-trace-{event.attempt}"
        seen.append(event)

    client = await make_client(on_request=trace)
    client.hooks.response.append(outcomes.append)

    await client.pins.get(pin_id="1")

    assert attempts == ["00-trace-1", "00-trace-2"]
    assert [(e.method, e.category, e.operation_id, e.attempt) for e in seen] == [
        ("GET", "org_read", "pins/get", 1),
        ("GET", "org_read", "pins/get", 2),
    ]
    assert all("Authorization" not in e.headers for e in seen)
    assert [o.status for o in outcomes] == [503, 200]
    assert outcomes[1].bytes_received > 0 and outcomes[1].elapsed >= 0


async def test_metrics_count_bytes_and_sum_categories(server: ApiServer, make_client: MakeClient) -> None:
    bodies: list[bytes] = []

    async def save(request: web.Request) -> web.Response:
        bodies.append(await request.read())
        return await json_pin(request)

    server.route("GET", PIN, json_pin)
    server.route("POST", SAVE, save)
    client = await make_client()

    await client.pins.get(pin_id="1")
    before = client.metrics.snapshot()
    await client.pins.save(pin_id="1", board_id="9")

    [sent] = bodies
    assert sent == b'{"board_id":"9"}'
    assert client.metrics["org_write"].bytes_sent == len(sent)
    assert client.metrics["org_read"].bytes_received > 0
    assert before["org_read"].requests == 1 and "org_write" not in before
    total = client.metrics.total()
    assert total.requests == 2 and total.bytes_sent == len(sent)
    assert set(client.metrics) == {"org_read", "org_write"}
    # Reading a category never used raises, and does not make it appear.
    with pytest.raises(KeyError):
        client.metrics["ads_read"]
    assert "ads_read" not in client.metrics and len(client.metrics) == 2


async def test_raw_request_to_an_operation_path_is_paced_and_checked_as_that_operation(
    server: ApiServer, make_client: MakeClient
) -> None:
    authorizations: list[str | None] = []

    async def pin(request: web.Request) -> web.Response:
        authorizations.append(request.headers.get("Authorization"))
        return await json_pin(request)

    server.route("GET", "/v5/pins/{pin_id}", pin)
    server.route("GET", "/v5/pins/analytics", pin)
    server.route("GET", "/v5/beta/things", pin)
    calls: list[tuple[str, str | None]] = []
    client = await make_client(scopes={"pins:read", "boards:read"})
    client.hooks.call_start.append(lambda event: calls.append((event.category, event.operation_id)))

    response = await client.request("GET", "/pins/7", query={"ad_account_id": "1"})
    assert response.status == 200 and b'"7"' in response.content
    await client.request("GET", "/pins/analytics")
    await client.request("GET", f"{server.base_url}/beta/things")
    await client.request("GET", "/beta/things", category="org_read")

    # The token goes to the API origin by default; the category and scopes are those of the operation there.
    assert authorizations == ["Bearer test-access-token"] * 4
    assert calls == [
        ("org_read", "pins/get"),
        ("org_analytics", "multi_pins/analytics"),
        ("external", None),
        ("org_read", None),
    ]
    with pytest.raises(MissingScopeError, match="pins/create"):
        await client.request("POST", "/pins", body=b"{}")
    assert len(authorizations) == 4


async def test_raw_response_repr_keeps_the_signature_out(server: ApiServer, make_client: MakeClient) -> None:
    async def report(request: web.Request) -> web.Response:
        return web.Response(text="a,b")

    server.route("GET", "/report.csv", report)
    client = await make_client()
    response = await client.request("GET", str(server.url("/report.csv?X-Amz-Signature=s3cr3t")))
    assert response.url.query["X-Amz-Signature"] == "s3cr3t"
    assert "s3cr3t" not in repr(response) and "<3 bytes>" in repr(response)


async def test_raw_request_can_return_error_statuses(server: ApiServer, make_client: MakeClient) -> None:
    async def s3_error(request: web.Request) -> web.Response:
        return web.Response(status=400, text="<Error><Code>EntityTooLarge</Code></Error>")

    server.route("POST", "/bucket", s3_error)
    client = await make_client()

    response = await client.request("POST", str(server.url("/bucket")), body=b"x", raise_for_status=False)
    assert response.status == 400 and b"EntityTooLarge" in response.content
    with pytest.raises(BadRequestError):
        await client.request("POST", str(server.url("/bucket")), body=b"x")


async def test_raw_request_body_factory_is_called_per_attempt(
    server: ApiServer, make_client: MakeClient
) -> None:
    received: list[bytes] = []

    async def flaky_upload(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.Response(status=503 if len(received) == 1 else 204)

    server.route("POST", "/bucket", flaky_upload)
    client = await make_client()

    def form() -> aiohttp.FormData:
        data = aiohttp.FormData()
        data.add_field("file", b"payload", filename="f.bin")
        return data

    response = await client.request("POST", str(server.url("/bucket")), body=form, replay_safe=True)
    assert response.status == 204 and len(received) == 2
    assert all(b"payload" in body for body in received)


async def test_presigned_url_is_sent_verbatim_and_redacted_in_errors(
    server: ApiServer, make_client: MakeClient
) -> None:
    seen: list[str] = []

    async def download(request: web.Request) -> web.Response:
        seen.append(request.raw_path)
        return web.Response(status=403, text="expired")

    server.route("GET", "/report.csv", download)
    client = await make_client()
    url = str(server.url("/")) + "report.csv?X-Amz-Credential=AKIA%2F20240101&X-Amz-Signature=abc%3Ddef"

    with pytest.raises(PermissionDeniedError) as caught:
        await client.request("GET", url)

    assert seen == ["/report.csv?X-Amz-Credential=AKIA%2F20240101&X-Amz-Signature=abc%3Ddef"]
    assert "abc" not in str(caught.value) and "AKIA" not in str(caught.value)
    assert "X-Amz-Signature=REDACTED" in caught.value.url


async def test_max_concurrency_bounds_requests_in_flight(server: ApiServer, make_client: MakeClient) -> None:
    in_flight = peak = 0

    async def counting(request: web.Request) -> web.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.002)
        in_flight -= 1
        return await json_pin(request)

    server.route("GET", PIN, counting)
    client = await make_client(max_concurrency=3)

    async with anyio.create_task_group() as group:
        for n in range(20):
            group.start_soon(partial(client.pins.get, pin_id=str(n)))
    assert peak == 3


async def test_waiting_for_a_slot_does_not_count_against_the_timeout(
    server: ApiServer, make_client: MakeClient
) -> None:
    release = anyio.Event()

    async def held(request: web.Request) -> web.Response:
        if request.match_info["pin_id"] == "1":  # the call holding the only slot
            await release.wait()
        return await json_pin(request)

    server.route("GET", PIN, held)
    client = await make_client(max_concurrency=1)

    async def release_later() -> None:
        await anyio.sleep(0.1)
        release.set()

    async with anyio.create_task_group() as group:
        group.start_soon(partial(client.pins.get, pin_id="1"))
        group.start_soon(release_later)
        await anyio.sleep(0.01)
        # Waits ~0.1 s for the only slot, with a 0.05 s budget for the call itself.
        item = await client.pins.get(pin_id="2", options=RequestOptions(timeout=0.05))
    assert item.id == "2"


async def test_cancellation_mid_request_leaves_nothing_behind(
    server: ApiServer, make_client: MakeClient
) -> None:
    arrived = anyio.Event()
    both_in = anyio.Event()
    in_pair: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        if request.match_info["pin_id"] == "1":  # the call to be cancelled: hangs
            arrived.set()
            await server.stalled()
        else:  # the two calls after it answer only once both are in flight at once
            in_pair.append(request.match_info["pin_id"])
            if len(in_pair) == 2:
                both_in.set()
            await both_in.wait()
        return await json_pin(request)

    server.route("GET", PIN, handler)
    client = await make_client(max_concurrency=2)
    tasks_before = asyncio.all_tasks()

    with anyio.move_on_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(partial(client.pins.get, pin_id="1"))
            await arrived.wait()
            group.cancel_scope.cancel()

    cancelled = server.requests[0]
    for _ in range(
        200
    ):  # the server notices the closed connection: it was neither pooled nor kept checked out
        if cancelled.transport is None:
            break
        await anyio.sleep(0.005)
    assert cancelled.transport is None
    client_tasks = {
        task
        for task in asyncio.all_tasks() - tasks_before
        if not task.get_coro().__qualname__.startswith("RequestHandler.")  # type: ignore[union-attr]
        # The client's own, one per event loop, ended by close().
        and not task.get_name().startswith("aiopinterest: close the session")
    }
    assert client_tasks == set()
    # The slot was given back: two calls are in flight at once again (else the second never starts).
    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(partial(client.pins.get, pin_id="2"))
            group.start_soon(partial(client.pins.get, pin_id="3"))
    await client.close()
    for request in server.requests[1:]:  # closing the client closed its pooled connections
        for _ in range(200):
            if request.transport is None:
                break
            await anyio.sleep(0.005)
        assert request.transport is None
    gc.collect()


async def test_user_session_is_used_and_not_closed(server: ApiServer, make_client: MakeClient) -> None:
    server.route("GET", PIN, json_pin)
    async with aiohttp.ClientSession() as session:
        client = await make_client(session=session)
        assert await client.pins.get(pin_id="1") == Pin(id="1", title="ok")
        await client.close()
        assert not session.closed


async def test_lifecycle(server: ApiServer, clock: FakeClock) -> None:
    server.route("GET", PIN, json_pin)
    await server.start()
    async with Client("token", base_url=server.base_url, clock=clock) as client:
        assert await client.pins.get(pin_id="1") == Pin(id="1", title="ok")
        assert "closed=False" in repr(client)
    assert "closed=True" in repr(client)
    await client.close()  # twice is fine
    with pytest.raises(RuntimeError, match="closed"):
        await client.pins.get(pin_id="1")


async def test_unused_client_opens_nothing() -> None:
    tasks_before = asyncio.all_tasks()
    client = Client("token")
    await client.close()
    # Opening a session would have started the task that closes it with the loop, and left it to the gc.
    assert asyncio.all_tasks() == tasks_before
    del client
    gc.collect()


async def test_proxy_option(
    server: ApiServer, make_server: Callable[[], Awaitable[ApiServer]], make_client: MakeClient
) -> None:
    proxy = await make_proxy(make_server)
    client = await make_client(proxy=proxy.origin)

    assert await client.pins.get(pin_id="1") == Pin(id="via-proxy")
    assert proxy.requests[0].headers["Authorization"] == "Bearer test-access-token"


async def test_proxy_from_environment(
    server: ApiServer,
    make_server: Callable[[], Awaitable[ApiServer]],
    make_client: MakeClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server.route("GET", PIN, json_pin)
    proxy = await make_proxy(make_server)
    monkeypatch.setenv("HTTP_PROXY", proxy.origin)
    client = await make_client()
    assert await client.pins.get(pin_id="1") == Pin(id="via-proxy")

    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    bypassing = await make_client()
    assert await bypassing.pins.get(pin_id="1") == Pin(id="1", title="ok")

    ignoring = await make_client(trust_env=False)
    monkeypatch.delenv("NO_PROXY")
    assert await ignoring.pins.get(pin_id="1") == Pin(id="1", title="ok")


async def make_proxy(make_server: Callable[[], Awaitable[ApiServer]]) -> ApiServer:
    """A forward proxy that answers every request itself."""
    proxy = await make_server()

    async def answer(request: web.Request) -> web.Response:
        return web.json_response({"id": "via-proxy"})

    proxy.route("*", "/{tail:.*}", answer)
    await proxy.start()
    return proxy


async def test_generated_method_goes_through_the_client(server: ApiServer, make_client: MakeClient) -> None:
    async def pin(request: web.Request) -> web.Response:
        return web.json_response({"id": request.match_info["pin_id"], "title": "t", "board_id": "9"})

    server.route("GET", "/v5/pins/{pin_id}", pin)
    client = await make_client(retry=RetryPolicy())

    got = await client.pins.get(pin_id="123")
    assert isinstance(got, Pin) and got.id == "123" and got.board_id == "9"
    assert client.metrics["org_read"].requests == 1
