"""One driver per client, all behind the interface of :mod:`bench.drivers.base`.

Each driver module is imported only inside its client's own virtual environment (two of the clients install a
top-level package named ``pinterest``), so this package imports none of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import OFFICIAL, PROJECT, PYDANTIC, PYTHON_PINTEREST, WORK, Environment


@dataclass(frozen=True, slots=True)
class ClientSpec:
    key: str
    label: str
    module: str
    environment: Environment
    workloads: frozenset[str]
    #: Statements that leave the client ready for its first call (no I/O), timed in fresh interpreters.
    import_snippet: str


AIOPINTEREST = ClientSpec(
    key="aiopinterest",
    label="aiopinterest",
    module="aiopinterest_driver",
    environment=PROJECT,
    workloads=frozenset({"get", "list", "decode"}),
    # The namespace is loaded on first use, so touching it is part of being ready.
    import_snippet="import aiopinterest\nclient = aiopinterest.Client(access_token='t')\nclient.pins",
)
BARE = ClientSpec(
    key="bare",
    label="bare aiohttp + msgspec (the limit)",
    module="bare",
    environment=PROJECT,
    workloads=frozenset({"get", "list", "decode"}),
    import_snippet="import aiohttp, msgspec\nfrom aiopinterest.models import Pin",
)
OFFICIAL_CLIENT = ClientSpec(
    key="official",
    label="pinterest-api-sdk (official)",
    module="official",
    environment=OFFICIAL,
    workloads=frozenset({"get", "list"}),
    import_snippet=(
        "from pinterest.client import PinterestSDKClient\n"
        "from pinterest.organic.pins import Pin\n"
        "from pinterest.organic.boards import Board\n"
        "client = PinterestSDKClient.create_client_with_token('t')"
    ),
)
PYTHON_PINTEREST_CLIENT = ClientSpec(
    key="python-pinterest",
    label="python-pinterest 0.2.0",
    module="python_pinterest",
    environment=PYTHON_PINTEREST,
    workloads=frozenset({"get", "list"}),
    import_snippet="from pinterest import AsyncApi\napi = AsyncApi(access_token='t')",
)
PYDANTIC_MODELS = ClientSpec(
    key="pydantic",
    label="pydantic v2 models",
    module="pydantic_models",
    environment=PYDANTIC,
    workloads=frozenset({"decode"}),
    import_snippet=f"import sys\nsys.path.insert(0, {str(WORK)!r})\nfrom pydantic_models import Pin",
)

CLIENTS = (AIOPINTEREST, BARE, OFFICIAL_CLIENT, PYTHON_PINTEREST_CLIENT, PYDANTIC_MODELS)
BY_KEY = {client.key: client for client in CLIENTS}
