"""Fan-out, analytics date limits, multi-Pin analytics chunking, and incremental row parsing."""

from __future__ import annotations

import datetime
import gzip
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
import pytest
from aiohttp import web

from aiopinterest import Client, bulk
from aiopinterest.errors import ReportError, RequestValidationError

TODAY = datetime.date(2025, 6, 30)


# -- fan-out -----------------------------------------------------------------------------------------------------


async def test_fan_out_yields_as_calls_complete_within_the_concurrency_bound() -> None:
    running = peak = 0
    release = {n: anyio.Event() for n in range(20)}

    async def call(n: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release[n].wait()
        running -= 1
        return n * n

    order: list[int] = []
    async with bulk.fan_out(call, range(20), concurrency=4) as results:
        for n in (3, 1, 2, 0):  # finish out of order
            await anyio.sleep(0.001)
            release[n].set()
        for n in range(4, 20):
            release[n].set()
        async for done in results:
            assert done.value == done.input**2
            order.append(done.input)
    assert order[:4] == [3, 1, 2, 0]
    assert sorted(order) == list(range(20))
    assert peak == 4
    assert results.failures == []


async def test_fan_out_collects_failures_with_their_input() -> None:
    async def call(n: int) -> int:
        if n % 3 == 0:
            raise ValueError(f"bad {n}")
        return n

    async def inputs() -> AsyncIterator[int]:
        for n in range(10):
            yield n

    async with bulk.fan_out(call, inputs(), concurrency=3) as results:
        values = sorted([done.value async for done in results])
    assert values == [1, 2, 4, 5, 7, 8]
    assert sorted(failed.input for failed in results.failures) == [0, 3, 6, 9]
    assert all(isinstance(failed.error, ValueError) for failed in results.failures)


async def test_fan_out_fail_fast_raises_the_first_error_and_cancels_the_rest() -> None:
    started = cancelled = 0

    async def call(n: int) -> int:
        nonlocal started, cancelled
        started += 1
        if n == 2:
            raise KeyError(n)
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            cancelled += 1
            raise
        return n

    with pytest.raises(KeyError) as error:
        async with bulk.fan_out(call, range(5), concurrency=5, fail_fast=True) as results:
            async for _ in results:
                pass
    assert "fan_out input: 2" in error.value.__notes__
    assert cancelled == started - 1


async def test_leaving_the_block_early_cancels_the_calls_still_running() -> None:
    started = 0

    async def call(n: int) -> int:
        nonlocal started
        started += 1
        if n:
            await anyio.sleep_forever()
        return n

    async with bulk.fan_out(call, range(1000), concurrency=5) as results:
        async for done in results:
            assert done.input == 0
            break
    assert started <= 5


async def test_fan_out_rejects_a_zero_concurrency() -> None:
    async def call(n: int) -> int:
        return n

    with pytest.raises(ValueError):
        async with bulk.fan_out(call, [1], concurrency=0):
            pass


# -- analytics limits --------------------------------------------------------------------------------------------


def test_the_window_applies_to_the_synchronous_analytics_operations_only() -> None:
    assert "ad_account/analytics" in bulk.ANALYTICS_WINDOW_OPERATIONS
    assert "pins/analytics" in bulk.ANALYTICS_WINDOW_OPERATIONS
    assert "multi_pins/analytics" in bulk.ANALYTICS_WINDOW_OPERATIONS
    assert "analytics/create_template_report" not in bulk.ANALYTICS_WINDOW_OPERATIONS
    assert len(bulk.ANALYTICS_WINDOW_OPERATIONS) == 15


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start_date": "2025-03-01", "end_date": "2025-03-02"}, "start_date"),  # 121 days back
        (
            {"start_date": datetime.date(2025, 3, 31), "end_date": "2025-04-01"},
            None,
        ),  # exactly 91: still ok? no
        ({"start_date": "2025-04-01", "end_date": "2025-07-01"}, "end_date"),  # a span of 91 days
        ({"start_date": "2025-06-20", "end_date": "2025-06-21", "granularity": "HOUR"}, "start_date"),
        ({"start_date": "2025-06-22", "end_date": "2025-06-23", "granularity": "HOUR"}, None),
        ({"start_date": "2025-04-01", "end_date": "2025-06-30", "granularity": "DAY"}, None),
        ({"start_date": "not a date", "end_date": "2025-06-30"}, None),
    ],
)
def test_analytics_dates_are_checked_before_sending(query: dict[str, object], field: str | None) -> None:
    if query["start_date"] == datetime.date(2025, 3, 31):
        field = "start_date"  # 91 days before TODAY
    if field is None:
        bulk.check_analytics_dates("ad_account/analytics", query, today=TODAY)
        return
    with pytest.raises(RequestValidationError) as error:
        bulk.check_analytics_dates("ad_account/analytics", query, today=TODAY)
    assert error.value.field == field


