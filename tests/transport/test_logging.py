"""Diagnostics: ``PINTEREST_LOG`` turns logging on without code, and Pinterest's request id is on every error,
raw response and log line."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap

import pytest
from aiohttp import web

from aiopinterest import RawResponse, RequestOptions, RetryPolicy
from aiopinterest.errors import APIError, NotFoundError, ServerError

from .conftest import PIN, ApiServer, MakeClient

logger = logging.getLogger("aiopinterest")


def run_python(code: str, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINTEREST_")} | environment
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=60
    )


SHOW_THE_LOGGER = """
    import importlib, logging, sys
    import aiopinterest
    importlib.reload(aiopinterest)  # the variable is read a second time
    logger = logging.getLogger("aiopinterest")
    print(logger.level, [isinstance(h, logging.StreamHandler) and h.stream is sys.stderr for h in logger.handlers])
"""


@pytest.mark.parametrize(("value", "level"), [("debug", logging.DEBUG), ("INFO", logging.INFO)])
def test_pinterest_log_sets_the_level_and_adds_one_stderr_handler(value: str, level: int) -> None:
    completed = run_python(SHOW_THE_LOGGER, PINTEREST_LOG=value)

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split(maxsplit=1) == [str(level), "[True]\n"]


def test_no_pinterest_log_changes_nothing() -> None:
    completed = run_python(SHOW_THE_LOGGER)

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == f"{logging.NOTSET} []\n"


def test_an_unknown_level_warns_with_the_accepted_ones() -> None:
    completed = run_python(SHOW_THE_LOGGER, PINTEREST_LOG="verbose")

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == f"{logging.NOTSET} []\n"
    assert "RuntimeWarning: PINTEREST_LOG='verbose' is not a level" in completed.stderr
    assert "debug, info, warning, error" in completed.stderr


CALL_THE_SIMULATOR = """
    import asyncio
    import aiopinterest
    from aiopinterest.testing import PinterestSimulator

    async def main():
        async with PinterestSimulator() as sim:
            [board_id] = sim.seed(boards=1, pins_per_board=1)
            async with aiopinterest.Client(access_token=sim.access_token, base_url=sim.base_url) as client:
                await client.boards.get(board_id=board_id)

    asyncio.run(main())
"""


def test_pinterest_log_debug_shows_each_request_with_its_request_id_on_stderr() -> None:
    completed = run_python(CALL_THE_SIMULATOR, PINTEREST_LOG="debug")

    assert completed.returncode == 0, completed.stderr
    assert " DEBUG aiopinterest: GET http://127.0.0.1:" in completed.stderr
    assert "/v5/boards/" in completed.stderr and "-> 200 in" in completed.stderr
    assert "x-request-id sim-" in completed.stderr  # the simulator's request id header


def test_without_pinterest_log_nothing_is_printed() -> None:
    completed = run_python(CALL_THE_SIMULATOR)

    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""


async def pinterest_not_found(request: web.Request) -> web.Response:
    return web.json_response(
        {"code": 3, "message": "Pin not found."}, status=404, headers={"x-pinterest-rid": "8f3a2c1d"}
    )


async def test_the_request_id_is_on_every_api_error_and_in_its_text(
    server: ApiServer, make_client: MakeClient
) -> None:
    server.route("GET", PIN, pinterest_not_found)
    client = await make_client()

    with pytest.raises(NotFoundError) as caught:
        await client.pins.get(pin_id="1")
    assert caught.value.request_id == "8f3a2c1d"
    assert str(caught.value).endswith("Pin not found.; code 3; x-pinterest-rid 8f3a2c1d")


def test_the_request_id_is_read_whatever_the_header_case_and_source() -> None:
    def error(headers: dict[str, str]) -> APIError:
        return APIError(status=500, method="GET", url="u", headers=headers, body=b"")

    assert error({"X-Pinterest-Rid": "a"}).request_id == "a"
    assert error({"x-request-id": "b"}).request_id == "b"
    assert error({"x-pinterest-rid": "a", "x-request-id": "b"}).request_id == "a"
    assert error({}).request_id is None and "rid" not in str(error({}))


async def test_raw_responses_carry_the_request_id(server: ApiServer, make_client: MakeClient) -> None:
    async def found(request: web.Request) -> web.Response:
        return web.json_response({"id": "1"}, headers={"x-pinterest-rid": "77aa"})

    server.route("GET", PIN, found)
    client = await make_client()
    raw = RawResponse()

    await client.pins.get(pin_id="1", options=RequestOptions(capture=raw))
    assert raw.request_id == "77aa"
    assert RawResponse().request_id is None


async def test_the_debug_line_of_a_response_names_its_request_id(
    server: ApiServer, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    server.route("GET", PIN, pinterest_not_found)
    client = await make_client()
    caplog.set_level(logging.DEBUG, logger="aiopinterest")

    with pytest.raises(NotFoundError):
        await client.pins.get(pin_id="1")
    [record] = [r for r in caplog.records if "-> 404" in r.getMessage()]
    assert record.getMessage().endswith("(attempt 1, category org_read, x-pinterest-rid 8f3a2c1d)")


async def test_the_retry_and_give_up_lines_name_the_request_id(
    server: ApiServer, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    async def unavailable(request: web.Request) -> web.Response:
        return web.json_response(
            {"code": 1, "message": "later"}, status=503, headers={"x-pinterest-rid": "5e5e"}
        )

    server.route("GET", PIN, unavailable)
    client = await make_client(retry=RetryPolicy(max_attempts=2, jitter=lambda: 0.5))
    caplog.set_level(logging.INFO, logger="aiopinterest")

    with pytest.raises(ServerError):
        await client.pins.get(pin_id="1")
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "aiopinterest"]
    assert [level for level, _ in lines] == ["INFO", "WARNING"]
    assert all("category org_read, x-pinterest-rid 5e5e)" in message for _, message in lines), lines
