"""The command as a process: usage errors, exit statuses, and an export killed at random moments."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from aiopinterest.cli import EXIT_USAGE, main
from aiopinterest.cli.state import STATE_FILE

from .conftest import SimulatorProcess, lines, run_command


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (
            ["export", "boards", "nope", "--out", "x"],
            "STREAM: unknown stream 'nope'; valid streams: user_account,",
        ),
        (["export", "boards"], "--out"),
        (["export", "boards", "--out", "x", "--format", "xml"], "argument --format: invalid choice: 'xml'"),
        (["export", "boards", "--out", "x", "--shard", "3/2"], "--shard: '3/2' is not K/N"),
        (
            ["export", "boards", "--out", "x", "--since", "yesterday"],
            "argument --since: 'yesterday' is not a date (YYYY-MM-DD)",
        ),
        (
            ["export", "pin_analytics", "--out", "x", "--since", "2001-01-01"],
            "--since: 2001-01-01 is more than 90",
        ),
        (["export", "boards", "--out", "x", "--concurrency", "0"], "--concurrency"),
        (["call", "pins/nope"], "OPERATION: no operation 'pins/nope'"),
        (["call", "pins.get"], "pins/get needs pin_id=..."),
        (
            ["call", "pins.get", "pin=1"],
            "pin: not a parameter of pins/get (its parameters: pin_id, ad_account_id",
        ),
        (["call", "boards.list_pins", "board_id=1", "page_size=many"], "page_size: 'many' is not an integer"),
        (["call", "boards.create", "--body", "{nope"], "--body: --body is not JSON"),
    ],
)
def test_bad_arguments_are_a_usage_error_naming_the_option(
    arguments: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        status = main(arguments)
    except SystemExit as exit:
        status = exit.code  # type: ignore[assignment]
    assert status == EXIT_USAGE
    assert named in capsys.readouterr().err


def test_redis_url_reaches_the_client_and_an_unreachable_redis_fails_the_run_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINTEREST_ACCESS_TOKEN", "t")
    monkeypatch.setenv("PINTEREST_BASE_URL", "http://127.0.0.1:9/v5")
    arguments = [
        "export",
        "boards",
        "--out",
        str(tmp_path),
        "--quiet",
        "--redis-url",
        "redis://u:pw@127.0.0.1:1/0",
    ]
    assert main(arguments) == 1
    error = capsys.readouterr().err
    assert "cannot reach Redis at redis://u:***@127.0.0.1:1/0" in error
    assert "pw" not in error


def test_export_list_names_every_stream(capsys: pytest.CaptureFixture[str]) -> None:
    from aiopinterest.cli.streams import STREAMS

    assert main(["export", "--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == list(STREAMS)


def test_operations_filters_by_word(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["operations", "sections"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["OPERATION", "METHOD", "HTTP", "SCOPES", "RATE", "LIMIT"]
    assert any(
        line.split()[:4]
        == [
            "board_sections/list_pins",
            "boards.sections_list_pins",
            "GET",
            "/boards/{board_id}/sections/{section_id}/pins",
        ]
        for line in out
    )
    assert all("section" in line.lower() for line in out[1:])


def test_call_prints_the_response_and_paginate_streams_every_item(
    simulator_process: SimulatorProcess,
) -> None:
    boards = simulator_process.run("call", "boards.list", "page_size=1")
    assert boards.returncode == 0, boards.stderr
    page = msgspec.json.decode(boards.stdout)
    board_id = page["items"][0]["id"]
    every = simulator_process.run(
        "call", "boards/list_pins", f"board_id={board_id}", "page_size=7", "--paginate"
    )
    assert every.returncode == 0, every.stderr
    pins = [msgspec.json.decode(line) for line in every.stdout.splitlines()]
    assert len({pin["id"] for pin in pins}) == len(pins) == 300
    created = simulator_process.run("call", "boards.create", "--body", '{"name": "From the shell"}')
    assert msgspec.json.decode(created.stdout)["name"] == "From the shell"
    missing = simulator_process.run("call", "pins.get", "pin_id=1")
    assert missing.returncode == 1 and b"404" in missing.stderr


def test_export_json_summary_and_plain_progress_when_not_a_terminal(
    simulator_process: SimulatorProcess, tmp_path: Path
) -> None:
    done = simulator_process.run("export", "boards", "board_pins", "--out", str(tmp_path), "--json")
    assert done.returncode == 0, done.stderr
    summary = msgspec.json.decode(done.stdout)
    assert summary["status"] == "complete" and summary["streams"]["board_pins"]["items"] == 600
    assert b"board_pins: 600 items" in done.stderr  # plain lines: stderr is a pipe
    quiet = simulator_process.run("export", "boards", "--out", str(tmp_path), "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == b""


@pytest.fixture(scope="module")
def slow_simulator() -> Iterator[SimulatorProcess]:
    # Slow enough that an export takes about a second, so that kills land in the middle of it.
    process = SimulatorProcess("--boards", "3", "--pins-per-board", "2000", "--latency", "0.04")
    try:
        yield process
    finally:
        process.close()


def _export_arguments(directory: Path, format: str = "jsonl") -> list[str]:
    return [
        "export",
        "boards",
        "board_pins",
        "--out",
        str(directory),
        "--format",
        format,
        "--concurrency",
        "2",
        "--commit-every",
        "0.05",
        "--quiet",
    ]


def _wait_until_under_way(directory: Path, process: subprocess.Popen[bytes]) -> None:
    """Until the export has made a commit (so it is past start-up), or has ended."""
    deadline = time.monotonic() + 30
    while not (directory / STATE_FILE).exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)


def _items(directory: Path, name: str, format: str) -> list[bytes]:
    """The stream's items in a comparable form: JSONL lines, or Parquet rows as JSON."""
    if format == "jsonl":
        return lines(directory / f"{name}.jsonl")
    import pyarrow.parquet as pq

    return [msgspec.json.encode(row) for row in pq.read_table(directory / f"{name}.parquet").to_pylist()]


