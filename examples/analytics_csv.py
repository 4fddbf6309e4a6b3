"""An analytics pull to CSV through the asynchronous report flow: create, poll, stream the file, write rows.

    PINTEREST_ACCESS_TOKEN=... python examples/analytics_csv.py --out spend.csv [--ad-account ID] [--days 30]

Asks for a daily campaign report of the last ``--days`` days for the ad account (default: the first one the
token sees), waits until Pinterest has prepared it, streams the file row by row (never held whole in memory)
and writes it as CSV. Rows go to ``OUT.partial`` first, renamed to ``OUT`` only once the last row is written, so
a failed or interrupted pull never leaves a truncated report under the name you asked for.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime
import sys
from pathlib import Path

import aiopinterest
from aiopinterest.bulk import AD_ACCOUNT_ANALYTICS, create_report

COLUMNS = ["SPEND_IN_DOLLAR", "TOTAL_IMPRESSION", "TOTAL_CLICKTHROUGH"]


async def first_ad_account(client: aiopinterest.Client) -> str:
    page = await client.ad_accounts.list(page_size=1)
    if not page.items or page.items[0].id is None:
        raise SystemExit("--ad-account: the token sees no ad account; pass one")
    return page.items[0].id


async def pull_to_csv(client: aiopinterest.Client, out: Path, *, ad_account_id: str, days: int) -> int:
    """Write the report to ``out``; returns the number of rows."""
    today = datetime.date.today()
    report = await create_report(
        client,
        AD_ACCOUNT_ANALYTICS,
        ad_account_id=ad_account_id,
        body={
            "start_date": str(today - datetime.timedelta(days=days - 1)),
            "end_date": str(today),
            "granularity": "DAY",
            "level": "CAMPAIGN",
            "columns": COLUMNS,
        },
    )
    partial = out.with_name(out.name + ".partial")
    count = 0
    try:
        with partial.open("w", newline="") as file:
            writer: csv.DictWriter[str] | None = None
            async with report.rows() as rows:
                async for row in rows:
                    if writer is None:
                        writer = csv.DictWriter(file, fieldnames=list(row))
                        writer.writeheader()
                    writer.writerow(row)
                    count += 1
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return count


def positive_days(value: str) -> int:
    if not value.isdecimal() or not 1 <= int(value) <= 90:
        raise argparse.ArgumentTypeError("a whole number of days from 1 to 90 (the reporting window)")
    return int(value)


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, required=True, help="the CSV file to write")
    parser.add_argument("--ad-account", metavar="ID", help="the ad account (default: the first one)")
    parser.add_argument("--days", type=positive_days, default=30, help="days up to today (default: 30)")
    args = parser.parse_args(argv)
    async with aiopinterest.Client() as client:
        ad_account_id = args.ad_account or await first_ad_account(client)
        rows = await pull_to_csv(client, args.out, ad_account_id=ad_account_id, days=args.days)
    print(f"{rows} rows -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
