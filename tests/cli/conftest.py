"""Helpers of the command's tests: an export run in the test's loop, and the command run as a process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from aiopinterest import Client
from aiopinterest.cli.export import Exporter, ExportOptions, ExportSummary
from aiopinterest.cli.progress import Reporter

ROOT = Path(__file__).resolve().parents[2]


async def export(client: Client, directory: Path, *streams: str, **options: Any) -> ExportSummary:
    """One export run in the test's event loop, without progress output."""
    exporter = Exporter(
        client, ExportOptions(directory=directory, streams=list(streams), **options), Reporter()
    )
    return await exporter.run()


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


class SimulatorProcess:
    """``python -m aiopinterest.testing`` in its own process; ``env`` points the command at it."""

    def __init__(self, *arguments: str) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "aiopinterest.testing", "--port", "0", *arguments],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        variables = dict(self._process.stdout.readline().strip().split("=", 1) for _ in range(2))
        self.env = {**os.environ, **variables}

    def run(self, *arguments: str, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "aiopinterest", *arguments],
            env=self.env,
            capture_output=True,
            timeout=timeout,
        )

    def close(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)
        assert self._process.stdout is not None
        self._process.stdout.close()


@pytest.fixture(scope="module")
def simulator_process() -> Iterator[SimulatorProcess]:
    process = SimulatorProcess("--boards", "2", "--pins-per-board", "300")
    try:
        yield process
    finally:
        process.close()


def run_command(arguments: Sequence[str], env: dict[str, str], **kwargs: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "aiopinterest", *arguments],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )
