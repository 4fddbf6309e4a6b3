"""The rate-limit governor: every decision to send, per ``x-ratelimit-category``, in one place.

Pinterest budgets requests per category (``ads_read``, ``org_write``, ...) and per user and app across all of
them. Each category has a :class:`~.budget.Budget` learned from every response and a queue of calls waiting
for it. The queue is served in arrival order (a retry keeps its call's place), and whenever the budget changes
(an answer, a 429, a window refilling) the governor looks again at who may go: nobody keeps a send time
reserved under an older picture, and nobody waits once the budget allows them.

A send is admitted here before it takes a concurrency slot, and admitted again after: a 429 that arrives while
it waited for the slot sends it back to the queue, so a block holds every request not yet on the wire.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
from collections.abc import Mapping
from typing import Final, Literal, TypeAlias

from .budget import Budget
from .categories import ByCategory
from .clock import Clock
from .headers import Policy
from .metrics import CategoryMetrics
from .shared import SharedBudget, SharedLane

logger = logging.getLogger("aiopinterest")

Priors: TypeAlias = Literal["trial", "standard"]

_DAY: Final = 86_400.0
# Pinterest's published limits (developers.pinterest.com, "Rate limits"): a universal one per user and app, and
# some per category; trial figures are per day, standard ones per minute. What the server says replaces them.
PUBLISHED_LIMITS: Final[Mapping[Priors, tuple[Policy, Mapping[str, Policy]]]] = {
    "trial": (
        Policy(1_000, _DAY),
        {"ads_analytics": Policy(1_000, _DAY), "ads_read": Policy(1_000, _DAY)},
    ),
    "standard": (
        Policy(100, 1.0),
        {"ads_analytics": Policy(300, 60.0), "ads_read": Policy(1_000, 60.0)},
    ),
}
# A hold shorter than this is routine pacing, logged at DEBUG; longer ones, and every 429 block, at INFO.
_NOTABLE_HOLD: Final = 1.0


class Permit:
    """Leave to send one request: numbered when it goes on the wire, returned with the request's answer."""

    __slots__ = ("category", "epoch", "seq", "universal_seq")

    def __init__(self, category: str, epoch: int, seq: int = 0) -> None:
        self.category = category
        self.epoch = epoch
        # 0 until the request goes on the wire.
        self.seq = seq
        self.universal_seq = 0


class _Lane:
    """One category: its budget, the calls waiting for it, and the timer that wakes them."""

    __slots__ = (
        "budget",
        "epoch",
        "held_since",
        "held_total",
        "reason",
        "shared",
        "timer",
        "timer_due",
        "waiters",
    )

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        # (order, tiebreak, future) in a heap: the oldest call first.
        self.waiters: list[tuple[int, int, asyncio.Future[Permit]]] = []
        # Bumped by every block: a permit from before it is void if its request has not left yet.
        self.epoch = 0
        self.timer: asyncio.Task[None] | None = None
        self.timer_due = math.inf
        # While calls wait: since when, and why (for the log and client.metrics).
        self.held_since: float | None = None
        self.held_total = 0.0
        self.reason = ""
        # The fleet's share of the category, when the budget is shared through Redis.
        self.shared: SharedLane | None = None


