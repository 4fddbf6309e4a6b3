"""pytest fixtures for code that calls Pinterest: a running simulator and a client pointed at it.

Installing aiopinterest registers this plugin (entry point ``pytest11``), so the fixtures are available in every
test with nothing to import; where plugin autoloading is off (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``), add
``pytest_plugins = ["aiopinterest.testing.pytest_plugin"]`` to the top-level ``conftest.py``.

- ``pinterest_simulator``: a :class:`~aiopinterest.testing.PinterestSimulator` started for the test.
- ``pinterest_client``: an :class:`aiopinterest.Client` pointed at it.
- ``pinterest_simulator_options``: the simulator's constructor arguments; override it to configure the simulator.

All three are function-scoped: every test gets a fresh, empty simulator (no boards or Pins until it calls
``pinterest_simulator.seed(...)``) on its own free port, and a fresh client; both are closed when the test ends.

The two fixtures are async, so tests using them are async too and need pytest-asyncio: with
``asyncio_mode = "auto"`` any ``async def test_...`` works, otherwise mark them ``@pytest.mark.asyncio``.
(Without pytest-asyncio the fixtures are plain async generators for anyio's plugin: mark the tests
``@pytest.mark.anyio`` and keep ``anyio_backend`` at ``"asyncio"``, as aiohttp runs only on asyncio.)

Override ``pinterest_simulator_options`` in a ``conftest.py`` or a test module (the nearest definition wins); it
may use other fixtures, for instance a clock the test moves by hand::

    import pytest
    from aiopinterest.testing import Faults, RateLimit


    @pytest.fixture
    def pinterest_simulator_options():
        return {"rate_limits": {"org_read": RateLimit(10, 1.0)}, "faults": Faults(error_rate=0.1), "seed": 7}


    async def test_paging_survives_faults(pinterest_simulator, pinterest_client):
        [board_id] = pinterest_simulator.seed(boards=1, pins_per_board=300)
        pins = [pin async for pin in pinterest_client.boards.list_pins(board_id=board_id)]
        assert len({pin.id for pin in pins}) == 300
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .. import Client
    from ._simulator import PinterestSimulator

try:
    # Already imported when pytest-asyncio is installed: pytest loads it as a plugin too.
    from pytest_asyncio import fixture as _async_fixture
except ImportError:  # pragma: no cover - anyio's plugin runs plain async fixtures
    _async_fixture = pytest.fixture  # type: ignore[assignment]


@pytest.fixture
def pinterest_simulator_options() -> dict[str, Any]:
    """Keyword arguments for :class:`PinterestSimulator` in this test; ``{}`` (the defaults) unless overridden.

    Any constructor argument goes: ``seed``, ``rate_limits``, ``faults``, ``route_faults``, ``clock``,
    ``media_processing_delay``, ``report_delay``, ``report_url_lifetime``, ``fail_reports``, ... (see
    :class:`PinterestSimulator`). Settings can also be changed on the running simulator, e.g.
    ``pinterest_simulator.faults = Faults(error_rate=0.5)``.
    """
    return {}


@_async_fixture
async def pinterest_simulator(
    pinterest_simulator_options: dict[str, Any],
) -> AsyncIterator[PinterestSimulator]:
    """A :class:`PinterestSimulator` built from ``pinterest_simulator_options``, listening on 127.0.0.1.

    It starts empty: seed data with ``pinterest_simulator.seed(boards=..., pins_per_board=...)``, which returns
    the new board ids. ``.base_url`` and ``.access_token`` point any client at it; ``.requests`` records the
    API requests it answered. Stopped, with its connections closed, when the test ends.
    """
    # Imported here, not at plugin load: every pytest run in a project that installs aiopinterest loads this
    # plugin, and only the tests that use these fixtures should pay for aiohttp's server and the spec's tables.
    from ._simulator import PinterestSimulator

    async with PinterestSimulator(**pinterest_simulator_options) as simulator:
        yield simulator


@_async_fixture
async def pinterest_client(pinterest_simulator: PinterestSimulator) -> AsyncIterator[Client]:
    """``aiopinterest.Client(access_token=sim.access_token, base_url=sim.base_url)`` for ``pinterest_simulator``.

    The client's defaults apply (retries, backoff, rate-limit pacing); closed when the test ends. For other
    client settings, build your own from the same two values inside the test:
    ``async with aiopinterest.Client(access_token=pinterest_simulator.access_token,
    base_url=pinterest_simulator.base_url, ...) as client:``.
    """
    from .. import Client

    async with Client(
        access_token=pinterest_simulator.access_token, base_url=pinterest_simulator.base_url
    ) as client:
        yield client
