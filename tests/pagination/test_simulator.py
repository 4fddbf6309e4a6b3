"""Pagination and the ad account report flow against the project's simulator."""

from __future__ import annotations

from collections.abc import Callable

from aiopinterest import Client, bulk
from aiopinterest.errors import PaginationError
from aiopinterest.testing import Faults, PinterestSimulator

from .test_reports import ANALYTICS_BODY, FAST


async def test_streams_and_resumes_a_seeded_board(make_client: Callable[..., Client]) -> None:
    async with PinterestSimulator() as sim:
        board_id = sim.seed(boards=1, pins_per_board=1234)[0]
        client = make_client(sim.base_url.removesuffix("/v5"), access_token=sim.access_token)
        every = [pin.id async for pin in client.boards.list_pins(board_id=board_id)]
        assert len(every) == len(set(every)) == 1234

        paginator = client.boards.list_pins(board_id=board_id, page_size=100)
        head = []
        async with paginator:
            async for pin in paginator:
                head.append(pin.id)
                if len(head) == 321:
                    break
        rest = [
            pin.id async for pin in client.boards.list_pins(board_id=board_id, bookmark=paginator.bookmark)
        ]
        assert head + rest == every


async def test_server_errors_mid_stream_lose_and_duplicate_nothing(
    make_client: Callable[..., Client],
) -> None:
    async with PinterestSimulator(route_faults={"boards/list_pins": Faults(error_rate=0.5)}, seed=7) as sim:
        board_id = sim.seed(boards=1, pins_per_board=2000)[0]
        client = make_client(sim.base_url.removesuffix("/v5"), access_token=sim.access_token)
        ids: list[str | None] = []
        bookmark: str | None = None
        resumes = 0
        while (
            True
        ):  # the retry policy absorbs most errors; a page that still fails is resumed from its bookmark
            try:
                async for pin in client.boards.list_pins(board_id=board_id, page_size=50, bookmark=bookmark):
                    ids.append(pin.id)
                break
            except PaginationError as error:
                bookmark = error.bookmark
                resumes += 1
        assert len(ids) == len(set(ids)) == 2000
        assert resumes >= 1


async def test_ad_account_report_rows(make_client: Callable[..., Client]) -> None:
    async with PinterestSimulator(report_delay=0.0) as sim:
        client = make_client(sim.base_url.removesuffix("/v5"), access_token=sim.access_token)
        for report_format in ("JSON", "CSV"):
            report = await bulk.create_report(
                client,
                bulk.AD_ACCOUNT_ANALYTICS,
                ad_account_id="1",
                body={**ANALYTICS_BODY, "report_format": report_format},
            )
            async with report.rows(poll=FAST) as rows:
                parsed = [row async for row in rows]
            assert parsed
            assert all(isinstance(row, dict) for row in parsed)
