"""Rate limits and injected faults: the two ways the simulator refuses or spoils a request on purpose.

Both are deterministic. Rate limits count requests in fixed windows on the simulator's clock; faults draw from a
``random.Random`` seeded at construction, a fixed number of draws per request, so the same seed and the same
sequence of requests give the same sequence of faults whatever the configuration in between.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """``requests`` allowed per ``window`` seconds in one rate-limit category (``org_read``, ``ads_write``, ...)."""

    requests: int
    window: float = 60.0

    def __post_init__(self) -> None:
        if self.requests < 0 or self.window <= 0:
            raise ValueError("RateLimit needs requests >= 0 and a positive window")


#: Generous enough that nothing short of a deliberate test or benchmark setting is ever refused.
DEFAULT_RATE_LIMIT = RateLimit(requests=100_000, window=60.0)


@dataclass(frozen=True, slots=True)
class Faults:
    """Misbehaviour injected into API requests (not S3 uploads or report downloads).

    Attributes:
        error_rate: probability in [0, 1] that a request is answered with one of ``error_statuses``.
        error_statuses: the 5xx statuses to choose from, uniformly.
        drop_rate: probability in [0, 1] that the connection is closed without any response.
        latency: seconds added before every response.
        latency_jitter: up to this many more seconds, drawn uniformly per request.
    """

    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 502, 503, 504)
    drop_rate: float = 0.0
    latency: float = 0.0
    latency_jitter: float = 0.0

    def __post_init__(self) -> None:
        if not (0.0 <= self.error_rate <= 1.0 and 0.0 <= self.drop_rate <= 1.0):
            raise ValueError("error_rate and drop_rate are probabilities in [0, 1]")
        if self.latency < 0 or self.latency_jitter < 0:
            raise ValueError("latency and latency_jitter must not be negative")
        if not self.error_statuses or any(not 500 <= status <= 599 for status in self.error_statuses):
            raise ValueError("error_statuses must be a non-empty tuple of 5xx statuses")


NO_FAULTS = Faults()


class FaultDecision(NamedTuple):
    """What happens to one request: wait ``delay`` seconds, then drop it, fail it, or serve it."""

    delay: float
    drop: bool
    error_status: int | None


class FaultInjector:
    """Decides, per request, which fault (if any) applies; per-operation overrides win over the default."""

    def __init__(self, default: Faults, overrides: Mapping[str, Faults], seed: int) -> None:
        self.default = default
        self.overrides: dict[str, Faults] = dict(overrides)
        self._random = random.Random(seed)

    def reseed(self, seed: int) -> None:
        self._random.seed(seed)

    def decide(self, operation_id: str) -> FaultDecision:
        faults = self.overrides.get(operation_id, self.default)
        # Always four draws, so a configuration change never shifts the rest of the sequence.
        jitter, drop, error, pick = (self._random.random() for _ in range(4))
        delay = faults.latency + jitter * faults.latency_jitter
        if drop < faults.drop_rate:
            return FaultDecision(delay, True, None)
        if error < faults.error_rate:
            statuses = faults.error_statuses
            return FaultDecision(delay, False, statuses[int(pick * len(statuses))])
        return FaultDecision(delay, False, None)


class RateVerdict(NamedTuple):
    """The outcome of counting one request against its category's window."""

    allowed: bool
    limit: int
    remaining: int
    reset_after: float  # seconds until the window refills

    def headers(self) -> dict[str, str]:
        """``X-RateLimit-*`` (on every response) and, when refused, ``Retry-After``.

        ``Retry-After`` is in whole seconds, as HTTP requires. ``X-RateLimit-Reset`` is to the millisecond
        ("7.5", "0.042"): whole seconds would tell a client pacing itself from the headers that a 1-second window
        always has a full second left, and it would wait up to twice as long as it needs to.
        """
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": _seconds_text(self.reset_after),
        }
        if not self.allowed:
            headers["Retry-After"] = str(math.ceil(self.reset_after))
        return headers


def _seconds_text(seconds: float) -> str:
    """Seconds rounded up to the millisecond (never earlier than the truth), without trailing zeros."""
    milliseconds = math.ceil(round(seconds * 1000, 6))
    whole, fraction = divmod(milliseconds, 1000)
    return f"{whole}.{fraction:03d}".rstrip("0") if fraction else str(whole)


@dataclass(slots=True)
class _Window:
    started: float
    used: int = 0


@dataclass
class RateLimiter:
    """Fixed-window request counting per rate-limit category.

    ``limits`` may be changed at any time (``sim.rate_limits["org_read"] = RateLimit(5, 1.0)``); the change
    applies from the next request, within the current window.
    """

    clock: Clock
    default: RateLimit = DEFAULT_RATE_LIMIT
    limits: dict[str, RateLimit] = field(default_factory=dict)
    _windows: dict[str, _Window] = field(default_factory=dict)

    def take(self, category: str) -> RateVerdict:
        limit = self.limits.get(category, self.default)
        now = self.clock()
        window = self._windows.get(category)
        if window is None or now >= window.started + limit.window:
            window = self._windows[category] = _Window(started=now)
        reset_after = window.started + limit.window - now
        if window.used >= limit.requests:
            return RateVerdict(False, limit.requests, 0, reset_after)
        window.used += 1
        return RateVerdict(True, limit.requests, limit.requests - window.used, reset_after)

    def reset(self) -> None:
        """Forget every window: all categories start with a full budget."""
        self._windows.clear()
