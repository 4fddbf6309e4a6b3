"""``aiopinterest export`` arguments checked and turned into :class:`ExportOptions`; bad ones name the option."""

from __future__ import annotations

import argparse
import datetime
import importlib.util

from .call import UsageError
from .export import ExportOptions, Shard
from .streams import STREAMS, SYNC_DAYS_BACK


def export_options(arguments: argparse.Namespace) -> ExportOptions:
    if not arguments.streams:
        raise UsageError(f"STREAM: name at least one stream ({_valid_streams()}), or --list")
    unknown = [name for name in arguments.streams if name not in STREAMS]
    if unknown:
        raise UsageError(
            f"STREAM: unknown stream {', '.join(map(repr, unknown))}; valid streams: {_valid_streams()}"
        )
    if arguments.out is None:
        raise UsageError("--out: required (the directory of the files and of the export's state)")
    if arguments.format == "parquet" and importlib.util.find_spec("pyarrow") is None:
        raise UsageError("--format parquet: needs pyarrow (pip install 'aiopinterest[parquet]')")
    until = arguments.until or datetime.datetime.now(datetime.UTC).date()
    if arguments.since is not None and arguments.since > until:
        raise UsageError(f"--since: {arguments.since} is after --until {until}")
    _check_organic_window(arguments.streams, arguments.since)
    return ExportOptions(
        directory=arguments.out,
        streams=list(dict.fromkeys(arguments.streams)),
        format=arguments.format,
        since=arguments.since,
        until=arguments.until,
        ad_account_ids=list(dict.fromkeys(arguments.ad_account_id)),
        concurrency=arguments.concurrency,
        shard=parse_shard(arguments.shard),
        refresh=arguments.refresh,
        commit_every=arguments.commit_every,
    )


def _valid_streams() -> str:
    return ", ".join(STREAMS)


def parse_shard(text: str) -> Shard:
    """``K/N``: the K-th (1-based) of N workers."""
    index, slash, count = text.partition("/")
    if not (slash and index.isdecimal() and count.isdecimal() and 1 <= int(index) <= int(count)):
        raise UsageError(f"--shard: {text!r} is not K/N with 1 <= K <= N (for example 2/4)")
    return Shard(int(index) - 1, int(count))


def _check_organic_window(streams: list[str], since: datetime.date | None) -> None:
    """Organic analytics have no asynchronous report: the API answers for the last 90 days only."""
    if since is None:
        return
    earliest = datetime.datetime.now(datetime.UTC).date() - datetime.timedelta(days=SYNC_DAYS_BACK)
    organic = [name for name in streams if STREAMS[name].dated and STREAMS[name].report_level is None]
    if organic and since < earliest:
        raise UsageError(
            f"--since: {since} is more than {SYNC_DAYS_BACK} days ago; {', '.join(organic)} reach back to "
            f"{earliest} (ads analytics streams reach further, through asynchronous reports)"
        )