@pytest.mark.parametrize(("format", "attempts"), [("jsonl", 4), ("parquet", 2)])
def test_an_export_killed_at_random_moments_resumes_to_exactly_the_uninterrupted_result(
    slow_simulator: SimulatorProcess, tmp_path: Path, format: str, attempts: int
) -> None:
    reference = slow_simulator.run(*_export_arguments(tmp_path / "reference", format))
    assert reference.returncode == 0, reference.stderr
    draws = random.Random(16)
    directory = tmp_path / "killed"
    kills = 0
    for _ in range(attempts):
        process = run_command(_export_arguments(directory, format), slow_simulator.env)
        _wait_until_under_way(directory, process)
        time.sleep(draws.uniform(0.0, 0.15))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.communicate(timeout=30)
    assert kills >= 2
    finished = slow_simulator.run(*_export_arguments(directory, format))
    assert finished.returncode == 0, finished.stderr
    for name in ("boards", "board_pins"):
        expected = sorted(_items(tmp_path / "reference", name, format))
        got = sorted(_items(directory, name, format))
        assert len(got) == len(expected) and got == expected, name
    assert len(expected) == 6000 and len(set(got)) == 6000


@pytest.mark.parametrize(("received", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_commits_and_the_same_command_continues(
    slow_simulator: SimulatorProcess, tmp_path: Path, received: signal.Signals, status: int
) -> None:
    process = run_command(_export_arguments(tmp_path), slow_simulator.env)
    _wait_until_under_way(tmp_path, process)
    process.send_signal(received)
    _, err = process.communicate(timeout=30)
    assert process.returncode == status, err
    assert b"run the same command again to continue" in err
    assert slow_simulator.run(*_export_arguments(tmp_path)).returncode == 0
    pins = lines(tmp_path / "board_pins.jsonl")
    assert len(pins) == len(set(pins)) == 6000
