"""The governor's budget shared by a fleet of processes through Redis: send slots reserved in batches.

Each category's schedule lives in Redis: the next free send slot (slots spaced ``window * (1 + margin) / limit``
apart for the shortest window the server names), counts for longer windows, a block after a 429, the permits
each process holds (with a lease) and the rates found without headers. One Lua script (``budget.lua``), run
with EVALSHA on Redis's clock, reserves a batch of slots for one process and learns from it at once what the
process holds; the process then spends its slots locally, each within a short grace of its time, so that one
round trip serves several requests.

While Redis is unreachable the process goes on alone within its share of the last budget it saw (the budget
divided by the processes then live), asks Redis again every ``retry_seconds``, and once it is back keeps to
that share for one more such interval and a horizon, while the rest of the fleet rejoins.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from .._transport.budget import Budget
from .._transport.clock import Clock
from .._transport.headers import Policy
from .connection import RedisPerLoop, redacted
from .keys import UNIVERSAL, FleetKeys

logger = logging.getLogger("aiopinterest")

#: Slots of the shortest window are spaced this much wider than the limit allows: the server counts arrivals,
#: which drift from the send slots by the network's and the event loop's jitter.
MARGIN: Final = 0.03
#: A slot not used within this many seconds of its time is dropped: a late send would crowd the next ones.
GRACE: Final = 0.025
#: Windows up to this long are spaced; longer ones (a minute, a day) counted.
_SPACED_WINDOW: Final = 10.0
#: Answers to a reservation slower than this count as Redis being down.
_TIMEOUT: Final = 1.0
_SCRIPT: Final = Path(__file__).with_name("budget.lua").read_text(encoding="utf-8")


class RedisBudget:
    """A :class:`~aiopinterest._transport.shared.SharedBudget` in Redis, for one client."""

    def __init__(
        self,
        url: str,
        keys: FleetKeys,
        *,
        clock: Clock,
        lease_seconds: float = 3.0,
        horizon_seconds: float = 1.0,
        batch: int = 16,
        retry_seconds: float = 1.0,
    ) -> None:
        self.url = url
        self.keys = keys
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.horizon_seconds = horizon_seconds
        self.batch = batch
        self.retry_seconds = retry_seconds
        self.process = secrets.token_hex(8)
        self._lanes: list[FleetLane] = []
        self._redis = RedisPerLoop(url, timeout=_TIMEOUT)
        self._heartbeat: asyncio.Task[None] | None = None
        # Whether Redis is down, and when to try it again; after it is back, until when to keep to this
        # process's share.
        self.down = False
        self.retry_at = -math.inf
        self.share_until = -math.inf

    def __repr__(self) -> str:
        return f"RedisBudget({redacted(self.url)!r}, tag={self.keys.tag!r})"

    def lane(
        self,
        category: str,
        budget: Budget,
        universal: Budget | None,
        *,
        wake: Callable[[], None],
        block: Callable[[float, str], None],
    ) -> FleetLane:
        lane = FleetLane(self, category, budget, universal, wake=wake, block=block)
        self._lanes.append(lane)
        return lane

    async def reserve(self, lane: FleetLane, want: int, block_ms: float) -> tuple[float, list[int]] | None:
        """One round trip: the script's reply and the local time it speaks of; None if Redis failed."""
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.get_running_loop().create_task(self._renew_leases())
        arguments = lane.arguments(want, block_ms)
        sent = self.clock.monotonic()
        try:
            reply = await self._redis.script(_SCRIPT)(keys=lane.keys, args=arguments)
        except Exception as error:  # whatever it was, the calls go on without Redis: none may stall on it
            self._went_down(error)
            return None
        received = self.clock.monotonic()
        if self.down:
            self._came_back(received)
        # Redis's clock is the only one: its reply speaks in offsets from its now, taken to be mid-trip.
        return (sent + received) / 2.0, [int(value) for value in reply]

    def _went_down(self, error: BaseException) -> None:
        now = self.clock.monotonic()
        self.retry_at = now + self.retry_seconds
        if not self.down:
            self.down = True
            self._redis.warn_failed(
                error, "pacing on this process's share of the fleet's budget until it is back"
            )

    def _came_back(self, now: float) -> None:
        self.down = False
        self.share_until = now + self.retry_seconds + self.horizon_seconds
        logger.warning("Redis at %s is back: rejoining the fleet's budget", redacted(self.url))

    def may_try(self, now: float) -> bool:
        """Whether a round trip is worth trying now (not while Redis is down and not yet due to be retried)."""
        if not self.down:
            return True
        if now < self.retry_at:
            return False
        self.retry_at = now + self.retry_seconds  # one lane tries; the others wait for its outcome
        return True

    async def _renew_leases(self) -> None:
        """Every quarter of a lease, a round trip for each lane that holds permits but made none meanwhile (slow
        answers): its lease must not lapse while its requests are in flight. A lease is thus never older than
        half its length while the process lives; once it dies, its permits count for at most ``lease_seconds``."""
        period = self.lease_seconds / 4.0
        while True:
            await self.clock.sleep(period)
            now = self.clock.monotonic()
            for lane in self._lanes:
                if lane.holding(now) and now - lane.last_trip >= period and lane.idle() and self.may_try(now):
                    lane.start_trip(0)

    async def aclose(self) -> None:
        from redis.exceptions import RedisError

        heartbeat, self._heartbeat = self._heartbeat, None
        if heartbeat is not None:
            heartbeat.cancel()
        for lane in self._lanes:
            lane.cancel()
        if not self.down:
            # Whatever this process still holds goes back to the fleet now, not when its lease lapses.
            for lane in self._lanes:
                if lane.last_trip > -math.inf:
                    lane.give_back_all()
                    try:
                        script = self._redis.script(_SCRIPT)  # on this loop's client, whichever loop that is
                        await script(keys=lane.keys, args=lane.arguments(0, 0.0, leaving=True))
                    except (TimeoutError, RedisError, OSError):
                        break
        await self._redis.aclose()


