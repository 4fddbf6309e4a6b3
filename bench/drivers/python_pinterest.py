"""``python-pinterest`` 0.2.0 (httpx + dataclasses-json) through its ``AsyncApi``.

The library has no setting for the API root; its requests go to ``DEFAULT_API_URL`` (a class attribute read
through ``self``), so the instance attribute points it at the local server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from pinterest import AsyncApi

from ..config import PAGE_SIZE
from .base import AsyncDriver


class Driver(AsyncDriver):
    async def open(self, base_url: str, concurrency: int) -> None:
        self._api = AsyncApi(access_token="bench-token")
        self._api.DEFAULT_API_URL = f"{base_url}/v5/"

    async def close(self) -> None:
        await self._api.client.aclose()

    async def get_pin(self, pin_id: str) -> Any:
        return await self._api.pins.get(pin_id=pin_id)

    async def board_pins(self, board_id: str) -> AsyncIterator[Any]:
        bookmark = None
        while True:
            page = await self._api.boards.list_pins(board_id=board_id, page_size=PAGE_SIZE, bookmark=bookmark)
            for pin in page.items:
                yield pin
            bookmark = page.bookmark
            if not bookmark:
                return
