"""Report flows against a loopback server: several polls, an expired URL, failures, MMM creation limit."""

from __future__ import annotations

import gzip
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from aiopinterest import Client, bulk
from aiopinterest.errors import ReportError

from .conftest import InstantClock

FAST = bulk.PollPolicy(initial=0.001, factor=2.0, max_interval=0.004, timeout=5.0)
ROWS = [{"AD_ID": str(n), "SPEND_IN_DOLLAR": n * 0.5} for n in range(1000)]
ANALYTICS_BODY = {
    "start_date": "2025-01-01",
    "end_date": "2025-03-01",
    "granularity": "DAY",
    "level": "CAMPAIGN",
    "columns": ["SPEND_IN_DOLLAR"],
    "report_format": "JSON",
}
MMM_BODY = {
    "report_name": "mmm",
    "start_date": "2025-01-01",
    "end_date": "2025-03-01",
    "granularity": "DAY",
    "level": "CAMPAIGN_TARGETING",
    "targeting_types": ["COUNTRY"],
    "columns": ["SPEND_IN_DOLLAR"],
}


@dataclass
class ReportServer:
    """Answers IN_PROGRESS ``polls`` times, then FINISHED with a file URL; faults on demand."""

    file: bytes
    polls: int = 2
    final_status: str = "FINISHED"
    expire_first_url: bool = False
    origin: str = ""
    gets: int = 0
    creates: int = 0
    file_requests: list[dict[str, str]] = field(default_factory=list)
    urls_served: int = 0

    def state(self) -> dict[str, object]:
        self.gets += 1
        if self.gets <= self.polls:
            return {"report_status": "IN_PROGRESS"}
        if self.final_status != "FINISHED":
            return {"report_status": self.final_status}
        self.urls_served += 1
        return {
            "report_status": "FINISHED",
            "url": f"{self.origin}/files/{self.urls_served}",
            "size": len(self.file),
        }

    async def create(self, request: web.Request) -> web.Response:
        self.creates += 1
        await request.read()
        if request.path.endswith("mmm_reports"):
            return web.json_response({"code": 0, "data": {"token": "tok", "report_status": "IN_PROGRESS"}})
        return web.json_response({"token": "tok", "report_status": "IN_PROGRESS"})

    async def get(self, request: web.Request) -> web.Response:
        assert request.query["token"] == "tok"
        if request.path.endswith("mmm_reports"):
            return web.json_response({"code": 0, "data": self.state()})
        return web.json_response(self.state())

    async def download(self, request: web.Request) -> web.StreamResponse:
        self.file_requests.append(dict(request.headers))
        if self.expire_first_url and request.match_info["n"] == "1":
            return web.Response(
                status=403, text="<Error><Code>AccessDenied</Code>Request has expired</Error>"
            )
        response = web.StreamResponse()
        await response.prepare(request)
        for start in range(0, len(self.file), 1000):  # dribbled out, as a large file would be
            await response.write(self.file[start : start + 1000])
        return response


@pytest.fixture
async def report_api(
    serve: Callable[[web.Application], Awaitable[str]], make_client: Callable[..., Client]
) -> Callable[..., Awaitable[tuple[ReportServer, Client]]]:
    async def start(**settings: object) -> tuple[ReportServer, Client]:
        server = ReportServer(**settings)  # type: ignore[arg-type]
        app = web.Application()
        for path in (
            "/v5/ad_accounts/{id}/reports",
            "/v5/ad_accounts/{id}/mmm_reports",
            "/v5/catalogs/reports",
        ):
            app.router.add_post(path, server.create)
            app.router.add_get(path, server.get)
        app.router.add_get("/files/{n}", server.download)
        server.origin = await serve(app)
        return server, make_client(server.origin)

    return start


async def read_all(report: bulk.Report, **options: object) -> list[bulk.ReportRow]:
    async with report.rows(poll=FAST, **options) as rows:  # type: ignore[arg-type]
        return [row async for row in rows]


async def test_a_report_that_takes_several_polls(
    report_api: Callable[..., Awaitable[tuple[ReportServer, Client]]],
) -> None:
    server, client = await report_api(file=json.dumps(ROWS).encode(), polls=4)
    report = await bulk.create_report(
        client, bulk.AD_ACCOUNT_ANALYTICS, ad_account_id="1", body=ANALYTICS_BODY
    )
    assert report.token == "tok"
    assert await read_all(report) == ROWS
    assert server.gets == 5
    assert all("Authorization" not in headers for headers in server.file_requests)


