"""What the client's cached msgspec Decoder per response type saves, against decoding with ``type=`` each time.

msgspec keeps what it works out of a Struct type on the class, but not of a ``list[...]`` or ``dict[...]`` type,
which 18 operations return (the analytics among them). Each response type is decoded from a small body, both
ways, alternating in one process; the best of several rounds is kept for each.

Run: ``.venv/bin/python bench/decoder_cache.py [--times 20000] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import msgspec

from aiopinterest._client import _decoder
from aiopinterest._generated import operations
from aiopinterest.models import Pin

# One body per kind of response type: a Struct (pins.get), a list (ads.analytics), a dict of lists.
_ANALYTICS_ROW = {
    "AD_ID": "687195905986",
    "DATE": "2024-03-05",
    "SPEND_IN_DOLLAR": 30,
    "TOTAL_CLICKTHROUGH": 216,
}
_TAG = {"ad_account_id": "549755885175", "conversion_tag_id": "2612345678901", "created_time": 1699209842}
CASES: dict[str, tuple[Any, bytes]] = {
    "pins.get (a Struct)": (Pin, msgspec.json.encode({"id": "813744226420795884", "title": "Lemon tart"})),
    "ads.analytics (a list, 3 rows)": (
        operations.ADS_ANALYTICS.response_type,
        msgspec.json.encode([_ANALYTICS_ROW] * 3),
    ),
    "conversion_tags.get_ocpm_eligible (a dict of lists)": (
        operations.CONVERSION_TAGS_OCPM_ELIGIBLE_CONVERSION_TAGS_GET.response_type,
        msgspec.json.encode({"CHECKOUT": [_TAG], "SIGNUP": [_TAG]}),
    ),
}


def _seconds(decode: Callable[[], object], times: int) -> float:
    start = time.perf_counter()
    for _ in range(times):
        decode()
    return (time.perf_counter() - start) / times


def measure(times: int = 20_000, rounds: int = 5) -> dict[str, tuple[float, float]]:
    """Per case: microseconds per decode with the cached Decoder and with ``msgspec.json.decode(type=...)``."""
    results = {}
    for name, (response_type, body) in CASES.items():
        decoder = _decoder(response_type)
        cached, uncached = [], []
        for _ in range(rounds):
            cached.append(_seconds(partial(decoder.decode, body), times))
            uncached.append(_seconds(partial(msgspec.json.decode, body, type=response_type), times))
        results[name] = (min(cached) * 1e6, min(uncached) * 1e6)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--times", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    print(f"µs per decode, best of {arguments.rounds} rounds of {arguments.times:,}")
    print("| response type | cached Decoder | decode(type=) | decode(type=) / cached |")
    print("| --- | ---: | ---: | ---: |")
    for name, (cached, uncached) in measure(arguments.times, arguments.rounds).items():
        print(f"| {name} | {cached:.2f} | {uncached:.2f} | {uncached / cached:.2f}x |")


if __name__ == "__main__":
    main()
