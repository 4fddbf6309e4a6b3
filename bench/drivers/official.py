"""The official client (``pinterest-api-sdk`` over ``pinterest-generated-client``), used as its README shows:
synchronous model objects, ``Pin(pin_id=...)`` and ``Board(...).list_pins()`` with its Bookmark, a thread pool
for concurrency. Pointed at the local server through the generated client's ``Configuration.host``.
"""

from __future__ import annotations

from collections.abc import Iterator

from openapi_generated.pinterest_client.configuration import Configuration
from pinterest import config as sdk_config
from pinterest.client import PinterestSDKClient
from pinterest.organic.boards import Board
from pinterest.organic.pins import Pin

from ..config import PAGE_SIZE
from .base import SyncDriver


class Driver(SyncDriver):
    def open(self, base_url: str, concurrency: int) -> None:
        configuration = Configuration(access_token="bench-token", host=f"{base_url}/v5")
        # What PinterestSDKClient's own configuration factory sets, minus its fixed production host.
        configuration.disabled_client_side_validations = sdk_config.PINTEREST_DISABLED_CLIENT_SIDE_VALIDATIONS
        # A pool smaller than the thread count would close and reopen connections on every call; a user
        # running this many threads raises it.
        configuration.connection_pool_maxsize = max(concurrency, configuration.connection_pool_maxsize)
        self._client = PinterestSDKClient(configuration=configuration)

    def close(self) -> None:
        self._client.close()

    def get_pin(self, pin_id: str) -> Pin:
        return Pin(pin_id=pin_id, client=self._client)

    def board_pins(self, board_id: str) -> Iterator[Pin]:
        board = Board(board_id=board_id, client=self._client)
        pins, bookmark = board.list_pins(page_size=PAGE_SIZE)
        yield from pins
        while bookmark is not None:
            pins, bookmark = bookmark.get_next()
            yield from pins
