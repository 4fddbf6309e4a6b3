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


async def test_a_days_numbers_do_not_depend_on_the_range_or_the_other_metrics(
    pinterest_simulator: PinterestSimulator, pinterest_client: aiopinterest.Client
) -> None:
    [board_id] = pinterest_simulator.seed(boards=1, pins_per_board=2)
    pin_ids = [pin.id async for pin in pinterest_client.boards.list_pins(board_id=board_id) if pin.id]
    end = datetime.datetime.now(datetime.UTC).date()
    wide = await pinterest_client.pins.multi_pins_analytics(
        pin_ids=pin_ids,
        start_date=end - datetime.timedelta(days=89),
        end_date=end,
        metric_types=["IMPRESSION", "SAVE", "SAVE_RATE"],
    )
    narrow = await pinterest_client.pins.analytics(
        pin_id=pin_ids[1],
        start_date=end - datetime.timedelta(days=6),
        end_date=end,
        metric_types=["SAVE_RATE", "SAVE", "SAVE"],
    )
    wide_days = {d.date: d.metrics for d in wide[pin_ids[1]]["all"].daily_metrics or []}
    narrow_days = narrow["all"].daily_metrics or []
    assert [d.date for d in narrow_days] == sorted(wide_days)[-7:]
    for day in narrow_days:
        assert day.metrics == {m: (wide_days[day.date] or {})[m] for m in ("SAVE_RATE", "SAVE")}
    rates = [(d.metrics or {})["SAVE_RATE"] for d in narrow_days]
    assert all(isinstance(rate, float) and 0.0 <= rate < 0.1 for rate in rates)
    assert (narrow["all"].summary_metrics or {})["SAVE_RATE"] == pytest.approx(
        sum(rates) / len(rates), abs=1e-5
    )
    # Two pins, two different series.
    first, second = (
        [(d.metrics or {})["IMPRESSION"] for d in wide[pin_id]["all"].daily_metrics or []]
        for pin_id in pin_ids
    )
    assert first != second


async def test_split_keys_have_their_own_numbers(pinterest_client: aiopinterest.Client) -> None:
    end = datetime.datetime.now(datetime.UTC).date()
    analytics = await pinterest_client.user_account.analytics(
        start_date=end - datetime.timedelta(days=29),
        end_date=end,
        metric_types=["IMPRESSION"],
        split_field="SOURCE",
    )
    series = {
        key: [(d.metrics or {})["IMPRESSION"] for d in entry.daily_metrics or []]
        for key, entry in analytics.items()
    }
    assert set(series) == {"your_pins", "other_pins"}
    assert series["your_pins"] != series["other_pins"]
    assert all(
        (entry.summary_metrics or {})["IMPRESSION"] == sum(series[key]) for key, entry in analytics.items()
    )


async def test_weekly_report_rows_add_up_the_days(
    pinterest_client: aiopinterest.Client, clock: FakeClock, http: aiohttp.ClientSession
) -> None:
    async def rows(granularity: str) -> list[dict[str, Any]]:
        created = await pinterest_client.ad_accounts.analytics_create_report(
            ad_account_id="7",
            start_date="2026-01-01",
            end_date="2026-01-31",
            granularity=granularity,
            level="ADVERTISER",
            columns=["TOTAL_IMPRESSION"],
        )
        assert created.token
        clock.advance(30.0)
        status = await pinterest_client.ad_accounts.analytics_get_report(
            ad_account_id="7", token=created.token
        )
        assert status.url
        async with http.get(status.url) as response:
            content: dict[str, list[dict[str, Any]]] = await response.json()
        return content["7"]

    daily, weekly = await rows("DAY"), await rows("WEEK")
    # 2026-01-01 is a Thursday: the first week starts on Monday 2025-12-29.
    assert [row["DATE"] for row in weekly] == [
        "2025-12-29",
        "2026-01-05",
        "2026-01-12",
        "2026-01-19",
        "2026-01-26",
    ]
    assert sum(row["TOTAL_IMPRESSION"] for row in weekly) == sum(row["TOTAL_IMPRESSION"] for row in daily)
    assert weekly[0]["TOTAL_IMPRESSION"] == sum(row["TOTAL_IMPRESSION"] for row in daily[:4])


async def test_each_metric_has_its_own_numbers(pinterest_client: aiopinterest.Client) -> None:
    end = datetime.datetime.now(datetime.UTC).date()
    analytics = await pinterest_client.user_account.analytics(
        start_date=end - datetime.timedelta(days=29), end_date=end, metric_types=["IMPRESSION", "ENGAGEMENT"]
    )
    daily = analytics["all"].daily_metrics or []
    # Names of equal length once gave equal numbers (the XOR of two CRC32s cancelled the metric out).
    assert [(d.metrics or {})["IMPRESSION"] for d in daily] != [
        (d.metrics or {})["ENGAGEMENT"] for d in daily
    ]
