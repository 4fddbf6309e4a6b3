"""A simulator of the Pinterest API v5 for tests, demos and benchmarks: no credentials, no network.

>>> from aiopinterest.testing import PinterestSimulator
>>> async with PinterestSimulator() as sim:
...     board_ids = sim.seed(boards=2, pins_per_board=500)
...     async with aiopinterest.Client(access_token=sim.access_token, base_url=sim.base_url) as client:
...         async for pin in client.boards.list_pins(board_id=board_ids[0]):
...             ...

Three ways in:

- in your own asyncio code: ``async with PinterestSimulator(...) as sim`` (see :class:`PinterestSimulator`);
- with pytest: the ``pinterest_simulator``, ``pinterest_client`` and ``pinterest_simulator_options`` fixtures,
  registered automatically when aiopinterest is installed (see :mod:`aiopinterest.testing.pytest_plugin`);
- as a separate process: ``python -m aiopinterest.testing --port 0`` prints ``PINTEREST_BASE_URL=...`` and
  ``PINTEREST_ACCESS_TOKEN=...``, then serves until Ctrl-C or SIGTERM (see :mod:`aiopinterest.testing.__main__`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:
    from ._limits import DEFAULT_RATE_LIMIT, Faults, RateLimit
    from ._s3 import S3Upload
    from ._simulator import PinterestSimulator, RecordedRequest
    from ._synthesis import Synthesiser

__all__ = [
    "DEFAULT_RATE_LIMIT",
    "Faults",
    "PinterestSimulator",
    "RateLimit",
    "RecordedRequest",
    "S3Upload",
    "Synthesiser",
]

# Everything loads on first use: the pytest plugin (loaded by every pytest run once aiopinterest is installed)
# lives in this package, and importing it must cost nothing until a test uses a fixture.
_LAZY = {
    "DEFAULT_RATE_LIMIT": ("._limits", "DEFAULT_RATE_LIMIT"),
    "Faults": ("._limits", "Faults"),
    "RateLimit": ("._limits", "RateLimit"),
    "PinterestSimulator": ("._simulator", "PinterestSimulator"),
    "RecordedRequest": ("._simulator", "RecordedRequest"),
    "S3Upload": ("._s3", "S3Upload"),
    "Synthesiser": ("._synthesis", "Synthesiser"),
}


__getattr__ = lazy_attributes(globals(), _LAZY)


def __dir__() -> list[str]:
    return sorted(__all__)
