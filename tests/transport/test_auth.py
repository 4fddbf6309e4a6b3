"""Auth: bearer only to the API origin; OAuth renewal (refresh_token, client_credentials), single flight."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable

import anyio
import pytest
from aiohttp import web

from aiopinterest import Client, OAuthToken, RequestEvent, RequestOptions, ResponseEvent
from aiopinterest.errors import (
    AuthenticationError,
    CredentialsError,
    MissingScopeError,
    PinterestError,
    RequestTimeoutError,
)
from aiopinterest.models import Pin

from .conftest import PIN, ApiServer, FakeClock, MakeClient, json_pin

APP_ID = "app-1234"
APP_SECRET = "app-secret-s3cr3t"
REFRESH_TOKEN = "refresh-token-r3fr3sh"
OLD_TOKEN = "access-token-0ld"
NEW_TOKEN = "access-token-n3w"
SECRETS = (
    APP_SECRET,
    REFRESH_TOKEN,
    OLD_TOKEN,
    NEW_TOKEN,
    base64.b64encode(f"{APP_ID}:{APP_SECRET}".encode()).decode(),
)


class TokenServer:
    """/v5/oauth/token issuing NEW_TOKEN, and /v5/pins/{pin_id} accepting only the currently valid token."""

    def __init__(self, server: ApiServer, *, valid: str = NEW_TOKEN, expires_in: int = 2_592_000) -> None:
        self.valid = valid
        self.expires_in = expires_in
        #: When set, sent as refresh_token_expires_at: a refresh token with a hard end, as legacy ones had.
        self.refresh_expires_at: float | None = None
        self.forms: list[dict[str, str]] = []
        server.route("POST", "/v5/oauth/token", self.token)
        server.route("GET", PIN, self.item)

    async def token(self, request: web.Request) -> web.Response:
        expected = "Basic " + base64.b64encode(f"{APP_ID}:{APP_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return web.json_response({"code": 2, "message": "bad client credentials"}, status=401)
        assert request.content_type == "application/x-www-form-urlencoded"
        form = dict(await request.post())
        self.forms.append({k: str(v) for k, v in form.items()})
        await anyio.sleep(0.01)  # let concurrent requests pile up behind the renewal
        hard_end = (
            {} if self.refresh_expires_at is None else {"refresh_token_expires_at": self.refresh_expires_at}
        )
        return web.json_response(
            {
                **hard_end,
                "access_token": NEW_TOKEN,
                "refresh_token": REFRESH_TOKEN,
                "response_type": form["grant_type"],
                "token_type": "bearer",
                "expires_in": self.expires_in,
                "refresh_token_expires_in": 5_184_000,
                "scope": "boards:read,pins:read",
            }
        )

    async def item(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.valid}":
            return web.json_response({"code": 2, "message": "Authentication failed."}, status=401)
        return await json_pin(request)


async def json_board(request: web.Request) -> web.Response:
    return web.json_response({"id": request.match_info["board_id"], "name": "ok"})


async def test_bearer_token_is_sent(server: ApiServer, make_client: MakeClient) -> None:
    tokens = TokenServer(server, valid=OLD_TOKEN)
    client = await make_client(access_token=OLD_TOKEN)

    assert await client.pins.get(pin_id="1") == Pin(id="1", title="ok")
    assert tokens.forms == []


async def test_access_token_from_environment(
    server: ApiServer, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    TokenServer(server, valid=OLD_TOKEN)
    monkeypatch.setenv("PINTEREST_ACCESS_TOKEN", OLD_TOKEN)
    client = await make_client(access_token=None)

    assert await client.pins.get(pin_id="1") == Pin(id="1", title="ok")


async def test_401_renews_the_token_then_retries(server: ApiServer, make_client: MakeClient) -> None:
    tokens = TokenServer(server)
    persisted: list[OAuthToken] = []
    client = await make_client(
        access_token=OLD_TOKEN,
        app_id=APP_ID,
        app_secret=APP_SECRET,
        refresh_token=REFRESH_TOKEN,
        on_token_refresh=persisted.append,
    )

    assert await client.pins.get(pin_id="1") == Pin(id="1", title="ok")

    assert tokens.forms == [{"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN}]
    assert [token.access_token for token in persisted] == [NEW_TOKEN]
    assert persisted[0].refresh_token == REFRESH_TOKEN and persisted[0].expires_in == 2_592_000
    assert client.granted_scopes == frozenset({"boards:read", "pins:read"})
    assert server.hits["/v5/pins/1"] == 2


async def test_a_401_without_app_credentials_raises(server: ApiServer, make_client: MakeClient) -> None:
    TokenServer(server)
    client = await make_client(access_token=OLD_TOKEN)

    with pytest.raises(AuthenticationError) as caught:
        await client.pins.get(pin_id="1")
    assert caught.value.message == "Authentication failed." and caught.value.attempts == 1


async def test_a_token_still_rejected_after_renewal_raises(
    server: ApiServer, make_client: MakeClient
) -> None:
    tokens = TokenServer(server, valid="a-token-nobody-has")
    client = await make_client(
        access_token=OLD_TOKEN, app_id=APP_ID, app_secret=APP_SECRET, refresh_token="r"
    )

    with pytest.raises(AuthenticationError):
        await client.pins.get(pin_id="1")
    assert len(tokens.forms) == 1  # renewed once, not in a loop


async def test_200_concurrent_401s_cause_exactly_one_refresh(
    server: ApiServer, make_client: MakeClient
) -> None:
    tokens = TokenServer(server)
    persisted: list[OAuthToken] = []

    async def persist(token: OAuthToken) -> None:
        persisted.append(token)

    client = await make_client(
        access_token=OLD_TOKEN,
        app_id=APP_ID,
        app_secret=APP_SECRET,
        refresh_token=REFRESH_TOKEN,
        on_token_refresh=persist,
        max_concurrency=200,
    )
    results: list[Pin] = []

    async def call(n: int) -> None:
        results.append(await client.pins.get(pin_id=str(n)))

    async with anyio.create_task_group() as group:
        for n in range(200):
            group.start_soon(call, n)

    assert len(results) == 200
    assert len(tokens.forms) == 1
    assert len(persisted) == 1


async def test_a_failed_renewal_is_shared_not_repeated(server: ApiServer, make_client: MakeClient) -> None:
    tokens = TokenServer(server)
    client = await make_client(
        access_token=OLD_TOKEN, app_id=APP_ID, app_secret="wrong-secret", refresh_token=REFRESH_TOKEN
    )
    failures: list[BaseException] = []

    async def call(n: int) -> None:
        try:
            await client.pins.get(pin_id=str(n))
        except PinterestError as error:
            failures.append(error)

    async with anyio.create_task_group() as group:
        for n in range(20):
            group.start_soon(call, n)

    assert len(failures) == 20 and all(isinstance(e, AuthenticationError) for e in failures)
    assert tokens.forms == []  # rejected before reading the form
    assert server.hits["/v5/oauth/token"] < 20


async def test_missing_token_is_obtained_with_client_credentials(
    server: ApiServer, make_client: MakeClient
) -> None:
    tokens = TokenServer(server)
    client = await make_client(
        access_token=None, app_id=APP_ID, app_secret=APP_SECRET, scopes=["pins:read", "boards:read"]
    )

    assert await client.pins.get(pin_id="1") == Pin(id="1", title="ok")
    assert tokens.forms == [{"grant_type": "client_credentials", "scope": "boards:read,pins:read"}]
    assert server.hits["/v5/pins/1"] == 1


async def test_expiring_token_is_renewed_before_use(
    server: ApiServer, make_client: MakeClient, clock: FakeClock
) -> None:
    tokens = TokenServer(server, expires_in=3600)
    client = await make_client(
        access_token=None, app_id=APP_ID, app_secret=APP_SECRET, refresh_token=REFRESH_TOKEN
    )

    await client.pins.get(pin_id="1")
    clock.now += 3000
    await client.pins.get(pin_id="2")
    assert len(tokens.forms) == 1
    clock.now += 600  # within the renewal margin before expiry
    await client.pins.get(pin_id="3")

    assert len(tokens.forms) == 2
    assert server.hits["/v5/pins/3"] == 1  # renewed up front, no 401 round trip


async def test_no_credentials_at_all_is_a_clear_error(server: ApiServer, make_client: MakeClient) -> None:
    TokenServer(server)
    client = await make_client(access_token=None)

    with pytest.raises(CredentialsError, match="PINTEREST_ACCESS_TOKEN"):
        await client.pins.get(pin_id="1")
    assert server.hits == {}


async def test_scopes_learnt_from_the_token_response_are_checked_before_sending(
    server: ApiServer, make_client: MakeClient
) -> None:
    TokenServer(server)
    client = await make_client(
        access_token=None, app_id=APP_ID, app_secret=APP_SECRET, refresh_token=REFRESH_TOKEN
    )

    # pins.save needs boards:read, boards:write, pins:read, pins:write; the token has boards:read, pins:read.
    with pytest.raises(MissingScopeError) as caught:
        await client.pins.save(pin_id="1", board_id="9")

    assert caught.value.missing == ("boards:write", "pins:write")
    assert "boards:write, pins:write" in str(caught.value)
    assert "/v5/pins/1/save" not in server.hits


async def test_scopes_given_by_the_caller_are_checked(server: ApiServer, make_client: MakeClient) -> None:
    server.route("GET", PIN, json_pin)
    server.route("GET", "/v5/boards/{board_id}", json_board)
    client = await make_client(scopes=["boards:read"])

    with pytest.raises(MissingScopeError, match="pins:read"):  # pins.get needs boards:read and pins:read
        await client.pins.get(pin_id="1")
    assert "/v5/pins/1" not in server.hits
    board = await client.boards.get(board_id="1")  # needs boards:read only
    assert (board.id, board.name) == ("1", "ok")


async def test_bearer_goes_only_to_the_api_origin(
    server: ApiServer, make_server: Callable[[], Awaitable[ApiServer]], make_client: MakeClient
) -> None:
    other = await make_server()
    seen: list[str | None] = []

    async def upload(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.Response(status=204)

    other.route("POST", "/upload", upload)
    await other.start()
    client = await make_client()

    response = await client.request("POST", str(other.url("/upload")), body=b"file")
    assert response.status == 204 and seen == [None]
    with pytest.raises(ValueError, match="refusing to send the access token"):
        await client.request("POST", str(other.url("/upload")), body=b"file", authenticated=True)


async def test_authenticated_raw_request_to_the_api(server: ApiServer, make_client: MakeClient) -> None:
    TokenServer(server, valid=OLD_TOKEN)
    client = await make_client(access_token=OLD_TOKEN)

    response = await client.request("GET", "/pins/7", authenticated=True, category="org_read")
    assert response.status == 200 and b'"7"' in response.content
    assert client.metrics["org_read"].requests == 1


async def test_bearer_is_dropped_on_a_redirect_to_another_origin(
    server: ApiServer, make_server: Callable[[], Awaitable[ApiServer]], make_client: MakeClient
) -> None:
    other = await make_server()
    seen: dict[str, str | None] = {}

    async def record(request: web.Request) -> web.Response:
        seen[request.host] = request.headers.get("Authorization")
        return web.json_response({"id": "9"})

    other.route("GET", "/elsewhere", record)
    await other.start()

    async def redirect_away(request: web.Request) -> web.Response:
        raise web.HTTPFound(str(other.url("/elsewhere")))

    async def redirect_home(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect("/v5/same")

    server.route("GET", "/v5/pins/1", redirect_away)
    server.route("GET", "/v5/pins/2", redirect_home)
    server.route("GET", "/v5/same", record)
    client = await make_client(access_token=OLD_TOKEN)

    assert await client.pins.get(pin_id="1") == Pin(id="9")  # redirected away
    assert await client.pins.get(pin_id="2") == Pin(id="9")  # redirected home

    assert seen == {other.url("/").authority: None, server.url("/").authority: f"Bearer {OLD_TOKEN}"}


async def test_no_secret_in_logs_reprs_errors_or_hook_events(
    server: ApiServer, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    TokenServer(server)
    events: list[RequestEvent | ResponseEvent] = []
    caplog.set_level(logging.DEBUG, logger="aiopinterest")
    persisted: list[OAuthToken] = []
    client = await make_client(
        access_token=OLD_TOKEN,
        app_id=APP_ID,
        app_secret=APP_SECRET,
        refresh_token=REFRESH_TOKEN,
        on_request=events.append,
        on_response=events.append,
        on_token_refresh=persisted.append,
    )

    await client.pins.get(pin_id="1")
    broken = await make_client(
        access_token=OLD_TOKEN, app_id=APP_ID, app_secret=APP_SECRET + "-wrong", refresh_token=REFRESH_TOKEN
    )
    with pytest.raises(AuthenticationError) as caught:
        await broken.pins.get(pin_id="1")

    texts = [
        caplog.text,
        repr(client),
        repr(broken),
        str(caught.value),
        repr(caught.value),
        repr(persisted),
        *map(repr, events),
    ]
    assert caplog.text  # the transport did log
    assert len(events) >= 6
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


@pytest.fixture
def renewing_client(make_client: MakeClient) -> MakeClient:
    """``make_client`` for a client with no access token yet, and the app credentials to obtain one."""

    async def make(**kwargs: object) -> Client:
        credentials = {"app_id": APP_ID, "app_secret": APP_SECRET, "refresh_token": REFRESH_TOKEN}
        return await make_client(**{"access_token": None, **credentials, **kwargs})

    return make


class HeldTokenServer(TokenServer):
    """A TokenServer whose /oauth/token answers only once ``release`` is set."""

    def __init__(self, server: ApiServer) -> None:
        super().__init__(server)
        self.arrived = anyio.Event()
        self.release = anyio.Event()

    async def token(self, request: web.Request) -> web.Response:
        self.arrived.set()
        await self.release.wait()
        return await super().token(request)


async def held_renewal(
    server: ApiServer, renewing_client: MakeClient
) -> tuple[HeldTokenServer, list[OAuthToken], Client]:
    """A client about to renew against a token endpoint that answers on the test's word, and its refreshes."""
    tokens = HeldTokenServer(server)
    persisted: list[OAuthToken] = []
    client = await renewing_client(on_token_refresh=persisted.append, max_concurrency=100)
    return tokens, persisted, client


