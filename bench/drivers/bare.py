"""The limit: bare aiohttp and ``msgspec.json.decode`` into aiopinterest's own structs, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sized

import aiohttp
import msgspec

from aiopinterest.models import Pin

from ..config import PAGE_SIZE
from .base import AsyncDriver


class PinPage(msgspec.Struct, gc=False):
    items: list[Pin]
    bookmark: str | None = None


_pin_decoder = msgspec.json.Decoder(Pin)
_page_decoder = msgspec.json.Decoder(PinPage)


class Driver(AsyncDriver):
    async def open(self, base_url: str, concurrency: int) -> None:
        self._base_url = f"{base_url}/v5"
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency),
            headers={"Authorization": "Bearer bench-token", "Accept": "application/json"},
        )

    async def close(self) -> None:
        await self._session.close()

    async def _get(self, url: str, params: dict[str, str] | None = None) -> bytes:
        async with self._session.get(url, params=params) as response:
            body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"GET {url}: {response.status} {body[:200]!r}")
            return body

    async def get_pin(self, pin_id: str) -> Pin:
        return _pin_decoder.decode(await self._get(f"{self._base_url}/pins/{pin_id}"))

    async def board_pins(self, board_id: str) -> AsyncIterator[Pin]:
        params = {"page_size": str(PAGE_SIZE)}
        while True:
            page = _page_decoder.decode(await self._get(f"{self._base_url}/boards/{board_id}/pins", params))
            for pin in page.items:
                yield pin
            if not page.bookmark:
                return
            params["bookmark"] = page.bookmark

    def page_decoder(self) -> Callable[[bytes], Sized]:
        return lambda body: _page_decoder.decode(body).items
