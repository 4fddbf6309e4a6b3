"""Resuming: a finished export does nothing again, a failed one continues with every item exactly once,
parents the token cannot read are logged and skipped, dated streams extend."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from aiopinterest import Client, RequestEvent, RetryPolicy
from aiopinterest.cli.export import ERRORS_FILE
from aiopinterest.cli.state import STATE_FILE, StateError
from aiopinterest.errors import PaginationError
from aiopinterest.testing import Faults, PinterestSimulator

from .conftest import export, lines


def _append(path: Path, content: bytes) -> None:
    with open(path, "ab") as file:
        file.write(content)


def _logged_errors(directory: Path) -> list[dict[str, object]]:
    return [msgspec.json.decode(line) for line in lines(directory / ERRORS_FILE)]


def _ids(path: Path) -> list[str]:
    return [msgspec.json.decode(line)["id"] for line in lines(path)]


async def test_a_finished_export_run_again_sends_nothing(
    pinterest_simulator: PinterestSimulator, pinterest_client: Client, tmp_path: Path
) -> None:
    pinterest_simulator.seed(boards=2, pins_per_board=300)
    await export(pinterest_client, tmp_path, "boards", "board_pins")
    before = (tmp_path / "board_pins.jsonl").read_bytes()
    sent = len(pinterest_simulator.requests)
    summary = await export(pinterest_client, tmp_path, "boards", "board_pins")
    assert len(pinterest_simulator.requests) == sent
    assert summary.streams["board_pins"].skipped
    assert (tmp_path / "board_pins.jsonl").read_bytes() == before


async def test_refresh_starts_over(
    pinterest_simulator: PinterestSimulator, pinterest_client: Client, tmp_path: Path
) -> None:
    pinterest_simulator.seed(boards=1, pins_per_board=20)
    await export(pinterest_client, tmp_path, "board_pins")
    summary = await export(pinterest_client, tmp_path, "board_pins", refresh=True)
    assert summary.streams["board_pins"].items == 20
    assert len(_ids(tmp_path / "board_pins.jsonl")) == 20


async def test_a_directory_of_another_format_is_refused(pinterest_client: Client, tmp_path: Path) -> None:
    await export(pinterest_client, tmp_path, "boards")
    with pytest.raises(StateError, match="--format jsonl"):
        await export(pinterest_client, tmp_path, "boards", format="csv")


async def test_an_export_that_failed_mid_list_continues_with_every_item_once(
    pinterest_simulator: PinterestSimulator, tmp_path: Path
) -> None:
    [board_id] = pinterest_simulator.seed(boards=1, pins_per_board=2_000)
    pages = 0

    def fail_after_three_pages(event: RequestEvent) -> None:
        nonlocal pages
        if "/pins" in str(event.url):
            pages += 1
            if pages == 4:
                pinterest_simulator.route_faults["boards/list_pins"] = Faults(error_rate=1.0)

    async with Client(
        access_token=pinterest_simulator.access_token,
        base_url=pinterest_simulator.base_url,
        retry=RetryPolicy.disabled(),
        on_request=fail_after_three_pages,
    ) as client:
        with pytest.raises(PaginationError):
            await export(client, tmp_path, "board_pins")
    # Written past the last commit: cut off on the next run.
    _append(tmp_path / "board_pins.jsonl", b'{"id":"half a line')
    pinterest_simulator.route_faults.clear()
    async with Client(
        access_token=pinterest_simulator.access_token, base_url=pinterest_simulator.base_url
    ) as client:
        await export(client, tmp_path, "board_pins")
    expected = [pin.id async for pin in client_pins(pinterest_simulator, board_id)]
    assert _ids(tmp_path / "board_pins.jsonl") == expected


async def client_pins(simulator: PinterestSimulator, board_id: str) -> AsyncIterator[str]:
    async with Client(access_token=simulator.access_token, base_url=simulator.base_url) as client:
        async for pin in client.boards.list_pins(board_id=board_id):
            yield pin


async def test_dated_streams_extend_from_the_last_day_exported(
    pinterest_simulator: PinterestSimulator, pinterest_client: Client, tmp_path: Path
) -> None:
    today = datetime.datetime.now(datetime.UTC).date()
    since = today - datetime.timedelta(days=20)
    await export(
        pinterest_client,
        tmp_path,
        "user_account_analytics",
        since=since,
        until=today - datetime.timedelta(days=5),
    )
    await export(pinterest_client, tmp_path, "user_account_analytics", since=since, until=today)
    days = [msgspec.json.decode(line)["date"] for line in lines(tmp_path / "user_account_analytics.jsonl")]
    assert days == [(since + datetime.timedelta(days=n)).isoformat() for n in range(21)]
    [_, second] = [
        r.query for r in pinterest_simulator.requests if r.operation_id == "user_account/analytics"
    ]
    assert f"start_date={(today - datetime.timedelta(days=4)).isoformat()}" in second


async def test_ads_analytics_older_than_90_days_come_from_asynchronous_reports(
    pinterest_simulator: PinterestSimulator, pinterest_client: Client, tmp_path: Path
) -> None:
    pinterest_simulator.report_delay = 0.0
    today = datetime.datetime.now(datetime.UTC).date()
    since = today - datetime.timedelta(days=120)
    summary = await export(pinterest_client, tmp_path, "ad_account_analytics", since=since, until=today)
    assert not summary.partial
    operations = [r.operation_id for r in pinterest_simulator.requests]
    assert "analytics/create_report" in operations and "ad_account/analytics" in operations
    rows = [msgspec.json.decode(line) for line in lines(tmp_path / "ad_account_analytics.jsonl")]
    # The report covers the 30 days past the synchronous reach, a row a day.
    assert sum(1 for row in rows if row.get("LEVEL") == "ADVERTISER") == 30


@pytest.fixture
async def board_api() -> AsyncIterator[tuple[TestServer, dict[str, bool]]]:
    """Two boards, the second one's Pins forbidden (with Pinterest's request id header)."""

    switch = {"allow": False}

    async def boards(request: web.Request) -> web.Response:
        return web.json_response({"items": [{"id": "1"}, {"id": "2"}], "bookmark": None})

    async def pins(request: web.Request) -> web.Response:
        if request.match_info["board_id"] == "2" and not switch["allow"]:
            return web.json_response(
                {"code": 29, "message": "You are not permitted to access that resource."},
                status=403,
                headers={"x-pinterest-rid": "rid-123"},
            )
        board = request.match_info["board_id"]
        return web.json_response({"items": [{"id": f"{board}0"}, {"id": f"{board}1"}], "bookmark": None})

    async def sections(request: web.Request) -> web.Response:
        if request.match_info["board_id"] == "2":
            return web.json_response({"code": 40, "message": "Board not found."}, status=404)
        return web.json_response({"items": [{"id": "5"}], "bookmark": None})

    async def section_pins(request: web.Request) -> web.Response:
        return web.json_response({"items": [{"id": "50"}], "bookmark": None})

    app = web.Application()
    app.router.add_get("/v5/boards/{board_id}/sections", sections)
    app.router.add_get("/v5/boards/{board_id}/sections/{section_id}/pins", section_pins)
    app.router.add_get("/v5/boards", boards)
    app.router.add_get("/v5/boards/{board_id}/pins", pins)
    async with TestServer(app, host="127.0.0.1") as server:
        yield server, switch


async def test_a_forbidden_parent_is_logged_with_its_request_id_and_retried_next_time(
    board_api: tuple[TestServer, dict[str, bool]], tmp_path: Path
) -> None:
    server, switch = board_api
    async with Client(access_token="t", base_url=str(server.make_url("/v5"))) as client:
        summary = await export(client, tmp_path, "board_pins")
        assert summary.partial and summary.errors == 1
        [error] = _logged_errors(tmp_path)
        assert error["parent"] == {"board_id": "2"} and error["status"] == 403
        assert error["request_id"] == "rid-123" and error["stream"] == "board_pins"
        assert _ids(tmp_path / "board_pins.jsonl") == ["10", "11"]

        switch["allow"] = True
        summary = await export(client, tmp_path, "board_pins")
        assert not summary.partial
        assert _ids(tmp_path / "board_pins.jsonl") == ["10", "11", "20", "21"]
    assert (tmp_path / STATE_FILE).exists()


async def test_shards_split_the_parents_between_workers(
    pinterest_simulator: PinterestSimulator, pinterest_client: Client, tmp_path: Path
) -> None:
    from aiopinterest.cli.export import Shard

    pinterest_simulator.seed(boards=6, pins_per_board=3)
    shares = []
    for index in range(3):
        await export(pinterest_client, tmp_path / str(index), "board_pins", shard=Shard(index, 3))
        shares.append(_ids(tmp_path / str(index) / "board_pins.jsonl"))
    every = [pin for share in shares for pin in share]
    assert len(every) == len(set(every)) == 18


async def test_a_parent_whose_children_cannot_be_listed_is_a_partial_failure(
    board_api: tuple[TestServer, dict[str, bool]], tmp_path: Path
) -> None:
    server, _ = board_api
    async with Client(access_token="t", base_url=str(server.make_url("/v5"))) as client:
        assert (await export(client, tmp_path, "board_section_pins")).partial
    [error] = _logged_errors(tmp_path)
    assert error["parent"] == {"board_id": "2"} and error["status"] == 404
    [pin] = [msgspec.json.decode(line) for line in lines(tmp_path / "board_section_pins.jsonl")]
    assert pin == {"board_id": "1", "board_section_id": "5", "id": "50"}