async def test_cancelling_the_renewing_call_lets_every_waiter_succeed(
    server: ApiServer, renewing_client: MakeClient
) -> None:
    tokens, persisted, client = await held_renewal(server, renewing_client)
    results: list[Pin] = []
    renewer = anyio.CancelScope()

    async def call(n: int) -> None:
        results.append(await client.pins.get(pin_id=str(n)))

    async def renewing_call() -> None:
        with renewer:
            await call(0)

    async with anyio.create_task_group() as group:
        group.start_soon(renewing_call)
        with anyio.fail_after(5):
            await tokens.arrived.wait()
        for n in range(1, 51):
            group.start_soon(call, n)
        for _ in range(50):
            await anyio.lowlevel.checkpoint()  # the 50 reach the renewal and wait on it
        renewer.cancel()
        tokens.release.set()

    # The renewal runs in a task of its own: cancelling the call that started it does not stop it, so the one
    # POST already sent completes and serves all 50 (a hand-over would have sent a second one).
    assert renewer.cancelled_caught
    assert sorted(int(item.id) for item in results) == list(range(1, 51))
    assert len(tokens.forms) == 1
    assert [token.access_token for token in persisted] == [NEW_TOKEN]


async def test_the_renewing_call_timing_out_lets_every_waiter_succeed(
    server: ApiServer, renewing_client: MakeClient
) -> None:
    tokens, persisted, client = await held_renewal(server, renewing_client)
    results: list[Pin] = []

    async def call(n: int) -> None:
        results.append(await client.pins.get(pin_id=str(n)))

    async with anyio.create_task_group() as group:
        renewing = asyncio.ensure_future(client.pins.get(pin_id="0", options=RequestOptions(timeout=0.05)))
        with anyio.fail_after(5):
            await tokens.arrived.wait()
        for n in range(1, 51):
            group.start_soon(call, n)
        with pytest.raises(RequestTimeoutError), anyio.fail_after(5):
            await renewing  # its own timeout, with the renewal still held by the server
        tokens.release.set()

    assert sorted(int(item.id) for item in results) == list(range(1, 51))
    assert len(tokens.forms) == 1
    assert [token.access_token for token in persisted] == [NEW_TOKEN]


