"""Simulator tests: everything over real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

# pinterest_simulator, pinterest_client and pinterest_simulator_options come from the package's pytest11 entry
# point, exactly as they reach our users' test suites.


class FakeClock:
    """The simulator's clock for media processing, reports and rate-limit windows, moved by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A bare HTTP session, for requests the client would refuse to send."""
    async with aiohttp.ClientSession() as session:
        yield session