@pytest.mark.parametrize("compress", [False, True])
async def test_csv_and_gzip_files_are_parsed(
    report_api: Callable[..., Awaitable[tuple[ReportServer, Client]]], compress: bool
) -> None:
    text = "AD_ID,SPEND_IN_DOLLAR\n" + "".join(f"{row['AD_ID']},{row['SPEND_IN_DOLLAR']}\n" for row in ROWS)
    data = gzip.compress(text.encode()) if compress else text.encode()
    _, client = await report_api(file=data)
    report = await bulk.create_report(
        client, bulk.AD_ACCOUNT_ANALYTICS, ad_account_id="1", body=ANALYTICS_BODY
    )
    rows = await read_all(report)
    assert rows == [{"AD_ID": row["AD_ID"], "SPEND_IN_DOLLAR": str(row["SPEND_IN_DOLLAR"])} for row in ROWS]


async def test_an_expired_url_is_replaced_by_a_fresh_one(
    report_api: Callable[..., Awaitable[tuple[ReportServer, Client]]],
) -> None:
    server, client = await report_api(file=json.dumps(ROWS).encode(), expire_first_url=True, polls=0)
    report = await bulk.create_report(
        client, bulk.AD_ACCOUNT_ANALYTICS, ad_account_id="1", body=ANALYTICS_BODY
    )
    assert await read_all(report) == ROWS
    assert server.urls_served == 2
    assert len(server.file_requests) == 2


@pytest.mark.parametrize("status", ["FAILED", "EXPIRED", "CANCELLED"])
async def test_a_failed_report_raises(
    report_api: Callable[..., Awaitable[tuple[ReportServer, Client]]], status: str
) -> None:
    _, client = await report_api(file=b"", polls=1, final_status=status)
    report = await bulk.create_report(
        client, bulk.AD_ACCOUNT_ANALYTICS, ad_account_id="1", body=ANALYTICS_BODY
    )
    with pytest.raises(ReportError) as error:
        await report.wait(FAST)
    assert error.value.status == status
    assert error.value.token == "tok"


async def test_a_report_never_ready_times_out(
    report_api: Callable[..., Awaitable[tuple[ReportServer, Client]]],
) -> None:
    _, client = await report_api(file=b"", polls=10**9)
    report = bulk.Report(client, bulk.AD_ACCOUNT_ANALYTICS, token="tok", ad_account_id="1")
    with pytest.raises(ReportError, match="not ready"):
        await report.wait(bulk.PollPolicy(initial=0.001, max_interval=0.001, timeout=0.05))


async def test_breaking_off_closes_the_download(
    report_api: Callable[..., Awaitable[tuple[ReportServer, Client]]],
) -> None:
    _, client = await report_api(file=json.dumps(ROWS).encode(), polls=0)
    report = await bulk.create_report(
        client, bulk.AD_ACCOUNT_ANALYTICS, ad_account_id="1", body=ANALYTICS_BODY
    )
    async with report.rows(poll=FAST) as rows:
        async for row in rows:
            assert row == ROWS[0]
            break


async def test_mmm_and_catalog_flows(
    report_api: Callable[..., Awaitable[tuple[ReportServer, Client]]],
) -> None:
    server, client = await report_api(file=json.dumps({"k": ROWS[:10]}).encode(), polls=1)
    mmm = await bulk.create_report(client, bulk.MMM, ad_account_id="1", body=MMM_BODY)
    assert await read_all(mmm) == ROWS[:10]
    server.gets = 0
    catalog = await bulk.create_report(
        client,
        bulk.CATALOG,
        body={"catalog_type": "RETAIL", "report": {"report_type": "FEED_INGESTION_ISSUES", "feed_id": "1"}},
    )
    assert await read_all(catalog) == ROWS[:10]


async def test_mmm_creation_keeps_to_five_a_minute_per_advertiser(
    report_api: Callable[..., Awaitable[tuple[ReportServer, Client]]], clock: InstantClock
) -> None:
    server, client = await report_api(file=b"[]")
    for _ in range(5):
        await bulk.create_report(client, bulk.MMM, ad_account_id="1", body=MMM_BODY)
    await bulk.create_report(client, bulk.MMM, ad_account_id="2", body=MMM_BODY)
    assert clock.sleeps == []
    await bulk.create_report(client, bulk.MMM, ad_account_id="1", body=MMM_BODY)
    assert clock.sleeps == [60.0]
    assert server.creates == 7
