"""``bulk.create_report`` and ``Report.rows()`` against the simulator: several polls, an expired URL, a failure.

The simulator's clock decides when a report is ready and when its URL expires; the client's polls are a few
milliseconds apart in real time, and nothing here depends on how fast they are.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest

from aiopinterest import Client, bulk
from aiopinterest.errors import ReportError
from aiopinterest.testing import PinterestSimulator

from .test_reports import ANALYTICS_BODY, FAST

AD_ACCOUNT = "549755885175"
BODY = {**ANALYTICS_BODY, "start_date": "2025-01-01", "end_date": "2025-01-10"}


class PollClock:
    """The simulator's clock: ``now`` moved by hand, plus one second per ``get_report`` poll answered so far.

    So "ready after 3 seconds" means "ready at the fourth poll", however fast or slow the polls come.
    """

    def __init__(self) -> None:
        self.now = 1_000.0
        self.simulator: PinterestSimulator | None = None

    def polls(self) -> int:
        requests = self.simulator.requests if self.simulator is not None else ()
        return sum(request.operation_id == "analytics/get_report" for request in requests)

    def __call__(self) -> float:
        return self.now + self.polls()


@pytest.fixture
def poll_clock() -> PollClock:
    return PollClock()


@pytest.fixture
async def simulator(poll_clock: PollClock) -> AsyncIterator[PinterestSimulator]:
    async with PinterestSimulator(clock=poll_clock, report_delay=3.0) as sim:
        poll_clock.simulator = sim
        yield sim


@pytest.fixture
def client(simulator: PinterestSimulator, make_client: Callable[..., Client]) -> Client:
    return make_client(simulator.origin, access_token=simulator.access_token)


async def create(client: Client) -> bulk.Report:
    return await bulk.create_report(client, bulk.AD_ACCOUNT_ANALYTICS, ad_account_id=AD_ACCOUNT, body=BODY)


async def read_all(report: bulk.Report) -> list[bulk.ReportRow]:
    async with report.rows(poll=FAST) as rows:
        return [row async for row in rows]


async def test_a_report_that_takes_several_polls(client: Client, poll_clock: PollClock) -> None:
    report = await create(client)
    rows = await read_all(report)
    # Created at t, ready at t + 3: the polls at t, t + 1 and t + 2 answer IN_PROGRESS, the fourth FINISHED.
    assert poll_clock.polls() == 4
    assert [row["DATE"] for row in rows] == [f"2025-01-{day:02d}" for day in range(1, 11)]
    assert all(row["AD_ACCOUNT_ID"] == AD_ACCOUNT and "SPEND_IN_DOLLAR" in row for row in rows)


async def test_an_expired_url_is_replaced_by_a_fresh_one(client: Client, poll_clock: PollClock) -> None:
    report = await create(client)
    first_url = await report.wait(FAST)
    polls = poll_clock.polls()
    # Past the URL's five minutes on the simulator's clock, though only milliseconds passed for the client: so
    # the client still holds the URL as fresh, and learns of the expiry from the file host's 403.
    poll_clock.now += 301.0
    rows = await read_all(report)
    assert len(rows) == 10
    assert poll_clock.polls() == polls + 1
    async with aiohttp.ClientSession() as http, http.get(first_url) as response:
        assert response.status == 403
        assert "Request has expired" in await response.text()


async def test_a_failed_report_raises_report_error(simulator: PinterestSimulator, client: Client) -> None:
    report = await create(client)
    simulator.fail_report(report.token)
    with pytest.raises(ReportError) as error:
        await read_all(report)
    assert (error.value.status, error.value.token) == ("FAILED", report.token)


async def test_every_report_fails_when_the_simulator_is_told_so(
    simulator: PinterestSimulator, client: Client
) -> None:
    simulator.fail_reports = True
    with pytest.raises(ReportError, match="failed"):
        await read_all(await create(client))
