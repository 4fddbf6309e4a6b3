"""Testing your own code against the simulator with the fixtures aiopinterest's pytest plugin provides.

    pip install 'aiopinterest[testing]'
    pytest examples/test_user_code.py

Settings for a run free of warnings, in your pyproject.toml (see the README, "Testing your code with the
simulator")::

    [tool.pytest.ini_options]
    asyncio_mode = "auto"
    asyncio_default_fixture_loop_scope = "function"
"""

from __future__ import annotations

from typing import Any

import pytest

import aiopinterest
from aiopinterest.errors import PaginationError, ServerError
from aiopinterest.testing import Faults, PinterestSimulator, RateLimit


# The code under test: what your application does with a Client.
async def board_digest(client: aiopinterest.Client, board_id: str) -> dict[str, int]:
    """How many Pins a board has and how many of them link somewhere."""
    pins = [pin async for pin in client.boards.list_pins(board_id=board_id, page_size=50)]
    return {"pins": len(pins), "linked": sum(1 for pin in pins if pin.link)}


async def test_digest_counts_every_pin(
    pinterest_simulator: PinterestSimulator, pinterest_client: aiopinterest.Client
) -> None:
    [board_id] = pinterest_simulator.seed(boards=1, pins_per_board=120)
    digest = await board_digest(pinterest_client, board_id)
    assert digest["pins"] == 120


class TestUnderFaultsAndRateLimits:
    """Every test in this class gets a simulator that fails a fifth of requests and allows 5 list calls a second."""

    @pytest.fixture
    def pinterest_simulator_options(self) -> dict[str, Any]:
        return {
            "faults": Faults(error_rate=0.2, error_statuses=(500, 503)),
            "rate_limits": {"org_read": RateLimit(requests=5, window=1.0)},
            "seed": 11,  # the same faults on every run
        }

    async def test_digest_is_complete_despite_5xx_and_429(
        self, pinterest_simulator: PinterestSimulator, pinterest_client: aiopinterest.Client
    ) -> None:
        [board_id] = pinterest_simulator.seed(boards=1, pins_per_board=400)
        digest = await board_digest(pinterest_client, board_id)
        assert digest["pins"] == 400  # nothing lost or duplicated
        metrics = pinterest_client.metrics["org_read"]
        assert metrics.server_errors > 0 and metrics.retries > 0


async def test_a_board_that_keeps_failing_raises(
    pinterest_simulator: PinterestSimulator, pinterest_client: aiopinterest.Client
) -> None:
    # Faults can also be set per operation id, and changed while the simulator runs.
    pinterest_simulator.route_faults["boards/list_pins"] = Faults(error_rate=1.0, error_statuses=(503,))
    [board_id] = pinterest_simulator.seed(boards=1, pins_per_board=10)
    fast_client = aiopinterest.Client(
        access_token=pinterest_simulator.access_token,
        base_url=pinterest_simulator.base_url,
        retry=aiopinterest.RetryPolicy(max_attempts=2, backoff_base=0.01),
    )
    async with fast_client:
        with pytest.raises(PaginationError) as failure:
            await board_digest(fast_client, board_id)
    assert isinstance(failure.value.__cause__, ServerError)
    assert failure.value.__cause__.status == 503
