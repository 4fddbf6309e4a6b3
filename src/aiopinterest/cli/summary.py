"""The end of an export: a summary on standard error, or with ``--json`` as one JSON object on standard output."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, TextIO

import msgspec

if TYPE_CHECKING:
    from .. import Client
    from .export import ExportSummary


def budget_line(client: Client) -> str:
    """The rate budget so far, as the progress output shows it."""
    total = client.metrics.total()
    line = (
        f"rate budget: {total.requests:,} requests, {total.rate_limited} 429s absorbed, "
        f"{total.gate_wait:.1f} s waiting for the rate budget, {total.backoff_wait:.1f} s in backoff"
    )
    held = [state for category in client.metrics if (state := _held(client, category))]
    return "; ".join([line, *held])


def _held(client: Client, category: str) -> str | None:
    """What holds a category back now (blocked after a 429, pacing, waiting for its window), if anything."""
    metrics = client.metrics[category]
    if metrics.blocked_until is not None:
        left = metrics.blocked_until - client.clock.monotonic()
        return f"{category} blocked for {left:.0f} s more ({metrics.waiting} calls waiting)"
    if metrics.pace is not None:
        return f"{category} pacing at {metrics.pace:.1f}/s"
    if metrics.waiting:
        return f"{category}: {metrics.waiting} calls waiting for the budget to refill"
    return None


def summary_document(summary: ExportSummary, client: Client, outcome: str) -> dict[str, Any]:
    """``outcome``: complete, partial (some parents failed), failed or interrupted."""
    total = client.metrics.total()
    return {
        "status": outcome,
        "streams": {name: asdict(stream) for name, stream in summary.streams.items()},
        "items": sum(stream.items for stream in summary.streams.values()),
        "errors": summary.errors,
        "requests": total.requests,
        "retries": total.retries,
        "rate_limited": total.rate_limited,
        "seconds": round(summary.seconds, 3),
    }


def print_summary(
    summary: ExportSummary,
    client: Client,
    outcome: str,
    *,
    as_json: bool,
    quiet: bool,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> None:
    document = summary_document(summary, client, outcome)
    if as_json:
        print(msgspec.json.encode(document).decode(), file=out or sys.stdout, flush=True)
    if quiet:
        return
    err = err or sys.stderr
    for name, stream in summary.streams.items():
        state = "already complete" if stream.skipped else f"{stream.items:,} items in {stream.units:,} pages"
        errors = f", {stream.errors} errors" if stream.errors else ""
        print(f"{name}: {state}{errors}", file=err)
    if outcome in ("failed", "interrupted"):
        print(f"export {outcome}: what was committed stays; the same command continues from there", file=err)
    print(
        f"{document['items']:,} items, {document['requests']:,} requests, {document['retries']} retries, "
        f"{document['rate_limited']} 429s absorbed, {summary.seconds:.1f} s"
        + (f"; {summary.errors} parents failed, see errors.jsonl (exit status 2)" if summary.partial else ""),
        file=err,
    )
