"""A typical user program, checked by mypy --strict in tests/test_mypy_readme.py: no casts, asserts or None checks
for fields the API always returns."""

from __future__ import annotations

import datetime
from typing import assert_type

import aiopinterest
from aiopinterest.media import MediaNamespace
from aiopinterest.models import (
    Board,
    MediaUpload,
    OauthAccessTokenRequestRefresh,
    Pin,
    PinCreate,
    PinMediaSourceImageURL,
    PinUpdate,
)


async def copy_board(client: aiopinterest.Client, source: Board) -> list[str]:
    target = await client.boards.create(name=source.name + " (copy)", privacy="SECRET")
    copied: list[str] = []
    async for pin in client.boards.list_pins(board_id=source.id):
        created = await client.pins.create(
            body=PinCreate(
                board_id=target.id,
                title=pin.title,
                media_source=PinMediaSourceImageURL(source_type="image_url", url="https://example.com/a.jpg"),
            )
        )
        copied.append(created.id)
    return copied


async def tidy(client: aiopinterest.Client, pin: Pin) -> datetime.datetime | None:
    # None clears a nullable field, in keyword and struct form; UNSET (the default) leaves it as it is.
    await client.pins.update(pin_id=pin.id, alt_text=None, title="Tidied")
    await client.pins.update(pin_id=pin.id, body=PinUpdate(link=None))
    same = await client.pins.get(pin_id=pin.id)
    return same.created_at


async def renew(client: aiopinterest.Client, refresh_token: str) -> str | None:
    # The token request as the struct of its grant; the answer carries that grant's fields.
    body = OauthAccessTokenRequestRefresh(
        grant_type="refresh_token", refresh_token=refresh_token, continuous_refresh=True
    )
    token = await client.oauth.token(body=body)
    return token.refresh_token


async def register_video(client: aiopinterest.Client) -> str:
    # The namespace the client composes by hand is typed as precisely as the generated ones.
    assert_type(client.media, MediaNamespace)
    upload = await client.media.create(media_type="video")
    assert_type(upload, MediaUpload)
    return upload.media_id
