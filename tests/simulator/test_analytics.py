"""Pin and user analytics, and the asynchronous ad-account report flow."""

from __future__ import annotations

import datetime
from typing import Any

import aiohttp
import msgspec
import pytest

import aiopinterest
from aiopinterest.testing import PinterestSimulator

from .conftest import FakeClock


@pytest.fixture
def pinterest_simulator_options(clock: FakeClock) -> dict[str, Any]:
    return {"clock": clock, "report_delay": 30.0}


async def test_pin_analytics_honour_range_and_metrics_and_are_stable(
    pinterest_simulator: PinterestSimulator, pinterest_client: aiopinterest.Client
) -> None:
    [board_id] = pinterest_simulator.seed(boards=1, pins_per_board=1)
    [pin] = (await pinterest_client.boards.list_pins(board_id=board_id)).items
    assert pin.id
    # Within the API's window: start_date at most 90 days back (the client checks it before sending).
    end = datetime.datetime.now(datetime.UTC).date()
    start = end - datetime.timedelta(days=89)
    first = await pinterest_client.pins.analytics(
        pin_id=pin.id, start_date=start, end_date=end, metric_types=["IMPRESSION", "SAVE"]
    )
    again = await pinterest_client.pins.analytics(
        pin_id=pin.id, start_date=start, end_date=end, metric_types=["IMPRESSION", "SAVE"]
    )
    assert msgspec.to_builtins(first) == msgspec.to_builtins(again)
    daily = first["all"].daily_metrics or []
    assert daily[0].date == start.isoformat() and len(daily) == 90
    assert all(set(d.metrics or {}) == {"IMPRESSION", "SAVE"} for d in daily)
    assert first["all"].summary_metrics == {
        m: sum((d.metrics or {})[m] for d in daily) for m in ("IMPRESSION", "SAVE")
    }


async def test_user_analytics_default_to_every_metric(pinterest_client: aiopinterest.Client) -> None:
    end = datetime.datetime.now(datetime.UTC).date()
    analytics = await pinterest_client.user_account.analytics(
        start_date=end - datetime.timedelta(days=6), end_date=end, split_field="APP_TYPE"
    )
    assert set(analytics) == {"mobile", "tablet", "web"}
    assert len(analytics["web"].daily_metrics or []) == 7
    assert "OUTBOUND_CLICK_RATE" in (analytics["web"].summary_metrics or {})


async def test_report_in_progress_then_finished_with_a_download(
    pinterest_simulator: PinterestSimulator,
    pinterest_client: aiopinterest.Client,
    clock: FakeClock,
    http: aiohttp.ClientSession,
) -> None:
    created = await pinterest_client.ad_accounts.analytics_create_report(
        ad_account_id="549755885175",
        start_date="2026-01-01",
        end_date="2026-01-03",
        granularity="DAY",
        level="ADVERTISER",
        columns=["SPEND_IN_DOLLAR", "TOTAL_CLICKTHROUGH"],
    )
    assert created.token and created.report_status == "IN_PROGRESS"
    status = await pinterest_client.ad_accounts.analytics_get_report(
        ad_account_id="549755885175", token=created.token
    )
    assert (status.report_status, status.url) == ("IN_PROGRESS", None)
    clock.advance(30.0)
    status = await pinterest_client.ad_accounts.analytics_get_report(
        ad_account_id="549755885175", token=created.token
    )
    assert status.report_status == "FINISHED" and status.url
    async with http.get(status.url, headers={"Accept-Encoding": "gzip"}) as response:
        assert response.status == 200
        assert response.headers["Content-Encoding"] == "gzip"
        report = await response.json()
    async with http.get(
        status.url, headers={"Accept-Encoding": "identity"}, auto_decompress=False
    ) as response:
        assert "Content-Encoding" not in response.headers
        assert msgspec.json.decode(await response.read()) == report
    rows = report["549755885175"]
    assert [row["DATE"] for row in rows] == ["2026-01-01", "2026-01-02", "2026-01-03"]
    assert status.size == len(msgspec.json.encode(report))
    assert all({"SPEND_IN_DOLLAR", "TOTAL_CLICKTHROUGH"} <= set(row) for row in rows)


async def test_unknown_report_token_does_not_exist(pinterest_client: aiopinterest.Client) -> None:
    status = await pinterest_client.ad_accounts.analytics_get_report(ad_account_id="1", token="nope")
    assert status.report_status == "DOES_NOT_EXIST"
