"""Progress of an export: rich progress bars on a terminal, plain periodic log lines otherwise, or nothing.

Every reporter shows, per stream, the items and units (pages, windows) written, the rate, and an ETA where the
total is known (a board's ``pin_count``); and a line for the rate budget: requests, 429s absorbed, time spent
waiting for the rate budget (pacing or blocked) and in backoff.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, TextIO

# How often the plain reporter writes a line while items keep coming.
PLAIN_INTERVAL: Final = 5.0
# The rich bars are redrawn by rich itself; the budget line is recomputed at most this often.
_BUDGET_INTERVAL: Final = 0.5

BudgetSource = Callable[[], str]


@dataclass
class _Counts:
    items: int = 0
    units: int = 0
    expected: int | None = None
    started: float = field(default_factory=time.monotonic)

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.items / elapsed if elapsed > 0 else 0.0


class Reporter:
    """The silent reporter (``--quiet``), and the counting every reporter shares."""

    def __init__(self) -> None:
        self.counts: dict[str, _Counts] = {}

    def started(self, stream: str) -> None:
        self.counts[stream] = _Counts()

    def expect(self, stream: str, count: int) -> None:
        counts = self.counts[stream]
        counts.expected = (counts.expected or 0) + count

    def advanced(self, stream: str, items: int) -> None:
        counts = self.counts[stream]
        counts.items += items
        counts.units += 1

    def skipped(self, stream: str) -> None:
        """The stream was already complete in DIR."""

    def finished(self, stream: str) -> None: ...

    def error(self, stream: str, message: str) -> None: ...

    def close(self) -> None: ...


class PlainReporter(Reporter):
    """A line per stream started, finished or failing, and every few seconds one with the counts so far."""

    def __init__(
        self, budget: BudgetSource, out: TextIO = sys.stderr, interval: float = PLAIN_INTERVAL
    ) -> None:
        super().__init__()
        self._budget = budget
        self._out = out
        self._interval = interval
        self._last = time.monotonic()

    def _line(self, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        print(f"{stamp} {text}", file=self._out, flush=True)

    def started(self, stream: str) -> None:
        super().started(stream)
        self._line(f"{stream}: started")

    def advanced(self, stream: str, items: int) -> None:
        super().advanced(stream, items)
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            self._line(f"{_describe(stream, self.counts[stream])}; {self._budget()}")

    def skipped(self, stream: str) -> None:
        self._line(f"{stream}: already complete, nothing to do (--refresh starts over)")

    def finished(self, stream: str) -> None:
        self._line(f"{_describe(stream, self.counts[stream])}; done")

    def error(self, stream: str, message: str) -> None:
        self._line(f"{stream}: {message} (logged to errors.jsonl, going on)")


def _describe(stream: str, counts: _Counts) -> str:
    text = f"{stream}: {counts.items:,} items, {counts.units:,} pages, {counts.rate():,.0f} items/s"
    if counts.expected:
        text += f", {min(counts.items / counts.expected, 1.0):.0%} of {counts.expected:,}"
    return text


class RichReporter(Reporter):
    """rich progress bars, one per stream, and the rate-budget line (rich is the ``cli`` extra)."""

    def __init__(self, budget: BudgetSource, out: TextIO) -> None:
        super().__init__()
        from rich.console import Console, Group
        from rich.live import Live
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._budget = budget
        console = Console(file=out)
        self._progress: Any = Progress(
            TextColumn("[bold]{task.description:<24}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[pages]:>6} pages"),
            TextColumn("{task.fields[rate]:>8} items/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
        )
        # The budget is a line of its own under the bars, not a bar.
        self._budget_line: Any = Progress(TextColumn("{task.description}"), console=console)
        self._budget_task = self._budget_line.add_task(budget())
        self._live: Any = Live(
            Group(self._progress, self._budget_line), console=console, refresh_per_second=8
        )
        self._tasks: dict[str, Any] = {}
        self._budget_at = 0.0
        self._live.start()

    def started(self, stream: str) -> None:
        super().started(stream)
        self._tasks[stream] = self._progress.add_task(stream, total=None, pages=0, rate="0")

    def expect(self, stream: str, count: int) -> None:
        super().expect(stream, count)
        self._progress.update(self._tasks[stream], total=self.counts[stream].expected)

    def advanced(self, stream: str, items: int) -> None:
        super().advanced(stream, items)
        counts = self.counts[stream]
        self._progress.update(
            self._tasks[stream], completed=counts.items, pages=counts.units, rate=f"{counts.rate():,.0f}"
        )
        now = time.monotonic()
        if now - self._budget_at >= _BUDGET_INTERVAL:
            self._budget_at = now
            self._budget_line.update(self._budget_task, description=self._budget())

    def skipped(self, stream: str) -> None:
        self._progress.console.print(f"{stream}: already complete, nothing to do (--refresh starts over)")

    def finished(self, stream: str) -> None:
        counts = self.counts[stream]
        self._progress.update(self._tasks[stream], total=counts.items, completed=counts.items)

    def error(self, stream: str, message: str) -> None:
        self._progress.console.print(f"[yellow]{stream}: {message} (logged to errors.jsonl, going on)")

    def close(self) -> None:
        self._budget_line.update(self._budget_task, description=self._budget())
        self._live.stop()


def make_reporter(*, quiet: bool, budget: BudgetSource, out: TextIO | None = None) -> Reporter:
    """Silent with ``quiet``; rich bars when ``out`` is a terminal and rich is installed; plain lines otherwise."""
    if quiet:
        return Reporter()
    out = out or sys.stderr
    if out.isatty():
        try:
            return RichReporter(budget, out)
        except ImportError:
            pass
    return PlainReporter(budget, out)
