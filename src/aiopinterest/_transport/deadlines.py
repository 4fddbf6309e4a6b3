"""How long a call and its attempts may take: :class:`CallDeadline`, what is left of a call's total timeout, and
:class:`AttemptDeadlines`, attempt timeouts with one timer for all the attempts in flight instead of one per request.

An asyncio timer per request (what aiohttp's ``ClientTimeout(total=...)`` or ``asyncio.timeout`` set up) is a
Python-level ``TimerHandle`` pushed on the event loop's heap and cancelled a few milliseconds later; with many
requests in flight that is about an eighth of a small request's CPU time (bench/instructions.py: 33,900 more
instructions per pins.get, 8.3%, with aiohttp's timer per attempt). Here an attempt only records its deadline; one timer, due at the earliest
deadline, cancels the attempts that outlive theirs. The cancellation is delivered and taken back as
``asyncio.timeout`` does it, so that a caller's own cancellation (an anyio cancel scope, ``asyncio.timeout``,
``task.cancel()``) is never mistaken for a timeout, nor swallowed.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from ..errors import RequestTimeoutError
from .redact import redact_url

if TYPE_CHECKING:
    from .._options import Timeout
    from .request import OutgoingRequest

Task = asyncio.Task[Any]
T = TypeVar("T")


class AttemptDeadlines:
    """The deadlines of the attempts in flight (at most one per task), and the one timer that enforces them.

    Use::

        task = deadlines.start(5.0)
        try:
            await attempt()
        except asyncio.CancelledError:
            if not deadlines.stop(task):
                raise  # somebody else's cancellation
            ...  # the attempt took longer than 5 s
        else:
            deadlines.stop(task)
    """

    __slots__ = ("_expired", "_loop", "_running", "_timer", "_wake_at")

    def __init__(self) -> None:
        # Task -> (deadline on time.monotonic, the task's pending cancellations when its attempt started).
        self._running: dict[Task, tuple[float, int]] = {}
        # Task -> its pending cancellations before ours, for the attempts this timer has cancelled.
        self._expired: dict[Task, int] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._wake_at = math.inf
        # The loop of the last attempt, where the timer runs.
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, seconds: float, task: Task | None = None) -> Task:
        """Time the current task's attempt, which must end with :meth:`stop`; returns the task. ``task``: the
        current task, when the caller knows it already (spares looking it up)."""
        task = task or asyncio.current_task()
        if task is None:
            raise RuntimeError("an attempt must run inside a task to be timed")
        if task.get_loop() is not self._loop:  # the first attempt, or on another loop
            # Whatever was timed on another loop ended with it, and a timer there would never fire here.
            self.close()
            self._running.clear()
            self._expired.clear()
            self._loop = task.get_loop()
        at = time.monotonic() + seconds
        self._running[task] = (at, task.cancelling())
        if at < self._wake_at:
            self._schedule(at)
        return task

    def stop(self, task: Task) -> bool:
        """End the timing of ``task``'s attempt, on every way out of it. Returns whether the attempt was cut off
        by its deadline, and only by it: our cancellation is then taken back and the attempt has timed out. Else
        a :class:`asyncio.CancelledError` that ended the attempt is somebody else's, to be re-raised."""
        if self._running.pop(task, None) is not None:
            return False
        cancelling = self._expired.pop(task, None)
        # uncancel() takes back our request; a higher count left means somebody else asked for one too.
        return cancelling is not None and task.uncancel() <= cancelling

    def close(self) -> None:
        """Stop the timer (attempts still running go on untimed)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._wake_at = math.inf

    def _schedule(self, at: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._wake_at = at
        # call_later, not call_at: the loop's clock need not be time.monotonic() (uvloop keeps its own).
        loop = self._loop
        assert loop is not None  # start() sets it before the first deadline is scheduled
        self._timer = loop.call_later(max(at - time.monotonic(), 0.0), self._expire)

    def _expire(self) -> None:
        """Cancel every attempt past its deadline; set the timer for the earliest of the others."""
        self._timer = None
        self._wake_at = math.inf
        now = time.monotonic()
        earliest = math.inf
        for task, (at, cancelling) in list(self._running.items()):
            if at <= now:
                del self._running[task]
                self._expired[task] = cancelling
                task.cancel()
            elif at < earliest:
                earliest = at
        if earliest < math.inf:
            self._schedule(earliest)


@dataclass(slots=True)
class CallDeadline:
    """What is left of one call's total timeout; waits for a concurrency slot are given back.

    Enforced by bounding each wait (token renewal, the rate-limit queue, backoff) and each attempt's aiohttp ``total`` timeout
    with what remains, rather than by one cancel scope around the call: entering an anyio cancel scope costs about
    as much as the rest of the SDK's per-request work together.
    """

    timeouts: Timeout
    _request: OutgoingRequest
    # On time.monotonic, the event loop's clock: through anyio.current_time(), bench/instructions.py counts 9,800
    # more instructions per pins.get (2.4%).
    _deadline: float

    def remaining(self) -> float:
        return self._deadline - time.monotonic()

    def exhausted(self) -> bool:
        # A millisecond of slack: the timer that ended the attempt may fire a hair before the deadline.
        return self.remaining() <= 1e-3

    def extend(self, seconds: float) -> None:
        self._deadline += seconds

    def attempt_limit(self) -> float | None:
        """Seconds the next attempt may take: ``Timeout.attempt``, cut to what remains (``None``: no limit)."""
        attempt = self.timeouts.attempt
        if self._deadline == math.inf:
            return attempt
        remaining = max(self._deadline - time.monotonic(), 0.0)
        return remaining if attempt is None or attempt > remaining else attempt

    def exceeded(self) -> RequestTimeoutError:
        request = self._request
        return RequestTimeoutError(
            f"{request.method} {redact_url(request.url)} did not complete within its "
            f"{self.timeouts.total} s timeout"
        )

    async def bound(self, waiting: Awaitable[T]) -> T:
        """Await ``waiting``, raising :class:`RequestTimeoutError` if the budget runs out first."""
        with anyio.move_on_after(self.remaining()) as scope:
            return await waiting
        assert scope.cancelled_caught
        raise self.exceeded()
