"""aiopinterest, used as its README shows: one Client, ``client.pins.get``, ``async for`` over
``client.boards.list_pins``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sized
from typing import Any

import aiopinterest
from aiopinterest._client import _decoder
from aiopinterest.models import Pin
from aiopinterest.pagination import _PageBody

from ..config import PAGE_SIZE
from .base import AsyncDriver


class Driver(AsyncDriver):
    async def open(self, base_url: str, concurrency: int) -> None:
        # max_concurrency caps requests in flight; a user running this many tasks raises it to match.
        self._client = aiopinterest.Client(
            access_token="bench-token", base_url=f"{base_url}/v5", max_concurrency=concurrency
        )

    async def close(self) -> None:
        await self._client.close()

    async def get_pin(self, pin_id: str) -> Pin:
        return await self._client.pins.get(pin_id=pin_id)

    async def board_pins(self, board_id: str) -> AsyncIterator[Pin]:
        async for pin in self._client.boards.list_pins(board_id=board_id, page_size=PAGE_SIZE):
            yield pin

    def page_decoder(self) -> Callable[[bytes], Sized]:
        # Exactly what AsyncPaginator does with a page body: Client._request decodes it with the cached decoder
        # of the paginator's page type. Private names, because this isolates that one step.
        page_type: Any = _PageBody[Pin]
        decoder = _decoder(page_type)
        return lambda body: decoder.decode(body).items