async def test_a_renewal_whose_only_caller_was_cancelled_still_keeps_the_new_token(
    server: ApiServer, renewing_client: MakeClient
) -> None:
    tokens, persisted, client = await held_renewal(server, renewing_client)

    async def call() -> None:
        await client.pins.get(pin_id="1")

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(call)
            await tokens.arrived.wait()
            group.cancel_scope.cancel()
    tokens.release.set()

    # The refresh token the server may have rotated in that response is not lost: the next call uses the result.
    assert await client.pins.get(pin_id="2") == Pin(id="2", title="ok")
    assert len(tokens.forms) == 1 and len(persisted) == 1


async def test_continuous_refresh_is_asked_for_when_enabled(
    server: ApiServer, renewing_client: MakeClient
) -> None:
    tokens = TokenServer(server)
    client = await renewing_client(
        continuous_refresh=True,
    )

    await client.pins.get(pin_id="1")

    assert tokens.forms == [
        {"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN, "continuous_refresh": "true"}
    ]


async def test_a_refresh_token_known_to_be_expired_fails_before_sending(
    server: ApiServer, renewing_client: MakeClient, clock: FakeClock
) -> None:
    TokenServer(server)
    client = await renewing_client(
        refresh_token_expires_at=clock.time() - 1,
    )

    with pytest.raises(CredentialsError, match=r"refresh token expired at .* authorize the app again"):
        await client.pins.get(pin_id="1")
    assert server.hits == {}


async def test_the_refresh_token_expiry_from_the_token_response_is_kept_and_enforced(
    server: ApiServer, renewing_client: MakeClient, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    tokens = TokenServer(server, expires_in=3600)
    tokens.refresh_expires_at = (
        clock.time() + 10 * 86_400
    )  # a legacy refresh token: ten days left, not extended
    persisted: list[OAuthToken] = []
    client = await renewing_client(
        on_token_refresh=persisted.append,
    )
    caplog.set_level(logging.WARNING, logger="aiopinterest")

    await client.pins.get(pin_id="1")
    assert persisted[0].refresh_token_expires_at == tokens.refresh_expires_at
    assert "refresh_token_expires_at" in repr(persisted[0]) and REFRESH_TOKEN not in repr(persisted[0])
    assert caplog.text == ""

    clock.now += 8 * 86_400
    await client.pins.get(pin_id="2")
    assert "the refresh token expires in 2.0 days" in caplog.text

    clock.now += 3 * 86_400
    with pytest.raises(CredentialsError, match="refresh token expired"):
        await client.pins.get(pin_id="3")
    assert len(tokens.forms) == 2 and "/v5/pins/3" not in server.hits


async def test_the_refresh_token_expiry_follows_refresh_token_expires_in(
    server: ApiServer, renewing_client: MakeClient, clock: FakeClock
) -> None:
    TokenServer(server)  # refresh_token_expires_in: 5_184_000 (60 days, continuous refresh)
    persisted: list[OAuthToken] = []
    client = await renewing_client(
        on_token_refresh=persisted.append,
    )
    issued = clock.time()

    await client.pins.get(pin_id="1")

    assert persisted[0].refresh_token_expires_at == issued + 5_184_000


async def test_a_token_renewal_is_logged_at_info_without_the_token(
    server: ApiServer, renewing_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    TokenServer(server, expires_in=3600)
    client = await renewing_client()
    caplog.set_level(logging.INFO, logger="aiopinterest")

    await client.pins.get(pin_id="1")

    renewals = [
        r.getMessage() for r in caplog.records if r.levelno == logging.INFO and "renewed" in r.getMessage()
    ]
    assert renewals == ["renewed the access token (valid for 3600 s)"]
    assert REFRESH_TOKEN not in caplog.text and APP_SECRET not in caplog.text


class SlowTokenServer(TokenServer):
    """A TokenServer whose token endpoint and Pins each take ``delay`` seconds to answer."""

    delay = 0.2

    async def token(self, request: web.Request) -> web.Response:
        await anyio.sleep(self.delay)
        return await super().token(request)

    async def item(self, request: web.Request) -> web.Response:
        await anyio.sleep(self.delay)
        return await super().item(request)


async def test_obtaining_the_token_for_the_scope_check_counts_against_the_call_timeout(
    server: ApiServer, make_client: MakeClient
) -> None:
    SlowTokenServer(server)
    client = await make_client(
        access_token=None, app_id=APP_ID, app_secret=APP_SECRET, refresh_token=REFRESH_TOKEN
    )

    # 0.2 s for the token that makes the scopes known, then 0.2 s for the Pin: one call, past its 0.3 s.
    with pytest.raises(RequestTimeoutError):
        await client.pins.get(pin_id="1", options=RequestOptions(timeout=0.3))
