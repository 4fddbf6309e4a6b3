"""The OAuth token shared through a real Redis: one renewal for a fleet of processes, keys that reveal nothing."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from aiohttp import web

from aiopinterest import Client, OAuthToken
from aiopinterest.errors import ConfigurationError
from tests.transport.conftest import PIN, ApiServer, json_pin

from . import worker
from .conftest import RedisServer

NEW_TOKEN = "fleet-access-n3w"
ROOT = Path(__file__).resolve().parents[2]


class FleetApi:
    """/v5/oauth/token issuing NEW_TOKEN (held until ``hold_until`` requests were refused, so that the whole
    fleet needs the renewal at once), and pins.get (/v5/pins/{pin_id}) accepting only the token issued last
    (NEW_TOKEN until :meth:`revoke`)."""

    def __init__(self, api: ApiServer, *, hold_until: int = 0, expires_in: int = 2_592_000) -> None:
        self.hold_until = hold_until
        self.expires_in = expires_in
        self.refused = 0
        self.token_requests = 0
        self.issuing = NEW_TOKEN
        self._everyone_refused = anyio.Event()
        api.route("POST", "/v5/oauth/token", self.token)
        api.route("GET", PIN, self.pin)

    async def token(self, request: web.Request) -> web.Response:
        credentials = base64.b64encode(f"{worker.APP_ID}:{worker.APP_SECRET}".encode()).decode()
        assert request.headers["Authorization"] == f"Basic {credentials}"
        self.token_requests += 1
        with anyio.move_on_after(20):  # a bound for a broken test, not a timing
            if self.refused < self.hold_until:
                await self._everyone_refused.wait()
        return web.json_response(
            {
                "access_token": self.issuing,
                "refresh_token": worker.REFRESH_TOKEN,
                "response_type": "refresh_token",
                "token_type": "bearer",
                "expires_in": self.expires_in,
                "refresh_token_expires_in": 5_184_000,
                "scope": "boards:read pins:read",
            }
        )

    async def pin(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.issuing}":
            self.refused += 1
            if self.refused >= self.hold_until:
                self._everyone_refused.set()
            return web.json_response({"code": 2, "message": "Authentication failed."}, status=401)
        return await json_pin(request)

    def revoke(self) -> None:
        """Refuse the token issued last from now on; the next renewal issues another."""
        self.issuing = f"{NEW_TOKEN}-{self.token_requests}"


def fleet_client(redis_url: str, api: ApiServer, **kwargs: object) -> Client:
    options: dict[str, object] = {
        "app_id": worker.APP_ID,
        "app_secret": worker.APP_SECRET,
        "refresh_token": worker.REFRESH_TOKEN,
        "base_url": api.base_url,
        "redis_url": redis_url,
    }
    options.update(kwargs)
    return Client(worker.OLD_TOKEN, **options)  # type: ignore[arg-type]


async def test_four_processes_whose_token_was_rejected_send_one_refresh(
    redis_server: RedisServer, api: ApiServer
) -> None:
    fleet = FleetApi(api, hold_until=4)
    await api.start()

    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.fleet.worker",
            redis_server.url,
            api.base_url,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    outputs = [await process.communicate() for process in processes]

    reports = []
    for (out, err), process in zip(outputs, processes, strict=True):
        assert process.returncode == 0, err.decode()
        reports.append(json.loads(out))
    assert [report["pin"] for report in reports] == ["1"] * 4
    assert fleet.refused == 4  # every process needed the renewal
    assert fleet.token_requests == 1
    assert sum(report["refreshes"] for report in reports) == 1  # on_token_refresh, in the renewing process


async def test_a_client_starting_later_takes_the_fleets_token_without_renewing(
    redis_server: RedisServer, api: ApiServer
) -> None:
    fleet = FleetApi(api)
    await api.start()
    late_refreshes: list[OAuthToken] = []

    async with fleet_client(redis_server.url, api) as first:
        await first.pins.get(pin_id="1")
    async with fleet_client(redis_server.url, api, on_token_refresh=late_refreshes.append) as late:
        pin = await late.pins.get(pin_id="2")

    assert pin.id == "2"
    assert fleet.token_requests == 1 and late_refreshes == []
    assert fleet.refused == 1  # the late client never sent its own stale token
    assert late.granted_scopes == frozenset({"boards:read", "pins:read"})


async def test_keys_name_no_credential_share_one_hash_tag_and_expire_with_the_token(
    redis_server: RedisServer, api: ApiServer
) -> None:
    FleetApi(api, expires_in=3600)
    await api.start()

    async with fleet_client(redis_server.url, api) as client:
        await client.pins.get(pin_id="1")

    with redis_server.client() as redis:
        every_key = sorted(key.decode() for key in redis.keys("*"))
        keys = [
            key for key in every_key if ":budget:" not in key
        ]  # the governor's: tests/fleet/test_shared_budget
        token_ttl = redis.pttl(next(key for key in keys if key.endswith(":token")))
        values = b"".join(redis.get(key) or b"" for key in keys)
    assert len(keys) == 2  # the token and the refresh token; the lock was released
    tags = {key[: key.index("}") + 1] for key in every_key}
    assert len(tags) == 1 and next(iter(tags)).startswith("{aiopinterest:")
    for secret in (worker.APP_ID, worker.APP_SECRET, worker.REFRESH_TOKEN, NEW_TOKEN):
        assert secret not in "".join(every_key)
    assert NEW_TOKEN.encode() in values  # the token itself is stored, for as long as it lives
    assert 3_590_000 < token_ttl <= 3_600_000


async def test_a_key_prefix_given_is_the_hash_tag(redis_server: RedisServer, api: ApiServer) -> None:
    FleetApi(api)
    await api.start()

    async with fleet_client(redis_server.url, api, redis_key_prefix="shop-42") as client:
        await client.pins.get(pin_id="1")

    with redis_server.client() as redis:
        keys = sorted(redis.keys("*"))
    assert [key for key in keys if b":budget:" not in key] == [b"{shop-42}:refresh", b"{shop-42}:token"]
    assert all(key.startswith(b"{shop-42}:") for key in keys)


async def test_a_lock_left_by_a_dead_renewer_lapses_and_another_renews(
    redis_server: RedisServer, api: ApiServer
) -> None:
    fleet = FleetApi(api)
    await api.start()
    async with fleet_client(redis_server.url, api, redis_key_prefix="crashed") as client:
        with redis_server.client() as redis:
            redis.set("{crashed}:token-lock", "a-process-that-died", px=300)
        started = time.monotonic()
        pin = await client.pins.get(pin_id="1")

    assert pin.id == "1" and fleet.token_requests == 1
    assert (
        time.monotonic() - started >= 0.25
    )  # waited for the lock to lapse, not for a renewal that never came


async def test_redis_unreachable_at_first_use_is_a_configuration_error_without_the_password(
    make_redis: Callable[..., RedisServer], api: ApiServer
) -> None:
    FleetApi(api)
    await api.start()
    server = make_redis(password="redis-pa55word")
    server.stop()

    async with fleet_client(server.url, api) as client:
        with pytest.raises(ConfigurationError) as caught:
            await client.pins.get(pin_id="1")

    message = str(caught.value)
    assert f"redis://:***@127.0.0.1:{server.port}/0" in message
    assert "redis-pa55word" not in message + repr(caught.value.__cause__) + repr(caught.value.__context__)


async def test_redis_lost_during_a_run_renews_in_this_process_with_a_warning(
    redis_server: RedisServer, api: ApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    fleet = FleetApi(api)
    await api.start()
    caplog.set_level(logging.WARNING, logger="aiopinterest")

    async with fleet_client(redis_server.url, api, redis_key_prefix="blink") as client:
        assert (await client.pins.get(pin_id="1")).id == "1"
        redis_server.stop()
        fleet.revoke()  # the next call is refused and renews the token
        pin = await client.pins.get(pin_id="2")

    assert pin.id == "2" and fleet.token_requests == 2
    assert "renewing the token in this process alone" in caplog.text


def test_importing_aiopinterest_does_not_import_redis() -> None:
    code = (
        "import sys; sys.modules['redis'] = None\n"  # as if not installed
        "import aiopinterest, asyncio\n"
        "from aiopinterest.errors import ConfigurationError\n"
        # Nothing listens at either address: the error must come before any connection is tried.
        "client = aiopinterest.Client('t', base_url='http://127.0.0.1:1/v5', redis_url='redis://127.0.0.1:1/0')\n"
        "async def first_call():\n"
        "    try:\n"
        "        await client.pins.get(pin_id='1')\n"
        "    except ConfigurationError as error:\n"
        "        print(error)\n"
        "asyncio.run(first_call())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert "pip install 'aiopinterest[redis]'" in result.stdout


async def test_after_redis_comes_back_renewals_are_shared_again(
    make_redis: Callable[..., RedisServer], api: ApiServer
) -> None:
    fleet = FleetApi(api, expires_in=3600)
    await api.start()
    redis_server = make_redis()

    async with fleet_client(redis_server.url, api, redis_key_prefix="back") as client:
        await client.pins.get(pin_id="1")
        redis_server.stop()
        fleet.revoke()
        await client.pins.get(pin_id="2")  # renewed alone
        restarted = make_redis(port=redis_server.port)  # empty: no keys, no scripts loaded
        fleet.revoke()
        await client.pins.get(pin_id="3")

    assert fleet.token_requests == 3
    with restarted.client() as redis:
        assert redis.get("{back}:token") is not None  # published again: the scripts were reloaded
        assert redis.get("{back}:token-lock") is None


async def test_a_bad_redis_url_or_prefix_is_refused_naming_it(api: ApiServer) -> None:
    await api.start()
    with pytest.raises(ValueError, match="redis_key_prefix"):
        fleet_client("redis://127.0.0.1:1/0", api, redis_key_prefix="{tenant}")
    async with fleet_client("http://:pa55@127.0.0.1:1/0", api) as client:
        with pytest.raises(
            ConfigurationError, match=r"redis_url http://:\*\*\*@127\.0\.0\.1:1/0 is not"
        ) as caught:
            await client.pins.get(pin_id="1")
    assert "pa55" not in str(caught.value)
