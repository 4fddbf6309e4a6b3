"""One process of a fleet, run by the tests: pins.get with an access token the server rejects, renewed through Redis.

Usage: python -m tests.fleet.worker REDIS_URL BASE_URL; prints ``{"pin": ..., "refreshes": ...}``.
"""

from __future__ import annotations

import asyncio
import json
import sys

from aiopinterest import Client, OAuthToken

APP_ID = "fleet-app"
APP_SECRET = "fleet-app-secret-s3cr3t"
REFRESH_TOKEN = "fleet-refresh-r3fr3sh"
OLD_TOKEN = "fleet-access-0ld"


async def main(redis_url: str, base_url: str) -> None:
    refreshes: list[OAuthToken] = []
    async with Client(
        OLD_TOKEN,
        app_id=APP_ID,
        app_secret=APP_SECRET,
        refresh_token=REFRESH_TOKEN,
        base_url=base_url,
        redis_url=redis_url,
        on_token_refresh=refreshes.append,
    ) as client:
        pin = await client.pins.get(pin_id="1")
    print(json.dumps({"pin": pin.id, "refreshes": len(refreshes)}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
