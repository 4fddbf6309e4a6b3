"""A simulator of the Pinterest API v5 for tests, demos and benchmarks: no credentials, no network.

>>> from aiopinterest.testing import PinterestSimulator
>>> async with PinterestSimulator() as sim:
...     board_ids = sim.seed(boards=2, pins_per_board=500)
...     async with aiopinterest.Client(access_token=sim.access_token, base_url=sim.base_url) as client:
...         async for pin in client.boards.list_pins(board_id=board_ids[0]):
...             ...

Run it standalone with ``python -m aiopinterest.testing --port 8080``. With pytest, the ``pinterest_simulator``
and ``pinterest_client`` fixtures come from :mod:`aiopinterest.testing.pytest_plugin`.
"""

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
