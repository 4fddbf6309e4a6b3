"""Every Python block of README.md runs, as a user would run it, against the simulator.

Each block is a complete script run in its own interpreter with ``PINTEREST_BASE_URL`` and
``PINTEREST_ACCESS_TOKEN`` pointing at a simulator (what ``python -m aiopinterest.testing`` prints for users); a
block that starts with ``# test_*.py`` is a pytest module and runs under pytest.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiopinterest.testing import PinterestSimulator

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
# Credentials of an app for the OAuth example; the simulator issues tokens to any app.
APP = {
    "PINTEREST_APP_ID": "1234",
    "PINTEREST_APP_SECRET": "app-secret",
    "PINTEREST_REFRESH_TOKEN": "pinr_readme",
}


def blocks() -> list[str]:
    return BLOCK.findall(README.read_text())


class SimulatorThread:
    """A simulator on its own event loop in a thread, so that the scripts under test can run their own."""

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.stop: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.stop = asyncio.Event()
        async with PinterestSimulator(media_processing_delay=0.05, report_delay=0.1) as sim:
            sim.seed(boards=2, pins_per_board=400)
            self.base_url, self.access_token = sim.base_url, sim.access_token
            self.ready.set()
            await self.stop.wait()

    def __enter__(self) -> SimulatorThread:
        self.thread.start()
        assert self.ready.wait(30), "the simulator did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.loop is not None and self.stop is not None
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(30)


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorThread]:
    with SimulatorThread() as running:
        yield running


def test_readme_has_the_blocks_we_run() -> None:
    assert len(blocks()) >= 8


@pytest.mark.parametrize("index", range(len(blocks())))
def test_readme_block_runs(index: int, simulator: SimulatorThread, tmp_path: Path) -> None:
    code = blocks()[index]
    env = {
        **os.environ,
        "PINTEREST_BASE_URL": simulator.base_url,
        "PINTEREST_ACCESS_TOKEN": simulator.access_token,
    }
    if "app_secret" in code:
        # The OAuth example must obtain its token itself.
        del env["PINTEREST_ACCESS_TOKEN"]
        env.update(APP)
    first_line = code.splitlines()[0]
    if re.match(r"# test_\w+\.py", first_line):
        module = tmp_path / first_line[2:]
        module.write_text(code)
        # A user's own minimal configuration, with warnings as errors like ours.
        (tmp_path / "pytest.ini").write_text(
            "[pytest]\nasyncio_default_fixture_loop_scope = function\nfilterwarnings = error\n"
        )
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(module)]
    else:
        command = [sys.executable, "-W", "error", "-c", code]
    result = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (
        f"README block {index}:\n{code}\n--- output ---\n{result.stdout}{result.stderr}"
    )