class Governor:
    """Decides when each request of a client may be sent."""

    def __init__(
        self,
        clock: Clock,
        *,
        max_in_flight: int,
        per_second: Mapping[str, float] | None = None,
        priors: Priors | None = None,
        unlearned: frozenset[str] = frozenset(),
        shared: SharedBudget | None = None,
    ) -> None:
        for category, rate in (per_second or {}).items():
            if not rate > 0:
                raise ValueError(
                    f"rate_limits[{category!r}] must be a positive number of requests per second"
                )
        if priors is not None and priors not in PUBLISHED_LIMITS:
            raise ValueError(f"rate_limit_priors must be one of {sorted(PUBLISHED_LIMITS)}, not {priors!r}")
        self._clock = clock
        self._max_in_flight = max_in_flight
        self._per_second = dict(per_second or {})
        universal: Policy | None = None
        self._category_priors: Mapping[str, Policy] = {}
        if priors is not None:
            universal, self._category_priors = PUBLISHED_LIMITS[priors]
        # Only priors shape the universal budget: no response says which of its limits it counts against.
        self._universal = (
            Budget(max_in_flight=max_in_flight, policies=(universal,), learn=False) if universal else None
        )
        self._unlearned = unlearned
        self._shared = shared
        self._lanes = ByCategory(self._new_lane)
        self._arrivals = itertools.count()
        self._tiebreak = itertools.count()

    def arrival(self) -> int:
        """A call's place in every queue it joins, kept across its retries."""
        return next(self._arrivals)

    def _new_lane(self, category: str) -> _Lane:
        prior = self._category_priors.get(category)
        rate = self._per_second.get(category)
        lane = _Lane(
            Budget(
                max_in_flight=self._max_in_flight,
                policies=(prior,) if prior else (),
                rate=rate,
                learn=category not in self._unlearned,
            )
        )
        if self._shared is not None and category not in self._unlearned:
            lane.shared = self._shared.lane(
                category,
                lane.budget,
                self._universal,
                wake=lambda: self._serve(category, lane),
                block=lambda seconds, why: self.block(category, seconds, why, tell_fleet=False),
            )
        return lane

    # -- admission --------------------------------------------------------------------------------------------

    def admit_now(self, category: str) -> Permit | None:
        """Leave to send at once, if nobody is queued ahead and the budget allows it (the hot path)."""
        lane = self._lanes[category]
        if lane.waiters:
            return None
        now = self._clock.monotonic()
        # One budget to ask: two calls (2,700 fewer instructions per pins.get, 0.7%, bench/instructions.py).
        if self._universal is None and lane.shared is None:
            budget = lane.budget
            return Permit(category, lane.epoch, budget.on_send(now)) if budget.wait(now) <= 0 else None
        if self._delay(lane, now) > 0:
            return None
        permit = self._take(category, lane, now)
        self._on_wire(lane, permit)
        return permit

    async def admit(self, category: str, order: int) -> Permit:
        """Wait in the category's queue until the budget lets this call go."""
        lane = self._lanes[category]
        future: asyncio.Future[Permit] = asyncio.get_running_loop().create_future()
        heapq.heappush(lane.waiters, (order, next(self._tiebreak), future))
        self._serve(category, lane)
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                # Admitted in the same instant it was cancelled: the send never happens.
                self.withdraw(future.result())
            raise

    def wait_for(self, category: str) -> float:
        """Seconds the next request of the category would wait now (``inf``: until an answer)."""
        return self._delay(self._lanes[category], self._clock.monotonic())

    def dispatch(self, permit: Permit) -> bool:
        """The request of a permit given earlier is about to go on the wire (it had to wait for a concurrency
        slot): True if it still may, False if a block began or the server said less remains meanwhile, and its
        request must queue again (the permit is then given back)."""
        lane = self._lanes[permit.category]
        if permit.epoch == lane.epoch and lane.budget.covers(self._clock.monotonic()):
            self._on_wire(lane, permit)
            return True
        self.withdraw(permit)
        return False

    def _on_wire(self, lane: _Lane, permit: Permit) -> None:
        permit.seq = lane.budget.on_wire()
        if self._universal is not None:
            permit.universal_seq = self._universal.on_wire()

    def withdraw(self, permit: Permit) -> None:
        """Give back a permit whose request was never sent (not yet on the wire)."""
        lane = self._lanes[permit.category]
        lane.budget.on_withdrawn()
        if lane.shared is not None:
            lane.shared.done()
        if self._universal is not None:
            self._universal.on_withdrawn()
        self._serve_all(permit.category, lane)

    # -- learning ---------------------------------------------------------------------------------------------

    def settle(self, permit: Permit, status: int | None, headers: Mapping[str, str]) -> None:
        """Learn from the answer to a permitted send (``status`` None: no response came)."""
        lane = self._lanes[permit.category]
        clock = self._clock
        now = clock.monotonic()
        budget = lane.budget
        if lane.shared is not None:
            lane.shared.done()
        if budget.on_answer(permit.seq, now, clock.time(), status, headers):
            logger.info(
                "rate limit: %s answered 429 without rate-limit headers; pacing at %.1f requests/s",
                permit.category,
                budget.rate,
            )
        if self._universal is not None:
            self._universal.on_answer(permit.universal_seq, now, 0.0, status, headers)
        if lane.waiters or self._universal is not None:
            self._serve_all(permit.category, lane)

    def block(self, category: str, seconds: float, why: str, *, tell_fleet: bool = True) -> None:
        """Hold every request of the category not yet on the wire for ``seconds`` (after a 429); and the
        fleet's, when the budget is shared (``tell_fleet`` False: the block came from the fleet)."""
        lane = self._lanes[category]
        if tell_fleet and lane.shared is not None:
            lane.shared.block(seconds)
        now = self._clock.monotonic()
        if now + seconds > lane.budget.blocked_until:
            logger.info("rate limit: %s blocked for %.3g s (%s)", category, seconds, why)
        lane.budget.block(now + seconds)
        lane.epoch += 1
        self._serve(category, lane)

    # -- reporting --------------------------------------------------------------------------------------------

    def describe(self, category: str, metrics: CategoryMetrics) -> None:
        """Fill in ``metrics``' view of the budget: learned limit, remaining, in flight, pace, time held."""
        lane = self._lanes.get(category)
        if lane is None:
            return
        now = self._clock.monotonic()
        budget = lane.budget
        policy = budget.limit()
        metrics.limit = policy.limit if policy else None
        metrics.window = policy.window if policy else None
        metrics.remaining = budget.remaining(now)
        metrics.in_flight = budget.in_flight
        metrics.pace = budget.rate
        metrics.waiting = len(lane.waiters)
        metrics.blocked_until = budget.blocked_until if budget.blocked_until > now else None
        metrics.held = lane.held_total + (now - lane.held_since if lane.held_since is not None else 0.0)

    def close(self) -> None:
        """Stop every timer (the client is closing)."""
        for lane in self._lanes.values():
            if lane.timer is not None:
                lane.timer.cancel()
                lane.timer = None

    # -- the queue --------------------------------------------------------------------------------------------

    def _delay(self, lane: _Lane, now: float) -> float:
        delay = lane.budget.wait(now)
        universal = self._universal
        if universal is not None:
            delay = max(delay, universal.wait(now))
        if delay <= 0 and lane.shared is not None:
            # Only for a send this process would make now: the fleet's permits are not reserved to lie idle.
            delay = lane.shared.wait(now, len(lane.waiters))
        return delay

    def _take(self, category: str, lane: _Lane, now: float) -> Permit:
        lane.budget.on_admit(now)
        if self._universal is not None:
            self._universal.on_admit(now)
        if lane.shared is not None:
            lane.shared.take(now)
        return Permit(category, lane.epoch)

    def _serve_all(self, category: str, lane: _Lane) -> None:
        if self._universal is None:
            if lane.waiters:
                self._serve(category, lane)
            return
        # The universal budget is every category's: what one answer frees may be another category's turn.
        for other, other_lane in list(self._lanes.items()):
            if other_lane.waiters:
                self._serve(other, other_lane)

    def _serve(self, category: str, lane: _Lane) -> None:
        """Let go every waiter the budget now allows, oldest first; then wake again when more may go."""
        now = self._clock.monotonic()
        waiters = lane.waiters
        delay = 0.0
        while waiters:
            delay = self._delay(lane, now)
            if delay > 0:
                break
            future = heapq.heappop(waiters)[2]
            if not future.done():  # a cancelled caller left its place
                future.set_result(self._take(category, lane, now))
        if waiters:
            self._hold(category, lane, now, delay)
        elif lane.held_since is not None:
            self._release(category, lane, now)
        if delay < math.inf and waiters:
            self._wake_in(category, lane, now, delay)

    def _wake_in(self, category: str, lane: _Lane, now: float, delay: float) -> None:
        due = now + delay
        # A timer that is done did not fire: its event loop ended first (a client used in successive asyncio.run()).
        if lane.timer is not None and not lane.timer.done():
            if lane.timer_due <= due:
                return  # an earlier wake-up looks again anyway
            lane.timer.cancel()
        lane.timer_due = due
        lane.timer = asyncio.get_running_loop().create_task(self._wake(category, lane, delay))

    async def _wake(self, category: str, lane: _Lane, delay: float) -> None:
        await self._clock.sleep(delay)
        lane.timer, lane.timer_due = None, math.inf
        self._serve(category, lane)

    def _hold(self, category: str, lane: _Lane, now: float, delay: float) -> None:
        if lane.held_since is not None:
            return
        lane.held_since = now
        budget = lane.budget
        if budget.blocked_until > now:
            lane.reason = "blocked after a 429"
        elif budget.cap_until > now and budget.cap_base - budget.sent <= 0:
            lane.reason = "the server's remaining budget is spent"
        elif budget.rate is not None and delay < 1.0 / budget.rate + 1e-9:
            lane.reason = f"pacing at {budget.rate:.1f} requests/s"
        else:
            lane.reason = "quota window full"
        level = logging.INFO if delay >= _NOTABLE_HOLD or budget.blocked_until > now else logging.DEBUG
        if logger.isEnabledFor(level):
            when = "until an answer arrives" if delay == math.inf else f"for {delay:.3g} s"
            logger.log(
                level,
                "rate limit: %s holding %d calls %s (%s)",
                category,
                len(lane.waiters),
                when,
                lane.reason,
            )

    def _release(self, category: str, lane: _Lane, now: float) -> None:
        assert lane.held_since is not None
        held = now - lane.held_since
        lane.held_since = None
        lane.held_total += held
        level = logging.INFO if held >= _NOTABLE_HOLD else logging.DEBUG
        logger.log(level, "rate limit: %s released after %.3g s (%s)", category, held, lane.reason)
