"""The demo: a concurrent ingestion job, run against the embedded simulator (default) or the real API (--live).

    make demo                                                         # simulator on 127.0.0.1
    PINTEREST_ACCESS_TOKEN=... python examples/ingest.py --live       # your account, read-only
    PINTEREST_ACCESS_TOKEN=... python examples/ingest.py --live --write clip.mp4 [--board ID]

The job: seed boards and Pins (simulator only); upload a video and create a video Pin (always on the simulator,
where a stand-in clip is used unless --write names a file; on the real API only with --write); stream every Pin
of every board concurrently with a live progress line; pull 90 days of analytics for every Pin (100 ids per
request); run an ad-account analytics report through the asynchronous report flow; print a summary. The exit
status is 0 only if the numbers check out: every Pin streamed exactly once, analytics for each of them, the
video Pin created when one was asked for, and (on the simulator) a report with rows.

A live run without --write changes nothing on the account: it reads the account, its boards, their Pins and
their analytics, and asks for one ad-account report (POST /ad_accounts/{id}/reports, the only POST it sends;
skipped when the token has no ad account or no ads:read scope). --write adds exactly one media upload and one
public video Pin on --board (default: the first board listed), which stays there until you delete it.
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
from dataclasses import dataclass
from pathlib import Path

import anyio

from aiopinterest import Client
from aiopinterest.bulk import AD_ACCOUNT_ANALYTICS, create_report, multi_pins_analytics
from aiopinterest.errors import MissingScopeError, PermissionDeniedError
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


@dataclass(frozen=True)
class Job:
    """What one run does and expects.

    ``video``: the file for the video Pin, or ``None`` to create none. ``board_id``: where it goes (``None``:
    the first board listed). ``expected_pins``: the exact count to stream, when known (the simulator's seed).
    ``expect_report_rows``: a report with no rows fails the run (the simulator always has spend to report).
    """

    video: Path | None
    board_id: str | None = None
    expected_pins: int | None = None
    expect_report_rows: bool = False


async def create_video_pin(client: Client, job: Job, board_ids: list[str]) -> str | None:
    if job.video is None:
        print("video pin: none (read-only run; --write VIDEO makes one)")
        return None
    board_id = job.board_id or (board_ids[0] if board_ids else None)
    if board_id is None:
        raise SystemExit("--write: the account has no board to pin the video to; create one or pass --board")
    video_pin = await client.media.create_video_pin(
        job.video, board_id=board_id, title="aiopinterest demo", cover_image_key_frame_time=1
    )
    print(f"video pin: {video_pin.id} on board {board_id} (media uploaded to S3, processed, pinned)")
    return video_pin.id


async def pin_analytics(client: Client, pin_ids: list[str], today: datetime.date) -> dict[str, object]:
    analytics = await multi_pins_analytics(
        client,
        pin_ids=pin_ids,
        start_date=today - datetime.timedelta(days=ANALYTICS_DAYS - 1),
        end_date=today,
        metric_types=METRICS,
        concurrency=8,
    )
    print(f"pin analytics: {len(analytics):,} pins x {ANALYTICS_DAYS} days")
    return dict(analytics)


async def ad_account_report_rows(client: Client, today: datetime.date) -> int | None:
    """Rows of a 30-day campaign report for the first ad account; ``None`` when there is none to read."""
    try:
        ad_account = await client.ad_accounts.list(page_size=1)
    except (PermissionDeniedError, MissingScopeError):
        print("ad account report: skipped (the token has no ads:read scope)")
        return None
    if not ad_account.items or not ad_account.items[0].id:
        print("ad account report: skipped (no ad account)")
        return None
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
    rows = 0
    async with report.rows() as stream:
        async for _ in stream:
            rows += 1
    print(f"ad account report: {rows} rows")
    return rows


def print_summary(client: Client, items: dict[str, int], elapsed: float) -> None:
    totals = client.metrics.total()
    total = sum(items.values())
    parts = ", ".join(f"{name} {count:,}" for name, count in items.items())
    print(
        "\nsummary\n"
        f"  items      {total:,} ({parts})\n"
        f"  requests   {totals.requests:,}\n"
        f"  retries    {totals.retries:,}\n"
        f"  429s       {totals.rate_limited:,} absorbed\n"
        f"  elapsed    {elapsed:.2f} s\n"
        f"  throughput {total / elapsed:,.0f} items/s"
    )


async def run_job(client: Client, job: Job) -> bool:
    started = time.perf_counter()
    today = datetime.date.today()
    account = await client.user_account.get()
    print(f"account: {account.username}")
    board_ids = [board.id async for board in client.boards.list(page_size=250) if board.id is not None]
    print(f"boards: {len(board_ids)}")

    video_pin_id = await create_video_pin(client, job, board_ids)
    pin_ids = await stream_every_pin(client, board_ids)
    analytics = await pin_analytics(client, pin_ids, today)
    report_rows = await ad_account_report_rows(client, today)

    print_summary(
        client,
        {"pins": len(pin_ids), "analytics": len(analytics), "report rows": report_rows or 0},
        time.perf_counter() - started,
    )
    checks = {
        "every pin streamed exactly once": len(set(pin_ids)) == len(pin_ids)
        and (job.expected_pins is None or len(pin_ids) == job.expected_pins),
        "analytics for every pin": set(analytics) >= set(pin_ids),
    }
    if job.expect_report_rows:
        checks["report has rows"] = bool(report_rows)
    if job.video is not None:
        checks["video pin created"] = video_pin_id is not None
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


def media_file(value: str) -> Path:
    """An existing, non-empty regular file: checked before anything is sent, so a typo uploads nothing."""
    path = Path(value).expanduser()
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{value}: no such file")
    if path.stat().st_size == 0:
        raise argparse.ArgumentTypeError(f"{value}: the file is empty; name a real video")
    return path


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--live",
        action="store_true",
        help="run against api.pinterest.com with PINTEREST_ACCESS_TOKEN; read-only unless --write is given",
    )
    parser.add_argument(
        "--write",
        metavar="VIDEO",
        type=media_file,
        help="upload this video file and create a public video Pin of it (on the simulator: instead of the "
        "stand-in clip)",
    )
    parser.add_argument("--board", metavar="BOARD_ID", help="the board for the --write video Pin")
    parser.add_argument("--boards", type=int, default=8, help="boards to seed (simulator)")
    parser.add_argument("--pins-per-board", type=int, default=2_500, help="Pins per board (simulator)")
    args = parser.parse_args(argv)
    if args.board is not None and args.write is None:
        parser.error("--board: only used with --write")
    return args


async def run_simulated(args: argparse.Namespace) -> bool:
    async with simulated_client(args.boards, args.pins_per_board) as client:
        with tempfile.TemporaryDirectory() as folder:
            video = args.write
            if video is None:
                # A stand-in clip: the simulator checks sizes and policy fields, not codecs.
                video = Path(folder) / "demo.mp4"
                video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4096)
            # The video Pin lands on the first board, so it is streamed too.
            job = Job(
                video=video,
                board_id=args.board,
                expected_pins=args.boards * args.pins_per_board + 1,
                expect_report_rows=True,
            )
            return await run_job(client, job)


async def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    if args.live:
        async with Client() as client:
            ok = await run_job(client, Job(video=args.write, board_id=args.board))
    else:
        ok = await run_simulated(args)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