def test_other_operations_are_not_checked() -> None:
    bulk.check_analytics_dates("analytics/create_template_report", {"start_date": "2020-01-01"}, today=TODAY)


async def test_multi_pins_analytics_chunks_and_merges(
    serve: Callable[[web.Application], Awaitable[str]], make_client: Callable[..., Client]
) -> None:
    batches: list[list[str]] = []

    async def analytics(request: web.Request) -> web.Response:
        ids = request.query.getall("pin_ids")
        batches.append(ids)
        return web.json_response(
            {pin_id: {"lifetime_metrics": {"IMPRESSION": int(pin_id)}} for pin_id in ids}
        )

    app = web.Application()
    app.router.add_get("/v5/pins/analytics", analytics)
    client = make_client(await serve(app))
    today = datetime.datetime.now(datetime.UTC).date()
    pin_ids = [str(n) for n in range(250)] + ["7"]
    merged = await bulk.multi_pins_analytics(
        client,
        pin_ids=pin_ids,
        start_date=today - datetime.timedelta(days=10),
        end_date=today,
        metric_types=["IMPRESSION"],
        concurrency=2,
    )
    assert sorted(len(batch) for batch in batches) == [50, 100, 100]
    assert set(merged) == {str(n) for n in range(250)}
    with pytest.raises(RequestValidationError):
        await bulk.multi_pins_analytics(
            client, pin_ids=["1"], start_date="2001-01-01", end_date="2001-01-02", metric_types=["IMPRESSION"]
        )
    assert len(batches) == 3


# -- rows --------------------------------------------------------------------------------------------------------

ROWS = [
    {"ID": str(n), "NAME": f'x "q" {{[}}] \\ é {n}', "SPEND": n * 1.5, "NESTED": {"a": [1, {"b": 2}]}}
    for n in range(50)
]
CSV = '\ufeffID,NAME,NOTE\r\n1,"multi\nline ""quoted""",x\r\n2,plain,"a,b"\n3,last,z'.encode()
CSV_ROWS = [
    {"ID": "1", "NAME": 'multi\nline "quoted"', "NOTE": "x"},
    {"ID": "2", "NAME": "plain", "NOTE": "a,b"},
    {"ID": "3", "NAME": "last", "NOTE": "z"},
]
FILES = {
    "json array": (json.dumps(ROWS).encode(), ROWS),
    "json object of arrays": (json.dumps({"k1": ROWS[:20], "k2": ROWS[20:]}).encode(), ROWS),
    "json lines": (b"\n".join(json.dumps(row).encode() for row in ROWS) + b"\n", ROWS),
    "one json object": (b' {"a": 1, "b": [1, 2]} ', [{"a": 1, "b": [1, 2]}]),
    "gzip members": (
        gzip.compress(json.dumps(ROWS).encode()[:100]) + gzip.compress(json.dumps(ROWS).encode()[100:]),
        ROWS,
    ),
    "csv": (CSV, CSV_ROWS),
    "gzip csv": (gzip.compress(CSV), CSV_ROWS),
    "empty": (b"", []),
}


async def chunked(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 4096])
@pytest.mark.parametrize("name", list(FILES))
async def test_rows_parse_whatever_the_chunking(name: str, size: int) -> None:
    data, expected = FILES[name]
    assert [row async for row in bulk.parse_rows(chunked(data, size))] == expected


@pytest.mark.parametrize(
    "data",
    [json.dumps(ROWS).encode()[:-30], gzip.compress(json.dumps(ROWS).encode())[:-10], b'a,b\n1,"open'],
    ids=["json", "gzip", "csv"],
)
async def test_a_truncated_file_is_an_error(data: bytes) -> None:
    with pytest.raises(ReportError):
        [row async for row in bulk.parse_rows(chunked(data, 64))]
