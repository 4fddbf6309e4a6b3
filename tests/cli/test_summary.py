"""The end-of-export summary: one JSON object with --json, lines on stderr otherwise."""

from __future__ import annotations

import io

import msgspec

from aiopinterest import Client
from aiopinterest.cli.export import ExportSummary, StreamSummary
from aiopinterest.cli.summary import print_summary


async def test_the_json_summary_says_partial_and_counts_items_and_requests() -> None:
    summary = ExportSummary(
        {"boards": StreamSummary(items=3, units=1), "board_pins": StreamSummary(errors=1)}, errors=1
    )
    out, err = io.StringIO(), io.StringIO()
    async with Client(access_token="t", base_url="http://127.0.0.1:9/v5") as client:
        print_summary(summary, client, "partial", as_json=True, quiet=False, out=out, err=err)
    document = msgspec.json.decode(out.getvalue())
    assert document["status"] == "partial" and document["items"] == 3 and document["errors"] == 1
    assert document["streams"]["board_pins"]["errors"] == 1 and document["requests"] == 0
    assert "see errors.jsonl (exit status 2)" in err.getvalue()


async def test_an_unfinished_export_says_so_in_both_summaries() -> None:
    out, err = io.StringIO(), io.StringIO()
    async with Client(access_token="t", base_url="http://127.0.0.1:9/v5") as client:
        print_summary(
            ExportSummary({"boards": StreamSummary()}),
            client,
            "interrupted",
            as_json=True,
            quiet=False,
            out=out,
            err=err,
        )
    assert msgspec.json.decode(out.getvalue())["status"] == "interrupted"
    assert "export interrupted: what was committed stays" in err.getvalue()


async def test_the_budget_line_says_what_holds_a_category_back() -> None:
    import anyio

    from aiopinterest.cli.summary import budget_line
    from aiopinterest.testing import PinterestSimulator, RateLimit

    async with (
        PinterestSimulator(rate_limits={"org_read": RateLimit(2, 60.0)}) as sim,
        Client(access_token=sim.access_token, base_url=sim.base_url) as client,
    ):
        [board_id] = sim.seed(boards=1, pins_per_board=1)
        async with anyio.create_task_group() as group:
            for _ in range(3):
                group.start_soon(lambda: client.boards.get(board_id=board_id))
            with anyio.fail_after(5):
                while not client.metrics.get("org_read") or not client.metrics["org_read"].waiting:  # noqa: ASYNC110
                    await anyio.sleep(0.01)
            line = budget_line(client)
            group.cancel_scope.cancel()
    assert line.startswith("rate budget: 2 requests, 0 429s absorbed")
    assert "org_read: 1 calls waiting for the budget to refill" in line
