"""Attempt timeouts with one timer for all the attempts in flight, instead of one timer per request.

An asyncio timer per request (what aiohttp's ``ClientTimeout(total=...)`` or ``asyncio.timeout`` set up) is a
Python-level ``TimerHandle`` pushed on the event loop's heap and cancelled a few milliseconds later; with many
requests in flight that is about an eighth of a small request's CPU time (17 of 127 us per call, measured against
the issue 3 benchmark's server). Here an attempt only records its deadline; one timer, due at the earliest
deadline, cancels the attempts that outlive theirs. The cancellation is delivered and taken back as
``asyncio.timeout`` does it, so that a caller's own cancellation (an anyio cancel scope, ``asyncio.timeout``,
``task.cancel()``) is never mistaken for a timeout, nor swallowed.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

Task = asyncio.Task[Any]


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
        # The loop of the last attempt: asyncio.current_task() without it asks for the running loop, which on
        # CPython 3.11 costs a getpid() system call, about a microsecond, on every request.
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, seconds: float, task: Task | None = None) -> Task:
        """Time the current task's attempt, which must end with :meth:`stop`; returns the task. ``task``: the
        current task, when the caller knows it already (spares looking it up)."""
        if task is None and self._loop is not None:
            task = asyncio.current_task(self._loop)
        if task is None or task.get_loop() is not self._loop:  # the first attempt, or on another loop
            task = task or asyncio.current_task()
            if task is None:
                raise RuntimeError("an attempt must run inside a task to be timed")
            if task.get_loop() is not self._loop:
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
