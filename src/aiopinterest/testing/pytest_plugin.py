"""pytest fixtures for code that calls Pinterest: a running simulator and a client pointed at it.

Registered automatically when aiopinterest is installed (entry point ``pytest11``); or add
``pytest_plugins = ["aiopinterest.testing.pytest_plugin"]`` to a ``conftest.py``. Override the
``pinterest_simulator_options`` fixture to configure the simulator::

    @pytest.fixture
    def pinterest_simulator_options():
        return {"rate_limits": {"org_read": RateLimit(10, 1.0)}, "seed": 7}

The fixtures are async: they need pytest-asyncio (or anyio's pytest plugin) to run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from .. import Client
from ._simulator import PinterestSimulator

try:
    from pytest_asyncio import fixture as _async_fixture
except ImportError:  # pragma: no cover - anyio's plugin runs plain async fixtures
    _async_fixture = pytest.fixture  # type: ignore[assignment]


@pytest.fixture
def pinterest_simulator_options() -> dict[str, Any]:
    """Keyword arguments for :class:`PinterestSimulator`; override this fixture to change them."""
    return {}


@_async_fixture
async def pinterest_simulator(
    pinterest_simulator_options: dict[str, Any],
) -> AsyncIterator[PinterestSimulator]:
    """A running :class:`PinterestSimulator`, stopped after the test."""
    async with PinterestSimulator(**pinterest_simulator_options) as simulator:
        yield simulator


@_async_fixture
async def pinterest_client(pinterest_simulator: PinterestSimulator) -> AsyncIterator[Client]:
    """An :class:`aiopinterest.Client` pointed at ``pinterest_simulator``, closed after the test."""
    async with Client(
        access_token=pinterest_simulator.access_token, base_url=pinterest_simulator.base_url
    ) as client:
        yield client
