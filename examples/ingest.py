"""The demo: a concurrent ingestion job, run against the embedded simulator (default) or the real API (--live).

    make demo                                           # simulator on 127.0.0.1, nothing else needed
    PINTEREST_ACCESS_TOKEN=... python examples/ingest.py --live

The job: seed boards and Pins (simulator only); upload a video and create a video Pin; stream every Pin of
every board concurrently with a live progress line; pull 90 days of analytics for every Pin (100 ids per
request); run an ad-account analytics report through the asynchronous report flow; print a summary. The exit
status is 0 only if the numbers check out: every Pin streamed exactly once, analytics for each of them, a report
with rows, the video Pin created.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio

from aiopinterest import Client
from aiopinterest.bulk import AD_ACCOUNT_ANALYTICS, create_report, multi_pins_analytics
from aiopinterest.testing import PinterestSimulator, RateLimit

ANALYTICS_DAYS = 90
METRICS = ["IMPRESSION", "SAVE", "PIN_CLICK", "OUTBOUND_CLICK"]


class Progress:
    """One status line, rewritten in place while the streams run (plain lines when not on a terminal)."""

    def __init__(self, total_boards: int) -> None:
        self.total_boards = total_boards
        self.boards_done = 0
        self.pins = 0
        self.started = time.perf_counter()
        self._last_draw = 0.0

    def add(self, pins: int) -> None:
        self.pins += pins
        now = time.perf_counter()
        if now - self._last_draw > 0.1:
            self._last_draw = now
            self.draw()

    def draw(self, final: bool = False) -> None:
        elapsed = time.perf_counter() - self.started
        line = (
            f"streaming pins: {self.pins:>9,} from {self.boards_done}/{self.total_boards} boards "
            f"({self.pins / max(elapsed, 1e-9):,.0f} pins/s)"
        )
        if sys.stdout.isatty():
            print("\r" + line, end="\n" if final else "", flush=True)
        elif final:
            print(line)


async def stream_every_pin(client: Client, board_ids: list[str]) -> list[str]:
    """Every Pin of every board, boards streamed concurrently, each page fetched while the last is processed."""
    progress = Progress(len(board_ids))
    pin_ids: list[str] = []

    async def stream(board_id: str) -> None:
        async for page in client.boards.list_pins(board_id=board_id, page_size=250).pages():
            pin_ids.extend(pin.id for pin in page.items if pin.id is not None)
            progress.add(len(page.items))
        progress.boards_done += 1

    async with anyio.create_task_group() as group:
        for board_id in board_ids:
            group.start_soon(stream, board_id)
    progress.draw(final=True)
    return pin_ids


async def run_job(client: Client, *, video: Path, expected_pins: int | None) -> bool:
    started = time.perf_counter()
    account = await client.user_account.get()
    print(f"account: {account.username}")

    board_ids = [board.id async for board in client.boards.list(page_size=250) if board.id is not None]
    print(f"boards: {len(board_ids)}")

    video_pin = await client.media.create_video_pin(
        video, board_id=board_ids[0], title="aiopinterest demo", cover_image_key_frame_time=1
    )
    print(f"video pin: {video_pin.id} (media uploaded to S3, processed, pinned)")

    pin_ids = await stream_every_pin(client, board_ids)

    today = datetime.date.today()
    analytics = await multi_pins_analytics(
        client,
        pin_ids=pin_ids,
        start_date=today - datetime.timedelta(days=ANALYTICS_DAYS - 1),
        end_date=today,
        metric_types=METRICS,
        concurrency=8,
    )
    print(f"pin analytics: {len(analytics):,} pins x {ANALYTICS_DAYS} days")

    ad_account = await client.ad_accounts.list(page_size=1)
    report_rows = 0
    if ad_account.items and ad_account.items[0].id:
        report = await create_report(
            client,
            AD_ACCOUNT_ANALYTICS,
            ad_account_id=ad_account.items[0].id,
            body={
                "start_date": str(today - datetime.timedelta(days=29)),
                "end_date": str(today),
                "granularity": "DAY",
                "level": "CAMPAIGN",
                "columns": ["SPEND_IN_DOLLAR", "TOTAL_IMPRESSION", "TOTAL_CLICKTHROUGH"],
            },
        )
        async with report.rows() as rows:
            async for _ in rows:
                report_rows += 1
    print(f"ad account report: {report_rows} rows")

    elapsed = time.perf_counter() - started
    totals = client.metrics.total()
    items = len(pin_ids) + len(analytics) + report_rows
    print(
        "\nsummary\n"
        f"  items      {items:,} (pins {len(pin_ids):,}, analytics {len(analytics):,}, report rows {report_rows})\n"
        f"  requests   {totals.requests:,}\n"
        f"  retries    {totals.retries:,}\n"
        f"  429s       {totals.rate_limited:,} absorbed\n"
        f"  elapsed    {elapsed:.2f} s\n"
        f"  throughput {items / elapsed:,.0f} items/s"
    )
    checks = {
        "every pin streamed exactly once": len(set(pin_ids)) == len(pin_ids)
        and (expected_pins is None or len(pin_ids) == expected_pins),
        "analytics for every pin": set(analytics) >= set(pin_ids),
        "report has rows": report_rows > 0,
        "video pin created": video_pin.id is not None,
    }
    for name, ok in checks.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    return all(checks.values())


@asynccontextmanager
async def simulated_client(boards: int, pins_per_board: int) -> AsyncIterator[Client]:
    # A tight analytics budget, so the run shows rate-limit waits being absorbed rather than failing the job.
    async with PinterestSimulator(
        rate_limits={"org_analytics": RateLimit(requests=60, window=1.0)},
        media_processing_delay=0.3,
        report_delay=0.5,
    ) as sim:
        sim.seed(boards=boards, pins_per_board=pins_per_board)
        print(f"simulator: {sim.base_url} ({boards} boards x {pins_per_board:,} pins seeded)")
        async with Client(access_token=sim.access_token, base_url=sim.base_url) as client:
            yield client


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--live", action="store_true", help="run against api.pinterest.com (PINTEREST_ACCESS_TOKEN)"
    )
    parser.add_argument("--boards", type=int, default=8)
    parser.add_argument("--pins-per-board", type=int, default=2_500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        video = Path(folder) / "demo.mp4"
        # A stand-in clip: the simulator checks sizes and policy fields, not codecs. Use a real one with --live.
        video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4096)
        if args.live:
            async with Client() as client:
                ok = await run_job(client, video=video, expected_pins=None)
        else:
            async with simulated_client(args.boards, args.pins_per_board) as client:
                # The video Pin lands on the first board, so it is streamed too.
                ok = await run_job(client, video=video, expected_pins=args.boards * args.pins_per_board + 1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
