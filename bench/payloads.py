"""The bytes the local server answers with, identical for every client.

A Pin carries every field GET /pins/{pin_id} returns (the seed "Get Pin" sample plus the overlay fields), with
the four image renditions of the spec's ImageSize example and values that satisfy the spec's constraints, so
that validating clients (pydantic, the official client) accept them. Pins of a page differ from each other so no
decoder benefits from repeated strings.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from .config import BOARD_ID, PAGE_SIZE

_IMAGE_SIZES = (("150x150", 150, 150), ("400x300", 400, 300), ("600x", 600, 900), ("1200x", 1200, 1800))
_WORDS = (
    "linen kitchen shelf oak ceramic mug morning light terrace garden basil lemon tart picnic "
    "blanket coastal walk autumn knit sweater recipe bread sourdough loaf cabin weekend"
).split()


def pin(index: int) -> dict[str, Any]:
    pin_id = str(813_744_226_420_000_000 + index)
    digest = f"{index * 2_654_435_761 % 2**128:032x}"
    words = [_WORDS[(index + k * 7) % len(_WORDS)] for k in range(12)]
    title = " ".join(words[:5]).capitalize()
    return {
        "id": pin_id,
        "created_at": f"2024-{index % 12 + 1:02d}-{index % 28 + 1:02d}T{index % 24:02d}:17:42Z",
        "link": f"https://www.example-shop.com/collections/{words[0]}-{words[1]}/{index}?utm_source=pinterest",
        "title": title,
        "description": " ".join(words * 2).capitalize()
        + ". Tap to see the whole collection and save it for later.",
        "dominant_color": f"#{index * 40503 % 0xFFFFFF:06X}",
        "alt_text": f"{title} on a wooden table",
        "creative_type": "REGULAR",
        "board_id": BOARD_ID,
        "board_section_id": str(5_071_254_840_600 + index % 9),
        "board_owner": {"username": "studio_ingrid"},
        "is_owner": True,
        "media": {
            "media_type": "image",
            "images": {
                name: {
                    "width": width,
                    "height": height,
                    "url": f"https://i.pinimg.com/{name}/{digest[:2]}/{digest[2:4]}/{digest[4:6]}/{digest}.jpg",
                }
                for name, width, height in _IMAGE_SIZES
            },
        },
        "media_source": {"source_type": "image_url", "url": f"https://cdn.example-shop.com/p/{digest}.jpg"},
        "parent_pin_id": None,
        "is_standard": True,
        "has_been_promoted": False,
        "note": "",
        "pin_metrics": None,
        "is_removable": False,
        "product_tags": [],
    }


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def pin_body() -> bytes:
    """The answer to every GET /pins/{pin_id}."""
    return dumps(pin(1))


def board_body() -> bytes:
    """GET /boards/{board_id}; the official client fetches the board before listing its pins."""
    return dumps(
        {
            "id": BOARD_ID,
            "created_at": "2023-05-02T08:30:00Z",
            "board_pins_modified_at": "2024-11-20T18:02:11Z",
            "name": "Kitchen and garden",
            "description": "Things worth making",
            "collaborator_count": 0,
            "pin_count": 100_000,
            "follower_count": 1_204,
            "media": {
                "image_cover_url": "https://i.pinimg.com/400x300/aa/bb/cc/aabbcc.jpg",
                "pin_thumbnail_urls": [],
            },
            "owner": {"username": "studio_ingrid"},
            "privacy": "PUBLIC",
        }
    )


def page_items() -> bytes:
    """The JSON array of one 250-pin page; every page serves these same items."""
    return dumps([pin(index) for index in range(PAGE_SIZE)])


def page_body(items: bytes, bookmark: str | None) -> bytes:
    return b'{"items":' + items + b',"bookmark":' + dumps(bookmark) + b"}"


def bookmark_for(page: int) -> str:
    # Opaque and of realistic length, like the API's own cursors.
    return base64.urlsafe_b64encode(f"board:{BOARD_ID}|page:{page}|order:default|v:5".encode()).decode()


def page_from(bookmark: str | None) -> int | None:
    """The page a bookmark points to (0 without one); None for a bookmark this server never issued."""
    if not bookmark:
        return 0
    try:
        fields = dict(part.split(":", 1) for part in base64.urlsafe_b64decode(bookmark).decode().split("|"))
        return int(fields["page"])
    except (ValueError, KeyError):
        return None
