"""Per rate-limit-category gates: every request waits at its category's gate before it is sent.

Pinterest budgets requests per ``x-ratelimit-category`` (``ads_read``, ``org_write``, ...), so a 429 on one call is
news for every call of that category and for no other. A gate holds three independent brakes:

- a block: after a 429 nothing in the category is sent until the server's wait is over (one shared wait, rather
  than each request discovering the 429 for itself);
- pacing: when ``X-RateLimit-Remaining`` falls below ``pace_below`` of ``X-RateLimit-Limit``, sends are spaced so
  that the remaining budget lasts until the window resets, instead of running into a 429;
- an optional client-side limit in requests per second.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from .categories import ByCategory
from .clock import Clock
from .headers import RATELIMIT_LIMIT, RATELIMIT_REMAINING, header_number, ratelimit_state


class _Gate:
    __slots__ = (
        "blocked_until",
        "client_interval",
        "last_slot",
        "limit_header",
        "open",
        "pace_above",
        "paced_interval",
    )

    def __init__(self, client_interval: float) -> None:
        self.blocked_until = 0.0
        # X-RateLimit-Limit as last seen, and the Remaining above which no pacing is needed.
        self.limit_header: str | None = None
        self.pace_above = math.inf
        # When the latest request was let through: spacing counts from there.
        self.last_slot = -math.inf
        self.client_interval = client_interval
        self.paced_interval = 0.0
        # No block and no spacing in effect: a request passes without the clock being read. Cleared by whatever
        # brakes the category, set again by the first request that finds every brake released.
        self.open = client_interval <= 0

    @property
    def interval(self) -> float:
        return max(self.client_interval, self.paced_interval)

    def reserve(self, now: float) -> float:
        """Take the next send slot, ``interval`` after the previous one; returns how long to wait for it."""
        slot = max(now, self.last_slot + self.interval)
        self.last_slot = slot
        return slot - now


class RateLimitGates:
    """The gates of one client, created on first use per category."""

    def __init__(
        self, clock: Clock, *, per_second: Mapping[str, float] | None = None, pace_below: float | None = 0.1
    ) -> None:
        for category, rate in (per_second or {}).items():
            if rate <= 0:
                raise ValueError(
                    f"rate_limits[{category!r}] must be a positive number of requests per second"
                )
        self._clock = clock
        self._pace_below = pace_below
        self._per_second = dict(per_second or {})
        self._gates = ByCategory(self._new_gate)

    def _new_gate(self, category: str) -> _Gate:
        rate = self._per_second.get(category)
        return _Gate(1.0 / rate if rate else 0.0)

    def pass_now(self, category: str) -> bool:
        """Let a request through at once if its gate is open and unpaced (the hot path, without a coroutine)."""
        gate = self._gates[category]
        if gate.open:
            return True
        now = self._clock.monotonic()
        if gate.blocked_until <= now and gate.client_interval <= 0 and gate.paced_interval <= 0:
            gate.open = True
            gate.last_slot = now
            return True
        return False

    async def wait(self, category: str) -> float:
        """Wait until the category may send (after :meth:`pass_now` said no); returns the seconds waited."""
        gate = self._gates[category]
        clock = self._clock
        start = clock.monotonic()
        await self._until_unblocked(gate)
        slot_delay = gate.reserve(clock.monotonic())
        if slot_delay > 0:
            await clock.sleep(slot_delay)
            # A 429 may have closed the gate while this request waited for its slot.
            await self._until_unblocked(gate)
        return clock.monotonic() - start

    async def _until_unblocked(self, gate: _Gate) -> None:
        # A loop: another request's 429 can push the block further while we sleep.
        while (remaining := gate.blocked_until - self._clock.monotonic()) > 0:
            await self._clock.sleep(remaining)

    def block(self, category: str, seconds: float) -> None:
        """Hold every request of the category for ``seconds`` (extends, never shortens, a block in effect)."""
        gate = self._gates[category]
        gate.blocked_until = max(gate.blocked_until, self._clock.monotonic() + seconds)
        gate.open = False

    def observe(self, category: str, headers: Mapping[str, str]) -> None:
        """Adjust pacing from a response's ``X-RateLimit-*`` headers."""
        if self._pace_below is None:
            return
        remaining_header = headers.get(RATELIMIT_REMAINING)
        limit_header = headers.get(RATELIMIT_LIMIT)
        if remaining_header is None or limit_header is None:
            return
        remaining = header_number(remaining_header)
        if remaining is None:
            return
        gate = self._gates[category]
        if limit_header != gate.limit_header:
            # Parsed only when it changes: a category's limit is the same text on almost every response.
            limit = header_number(limit_header)
            if limit is None:
                return
            gate.limit_header, gate.pace_above = limit_header, limit * self._pace_below
        if remaining > gate.pace_above:
            # Every response's case while the budget is ample, decided without reading the reset time.
            gate.paced_interval = 0.0
            return
        state = ratelimit_state(headers, self._clock.time())
        horizon = state.reset if state.reset is not None else state.window
        if remaining <= 0:
            if horizon is not None:
                self.block(category, horizon)
            return
        gate.paced_interval = 0.0 if horizon is None else horizon / remaining
        if gate.paced_interval > 0 and gate.open:
            # Spacing counts from now: requests let through while the gate was open did not note their time.
            gate.open = False
            gate.last_slot = self._clock.monotonic()

    def blocked_for(self, category: str) -> float:
        """Seconds until the category's block (after a 429) ends; 0 when it is open."""
        gate = self._gates.get(category)
        return max(0.0, gate.blocked_until - self._clock.monotonic()) if gate else 0.0
