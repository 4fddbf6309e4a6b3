"""Reading the rate-limit headers Pinterest sends: ``Retry-After``, ``X-RateLimit-Limit/Remaining/Reset``."""

from __future__ import annotations

import email.utils
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, NamedTuple

from multidict import istr

#: No headers: what a failure without a response carries. Read-only, so that one instance is safely shared.
NO_HEADERS: Final[Mapping[str, str]] = MappingProxyType({})

# Header names as multidict's case-insensitive strings, whose folded form it need not work out again: as str, 1,300
# more instructions per pins.get (0.3%, bench/instructions.py --rate-limit-headers).
RETRY_AFTER = istr("Retry-After")
RATELIMIT_LIMIT = istr("X-RateLimit-Limit")
RATELIMIT_REMAINING = istr("X-RateLimit-Remaining")
RATELIMIT_RESET = istr("X-RateLimit-Reset")

# A reset value this large is a Unix timestamp, not a number of seconds (which would be > 30 years).
_EPOCH_THRESHOLD = 1e9
_LEADING_NUMBER = re.compile(r"\s*(\d+(?:\.\d+)?)")
# The IETF RateLimit draft form "100, 100;w=60" names the window length in seconds.
_WINDOW = re.compile(r";\s*w=(\d+(?:\.\d+)?)")


class Policy(NamedTuple):
    """One quota: ``limit`` requests per ``window`` seconds (``None``: until the server's ``X-RateLimit-Reset``)."""

    limit: float
    window: float | None


def quota_policies(limit_header: str) -> tuple[Policy | None, tuple[Policy, ...]]:
    """``X-RateLimit-Limit`` as (the policy that binds now, every policy with a window).

    ``"100"`` is one limit until the reset; ``"100, 100;w=1, 1000;w=60"`` (the IETF draft form Pinterest sends)
    names the binding limit first, then each quota policy with its window. The binding policy is the first quota
    with that limit; ``Remaining`` and ``Reset`` speak of it.
    """
    items = limit_header.split(",")
    current = header_number(items[0])
    policies: list[Policy] = []
    for item in items[1:] if len(items) > 1 else ():
        limit = header_number(item)
        window = _WINDOW.search(item)
        if limit is not None and window is not None and float(window.group(1)) > 0:
            policies.append(Policy(limit, float(window.group(1))))
    if current is None:
        return None, tuple(policies)
    window = _WINDOW.search(items[0])
    if window is not None and float(window.group(1)) > 0:
        binding = Policy(current, float(window.group(1)))
        return binding, tuple(dict.fromkeys((binding, *policies)))
    binding = next((policy for policy in policies if policy.limit == current), Policy(current, None))
    return binding, tuple(policies)


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """``Retry-After`` as seconds to wait: either delay-seconds or an HTTP date (RFC 9110 10.2.3)."""
    value = headers.get(RETRY_AFTER)
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def ratelimit_reset(headers: Mapping[str, str], now: float) -> float | None:
    """``X-RateLimit-Reset`` as seconds to wait; accepts seconds-from-now or a Unix timestamp."""
    value = header_number(headers.get(RATELIMIT_RESET))
    if value is None:
        return None
    if value > _EPOCH_THRESHOLD:
        return max(0.0, value - now)
    return value


def requested_wait(status: int | None, headers: Mapping[str, str], now: float) -> float | None:
    """The wait a response asks for: ``Retry-After``, else (on a 429) ``X-RateLimit-Reset``; None if neither."""
    wait = retry_after(headers, now)
    if wait is None and status == 429:
        wait = ratelimit_reset(headers, now)
    return wait


def header_number(value: str | None) -> float | None:
    """The first number of a header value ("100", "100, 100;w=60", "4.5")."""
    if value is None:
        return None
    # The usual form, read without a regular expression (with it, 3,100 more instructions per pins.get, 0.7%,
    # bench/instructions.py --rate-limit-headers). isdecimal, not isdigit: float() refuses a superscript "²".
    if value.isdecimal():
        return float(value)
    match = _LEADING_NUMBER.match(value)
    return float(match.group(1)) if match else None
