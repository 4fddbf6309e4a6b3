"""Plain progress lines when stderr is not a terminal; rich bars when it is; nothing with --quiet."""

from __future__ import annotations

import io

from aiopinterest.cli.progress import PlainReporter, Reporter, RichReporter, make_reporter


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_give_items_pages_rate_share_of_the_total_and_the_budget() -> None:
    out = io.StringIO()
    reporter = PlainReporter(lambda: "rate budget: 3 requests", out, interval=0.0)
    reporter.started("board_pins")
    reporter.expect("board_pins", 500)
    reporter.advanced("board_pins", 250)
    reporter.error("board_pins", "403 Forbidden for board_id=2")
    reporter.finished("board_pins")
    text = out.getvalue()
    assert "board_pins: 250 items, 1 pages" in text and "50% of 500" in text
    assert "rate budget: 3 requests" in text
    assert "403 Forbidden for board_id=2 (logged to errors.jsonl, going on)" in text


def test_the_reporter_follows_the_terminal_and_quiet() -> None:
    assert type(make_reporter(quiet=True, budget=str)) is Reporter
    assert isinstance(make_reporter(quiet=False, budget=str, out=io.StringIO()), PlainReporter)
    terminal = _Terminal()
    reporter = make_reporter(quiet=False, budget=lambda: "rate budget: 0 requests", out=terminal)
    assert isinstance(reporter, RichReporter)
    reporter.started("boards")
    reporter.advanced("boards", 3)
    reporter.finished("boards")
    reporter.close()
    assert "boards" in terminal.getvalue() and "rate budget" in terminal.getvalue()
