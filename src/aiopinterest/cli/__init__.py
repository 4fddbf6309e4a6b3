"""The ``aiopinterest`` command (also ``python -m aiopinterest``): export, call, operations.

Imported only by the command, never by ``import aiopinterest``; rich and pyarrow load only when used.

Exit status: 0 done; 1 failed (an API or network error the export cannot go past; what was committed stays);
2 partial (some parents answered 403 or 404, logged to ``DIR/errors.jsonl``; run again to retry them);
64 bad arguments; 130 interrupted by Ctrl-C, 143 by SIGTERM (committed first: run again to continue).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, NoReturn

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_PARTIAL: Final = 2
EXIT_USAGE: Final = 64
_EXIT_SIGNAL: Final = {signal.SIGINT: 130, signal.SIGTERM: 143}

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_PARTIAL", "EXIT_USAGE", "main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _positive(text: str) -> int:
    value = int(text) if text.isdecimal() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="aiopinterest",
        description="The Pinterest API v5 from the shell. Credentials and the API root come from "
        "PINTEREST_ACCESS_TOKEN (or PINTEREST_APP_ID, PINTEREST_APP_SECRET, PINTEREST_REFRESH_TOKEN) and "
        "PINTEREST_BASE_URL.",
        epilog="Exit status: 0 done, 1 failed, 2 partial (see DIR/errors.jsonl), 64 bad arguments, "
        "130/143 interrupted (run again to continue).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    _export_parser(commands.add_parser("export", help="export streams to files, resumable exactly"))
    call = commands.add_parser("call", help="call any operation and print its JSON response")
    call.add_argument(
        "operation", metavar="OPERATION", help="operationId (boards/list_pins) or boards.list_pins"
    )
    call.add_argument("arguments", nargs="*", metavar="key=value", help="path and query parameters")
    call.add_argument("--body", help="the request body: JSON text, or @FILE")
    call.add_argument("--paginate", action="store_true", help="every item of every page, one JSON a line")
    operations = commands.add_parser(
        "operations", help="list the operations (method, path, scopes, rate limit)"
    )
    operations.add_argument("word", nargs="?", help="only those whose id, method, path or summary has WORD")
    return parser


def _export_parser(export: argparse.ArgumentParser) -> None:
    from .outputs import FORMATS

    export.add_argument("streams", nargs="*", metavar="STREAM", help="streams to export (see --list)")
    export.add_argument("--list", action="store_true", help="list the streams and exit")
    export.add_argument("--out", type=Path, metavar="DIR", help="where the files and the export's state live")
    export.add_argument(
        "--format", choices=FORMATS, default="jsonl", help="file format (default: %(default)s)"
    )
    export.add_argument(
        "--since", type=_date, help="first day of dated streams (default: 29 days before --until)"
    )
    export.add_argument("--until", type=_date, help="last day of dated streams (default: today, UTC)")
    export.add_argument(
        "--ad-account-id", action="append", default=[], metavar="ID", help="only this ad account (repeatable)"
    )
    export.add_argument(
        "--concurrency", type=_positive, default=8, help="parents at once (default: %(default)s)"
    )
    export.add_argument(
        "--redis-url",
        help="share the OAuth token and the rate budget with other workers through Redis (also PINTEREST_REDIS_URL)",
    )
    export.add_argument(
        "--shard", default="1/1", metavar="K/N", help="export the K-th of N shares of the parents"
    )
    export.add_argument("--refresh", action="store_true", help="delete what DIR holds and start over")
    export.add_argument(
        "--commit-every",
        type=_seconds,
        default=1.0,
        metavar="SECONDS",
        help="seconds between commits (default: 1)",
    )
    export.add_argument("--quiet", action="store_true", help="no progress output")
    export.add_argument(
        "--json", action="store_true", help="print a JSON summary on standard output at the end"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (the console script exits with it)."""
    arguments = _parser().parse_args(argv)
    from .call import UsageError

    try:
        if arguments.command == "operations":
            from .call import list_operations

            list_operations(arguments.word)
            return EXIT_OK
        if arguments.command == "export" and arguments.list:
            _print_streams()
            return EXIT_OK
        return _run(arguments)
    except UsageError as error:
        print(f"aiopinterest {arguments.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE


def _print_streams() -> None:
    from .streams import STREAMS

    width = max(len(name) for name in STREAMS)
    for stream in STREAMS.values():
        parent = (
            f"per {stream.parent[:-1] if stream.parent.endswith('s') else stream.parent}"
            if stream.parent
            else ""
        )
        dated = "dated" if stream.dated else ""
        details = ", ".join(part for part in (stream.operation, parent, f"key {stream.key}", dated) if part)
        print(f"{stream.name.ljust(width)}  {stream.description} ({details})")


def _run(arguments: argparse.Namespace) -> int:
    from ..errors import PinterestError, RequestValidationError
    from .call import UsageError

    prepare = _prepare_export if arguments.command == "export" else _prepare_call
    work = prepare(arguments)
    client_options: dict[str, Any] = {}
    if getattr(arguments, "redis_url", None):
        client_options["redis_url"] = arguments.redis_url
    try:
        return asyncio.run(_with_signals(work, client_options))
    except RequestValidationError as error:
        raise UsageError(str(error)) from None
    except _Interrupted as interrupted:
        print(
            f"aiopinterest: stopped by {interrupted.signal.name}; run the same command again to continue",
            file=sys.stderr,
        )
        return _EXIT_SIGNAL[interrupted.signal]
    except (PinterestError, OSError) as error:
        print(f"aiopinterest {arguments.command}: {error}", file=sys.stderr)
        return EXIT_FAILED


class _Interrupted(Exception):
    def __init__(self, received: signal.Signals) -> None:
        super().__init__(received.name)
        self.signal = received


async def _with_signals(work: Any, client_options: dict[str, Any]) -> int:
    """Run ``work(client)``; SIGINT and SIGTERM cancel it (so that the export commits) and raise _Interrupted."""
    from .. import Client

    task = asyncio.current_task()
    assert task is not None
    received: list[signal.Signals] = []
    loop = asyncio.get_running_loop()

    def stop(which: signal.Signals) -> None:
        if not received:
            received.append(which)
            task.cancel()

    for which in _EXIT_SIGNAL:
        loop.add_signal_handler(which, stop, which)
    try:
        async with Client(**client_options) as client:
            status: int = await work(client)
            return status
    except asyncio.CancelledError:
        if received:
            raise _Interrupted(received[0]) from None
        raise
    finally:
        for which in _EXIT_SIGNAL:
            loop.remove_signal_handler(which)


def _prepare_call(arguments: argparse.Namespace) -> Any:
    from .call import call, find_operation, parse_arguments, parse_body

    operation = find_operation(arguments.operation)
    parameters = parse_arguments(operation, arguments.arguments)
    body = parse_body(arguments.body)

    async def work(client: Any) -> int:
        await call(client, operation, parameters, body, paginate=arguments.paginate, out=sys.stdout.buffer)
        return EXIT_OK

    return work


def _prepare_export(arguments: argparse.Namespace) -> Any:
    from .call import UsageError
    from .export import Exporter
    from .options import export_options
    from .progress import make_reporter
    from .state import StateError
    from .summary import budget_line, print_summary

    options = export_options(arguments)

    async def work(client: Any) -> int:
        reporter = make_reporter(quiet=arguments.quiet, budget=lambda: budget_line(client))
        exporter = Exporter(client, options, reporter)
        outcome = "failed"
        try:
            summary = await exporter.run()
            outcome = "partial" if summary.partial else "complete"
        except StateError as error:
            raise UsageError(f"--out: {error}") from None
        except asyncio.CancelledError:
            outcome = "interrupted"
            raise
        finally:
            reporter.close()
            print_summary(exporter.summary, client, outcome, as_json=arguments.json, quiet=arguments.quiet)
        return EXIT_PARTIAL if summary.partial else EXIT_OK

    return work