class FleetLane:
    """One category's slots for this process: reserved from Redis, spent by the governor."""

    def __init__(
        self,
        fleet: RedisBudget,
        category: str,
        budget: Budget,
        universal: Budget | None,
        *,
        wake: Callable[[], None],
        block: Callable[[float, str], None],
    ) -> None:
        self._fleet = fleet
        self.category = category
        self._budget = budget
        self._universal = universal
        self._wake = wake
        self._block = block
        self.keys = [*fleet.keys.budget(category), fleet.keys.budget(UNIVERSAL)[0]]
        # Slot times (local monotonic clock) reserved and not yet spent, and permits spent but not done.
        self._stock: deque[float] = deque()
        self._in_flight = 0
        self._task: asyncio.Task[None] | None = None
        # After a reply that granted nothing: no round trip before this.
        self._quiet_until = -math.inf
        # A block this process has to tell the fleet of: until when (local clock).
        self._block_until = -math.inf
        self.last_trip = -math.inf
        # Processes live at the last round trip, and the next slot while pacing on this process's share alone.
        self._live = 1
        self._alone_next = -math.inf
        # The largest batch worth asking for (see _learn).
        self._batch = 1

    def holding(self, now: float) -> bool:
        """Whether the process holds permits the fleet must go on counting: requests in flight, or slots still
        due (an idle process lets its lease lapse, and stops counting among the live)."""
        return self._in_flight > 0 or bool(self._stock and self._stock[-1] + GRACE >= now)

    def idle(self) -> bool:
        return self._task is None or self._task.done()

    # -- the governor's side ----------------------------------------------------------------------------------

    def wait(self, now: float, waiting: int) -> float:
        stock = self._stock
        while stock and stock[0] + GRACE < now:
            stock.popleft()  # missed: the fleet's schedule has moved on without it
        fleet = self._fleet
        alone = fleet.down or now < fleet.share_until
        # Refilled when half spent, to a batch as large as the queue (at most ``batch``): one round trip for
        # several requests while calls queue, one per request when they come one at a time.
        wanted = min(max(waiting, 1), self._batch)
        if 2 * len(stock) < wanted and now >= self._quiet_until and self.idle() and fleet.may_try(now):
            self.start_trip(wanted - len(stock))
        if fleet.down:
            return max(0.0, self._alone_next - now)
        if not stock:
            if self._quiet_until > now and self.idle():
                return self._quiet_until - now
            return math.inf  # the round trip under way wakes the governor
        due = stock[0]
        if alone:
            due = max(due, self._alone_next)
        return max(0.0, due - now)

    def take(self, now: float) -> None:
        fleet = self._fleet
        if self._stock and not fleet.down:
            self._stock.popleft()
        self._in_flight += 1
        if fleet.down or now < fleet.share_until:
            spacing = self._spacing_seconds()
            if spacing > 0:
                self._alone_next = max(now, self._alone_next) + spacing * self._live

    def done(self) -> None:
        self._in_flight -= 1

    def block(self, seconds: float) -> None:
        self._block_until = max(self._block_until, self._fleet.clock.monotonic() + seconds)
        if self.idle() and not self._fleet.down:
            self.start_trip(0)

    # -- round trips ------------------------------------------------------------------------------------------

    def start_trip(self, want: int) -> None:
        self._task = asyncio.get_running_loop().create_task(self._trip(want))

    async def _trip(self, want: int) -> None:
        clock = self._fleet.clock
        block_until, self._block_until = self._block_until, -math.inf
        block_ms = max(0.0, (block_until - clock.monotonic()) * 1000.0)
        outcome = await self._fleet.reserve(self, want, block_ms)
        now = clock.monotonic()
        self.last_trip = now
        if outcome is None:
            # Told at the next round trip that succeeds, for what is left of it then.
            self._block_until = max(self._block_until, block_until)
        else:
            self._learn(outcome[0], outcome[1], want, now)
        self._task = None
        if self._block_until > now and not self._fleet.down:
            self.start_trip(0)
        self._wake()

    def _learn(self, at: float, reply: list[int], want: int, now: float) -> None:
        blocked_ms, self._live, retry_ms, share, *slots = reply
        # A batch no larger than this process's share of the fleet's schedule; one slot at a time while nobody
        # knows the limits yet (as the governor's own ramp).
        known = share > 0 or self._knows_limits()
        self._batch = min(self._fleet.batch, share or self._fleet.batch) if known else 1
        if blocked_ms > 0:
            until = at + blocked_ms / 1000.0
            while self._stock and self._stock[0] < until:
                self._stock.popleft()
            # (A block this process posted itself comes back a round trip later than it began here.)
            if until > self._budget.blocked_until + 0.05:
                self._block(until - now, "another process of the fleet was answered 429")
        self._stock.extend(at + offset / 1_000_000.0 for offset in slots)
        if slots or want == 0:
            self._quiet_until = -math.inf
        elif retry_ms < 0:  # this process's share of the schedule is booked: ask again once it spends a slot
            self._quiet_until = self._stock[0] if self._stock else now
        else:
            self._quiet_until = now + retry_ms / 1000.0

    def arguments(self, want: int, block_ms: float, *, leaving: bool = False) -> list[Any]:
        """The script's arguments; ``leaving``: the lease ends now (the client is closing)."""
        fleet = self._fleet
        spacing, cap, counts = _constraints(self._budget.policies)
        universal_spacing, _, universal_counts = _constraints(
            self._universal.policies if self._universal is not None else ()
        )
        found = self._budget.found_rate
        idle_ms = int(
            fleet.lease_seconds * 10_000 + max((w for w, _ in counts + universal_counts), default=0) * 2
        )
        return [
            fleet.process,
            want,
            len(self._stock) + self._in_flight,
            0 if leaving else int(fleet.lease_seconds * 1000),
            int(fleet.horizon_seconds * 1000),
            repr(spacing * 1000.0),
            cap,
            repr(found) if found is not None else 0,
            repr(universal_spacing * 1000.0),
            repr(block_ms),
            idle_ms,
            len(self._stock),
            len(counts),
            *(value for pair in counts for value in pair),
            len(universal_counts),
            *(value for pair in universal_counts for value in pair),
        ]

    def _knows_limits(self) -> bool:
        """Whether the category's limits are known (else one slot at a time, as the governor's own ramp)."""
        return bool(self._budget.policies) or self._budget.found_rate is not None

    def _spacing_seconds(self) -> float:
        spacing = _constraints(self._budget.policies)[0]
        found = self._budget.found_rate
        if found:
            spacing = max(spacing, 1.0 / found)
        return spacing

    def give_back_all(self) -> None:
        self._stock.clear()
        self._in_flight = 0

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None


def _constraints(policies: tuple[Policy, ...]) -> tuple[float, int, list[tuple[int, int]]]:
    """Seconds between slots, the cap on permits held at once (0: none), and the (window ms, limit) counted."""
    spacing, cap = 0.0, 0
    counts: list[tuple[int, int]] = []
    for policy in policies:
        if policy.window is None:
            continue
        limit = max(1, int(policy.limit))
        cap = min(cap, limit) if cap else limit
        if policy.window <= _SPACED_WINDOW:
            spacing = max(spacing, policy.window * (1.0 + MARGIN) / limit)
        else:
            counts.append((int(policy.window * 1000), limit))
    return spacing, cap, counts
