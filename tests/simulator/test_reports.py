"""The asynchronous report flow's failure cases: download URLs that expire, reports that fail."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

import aiopinterest
from aiopinterest.testing import PinterestSimulator

from .conftest import FakeClock

AD_ACCOUNT = "549755885175"
REPORT = {
    "start_date": "2026-01-01",
    "end_date": "2026-01-07",
    "granularity": "DAY",
    "level": "ADVERTISER",
    "columns": ["SPEND_IN_DOLLAR"],
}


@pytest.fixture
def pinterest_simulator_options(clock: FakeClock) -> dict[str, Any]:
    return {"clock": clock, "report_delay": 30.0, "report_url_lifetime": 300.0}


async def _create(client: aiopinterest.Client) -> str:
    created = await client.ad_accounts.analytics_create_report(ad_account_id=AD_ACCOUNT, **REPORT)
    assert created.token
    return created.token


async def _poll(client: aiopinterest.Client, token: str) -> aiopinterest.models.AdsAnalyticsGetAsyncResponse:
    return await client.ad_accounts.analytics_get_report(ad_account_id=AD_ACCOUNT, token=token)


async def _download(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with http.get(url) as response:
        return response.status, await response.text()


async def test_a_download_url_expires_and_a_new_poll_hands_out_a_fresh_one(
    pinterest_client: aiopinterest.Client, clock: FakeClock, http: aiohttp.ClientSession
) -> None:
    token = await _create(pinterest_client)
    clock.advance(30.0)
    first = (await _poll(pinterest_client, token)).url
    assert first
    clock.advance(299.0)
    assert (await _download(http, first))[0] == 200
    clock.advance(1.0)
    status, body = await _download(http, first)
    assert status == 403
    assert "<Code>AccessDenied</Code><Message>Request has expired</Message>" in body
    fresh = (await _poll(pinterest_client, token)).url
    assert fresh and fresh != first
    assert (await _download(http, fresh))[0] == 200


async def test_the_url_lifetime_is_adjustable(
    pinterest_simulator: PinterestSimulator,
    pinterest_client: aiopinterest.Client,
    clock: FakeClock,
    http: aiohttp.ClientSession,
) -> None:
    pinterest_simulator.report_url_lifetime = 5.0
    token = await _create(pinterest_client)
    clock.advance(30.0)
    url = (await _poll(pinterest_client, token)).url
    assert url
    clock.advance(5.0)
    assert (await _download(http, url))[0] == 403


async def test_a_tampered_url_is_refused(
    pinterest_client: aiopinterest.Client, clock: FakeClock, http: aiohttp.ClientSession
) -> None:
    token = await _create(pinterest_client)
    clock.advance(30.0)
    url = (await _poll(pinterest_client, token)).url
    assert url
    path, _, query = url.partition("?")
    later = "&".join(
        f"Expires={float(part[8:]) + 3600}" if part.startswith("Expires=") else part
        for part in query.split("&")
    )
    status, body = await _download(http, f"{path}?{later}")
    assert (status, "<Code>SignatureDoesNotMatch</Code>" in body) == (403, True)
    status, body = await _download(http, path)
    assert (status, "<Code>AccessDenied</Code>" in body) == (403, True)


@pytest.mark.parametrize("outcome", ["FAILED", "CANCELLED", "EXPIRED"])
async def test_a_report_made_to_fail_stays_in_progress_then_fails(
    pinterest_simulator: PinterestSimulator,
    pinterest_client: aiopinterest.Client,
    clock: FakeClock,
    outcome: str,
) -> None:
    token = await _create(pinterest_client)
    pinterest_simulator.fail_report(token, outcome)
    assert (await _poll(pinterest_client, token)).report_status == "IN_PROGRESS"
    clock.advance(30.0)
    state = await _poll(pinterest_client, token)
    assert (state.report_status, state.url) == (outcome, None)


async def test_failing_a_finished_report_takes_its_file_away(
    pinterest_simulator: PinterestSimulator,
    pinterest_client: aiopinterest.Client,
    clock: FakeClock,
    http: aiohttp.ClientSession,
) -> None:
    token = await _create(pinterest_client)
    clock.advance(30.0)
    url = (await _poll(pinterest_client, token)).url
    assert url
    pinterest_simulator.fail_report(token)
    status, body = await _download(http, url)
    assert (status, "<Code>NoSuchKey</Code>" in body) == (404, True)


async def test_fail_reports_fails_every_report_created_while_set(
    pinterest_simulator: PinterestSimulator, pinterest_client: aiopinterest.Client, clock: FakeClock
) -> None:
    pinterest_simulator.fail_reports = True
    failing = await _create(pinterest_client)
    pinterest_simulator.fail_reports = False
    working = await _create(pinterest_client)
    clock.advance(30.0)
    assert (await _poll(pinterest_client, failing)).report_status == "FAILED"
    assert (await _poll(pinterest_client, working)).report_status == "FINISHED"


async def test_fail_report_refuses_unknown_tokens_and_statuses(
    pinterest_simulator: PinterestSimulator, pinterest_client: aiopinterest.Client
) -> None:
    token = await _create(pinterest_client)
    with pytest.raises(ValueError, match="FAILED"):
        pinterest_simulator.fail_report(token, "FINISHED")
    with pytest.raises(LookupError, match="no-such-token"):
        pinterest_simulator.fail_report("no-such-token")


async def test_fail_reports_as_a_constructor_option(clock: FakeClock) -> None:
    async with (
        PinterestSimulator(clock=clock, report_delay=0.0, fail_reports=True) as sim,
        aiopinterest.Client(access_token=sim.access_token, base_url=sim.base_url) as client,
    ):
        assert (await _poll(client, await _create(client))).report_status == "FAILED"
