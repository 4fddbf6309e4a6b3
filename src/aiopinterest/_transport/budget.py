"""What one rate-limit category may send, learned from every response: the budget model under the governor.

Three sources, the strictest winning:

- quota policies (``X-RateLimit-Limit: 100, 100;w=1, 1000;w=60``, client-side limits, published priors), each
  enforced on our own sends as a sliding window. A send occupies a policy from the moment it leaves until
  ``window`` seconds after its response came back: the server counted it somewhere in between, so no two sends
  that it can place in one window of that length exceed the limit, whatever the phase of the server's windows;
- the server's own count (``X-RateLimit-Remaining`` until ``X-RateLimit-Reset``), which also covers what other
  clients of the same user and app spend. Requests sent after the one that reported it count against it;
- without any header, a rate found from the 429s alone (:class:`RateFinder`).

Pure bookkeeping: every method takes the time, so the model runs the same on a fake clock.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping

from .headers import (
    RATELIMIT_LIMIT,
    RATELIMIT_REMAINING,
    Policy,
    header_number,
    quota_policies,
    ratelimit_reset,
    retry_after,
)

# Answered sends are kept per slice of 1/_GRAIN of a window, so that a policy costs constant memory however
# many requests it admits; an expiry is rounded up to its slice's end, which only ever errs on the safe side
# (a millisecond for a one-second window).
_GRAIN = 1000
# Slow start of the rate found from 429s: it doubles this often.
_SLOW_START_STEP = 0.5
# When a server counts down Remaining but never says when it refills: look again after this many seconds.
_UNSAID_RESET = 1.0
# Seconds the requests of a category's slow start may stay unanswered before others go without their news.
_RAMP_PATIENCE = 1.0


class SlidingWindow:
    """Our own sends against one quota policy: in flight, or answered less than ``window`` seconds ago."""

    __slots__ = ("_answered", "_expiries", "_grain", "policy")

    def __init__(self, policy: Policy) -> None:
        assert policy.window is not None
        self.policy = policy
        self._grain = policy.window / _GRAIN
        # [expiry, count] in expiry order.
        self._expiries: deque[list[float]] = deque()
        self._answered = 0

    def answered(self, now: float) -> int:
        """Sends answered less than a window ago (the in-flight ones are counted by the budget)."""
        expiries = self._expiries
        while expiries and expiries[0][0] <= now:
            self._answered -= int(expiries.popleft()[1])
        return self._answered

    def record(self, answered_at: float) -> None:
        assert self.policy.window is not None
        expiry = math.ceil((answered_at + self.policy.window) / self._grain) * self._grain
        expiries = self._expiries
        if expiries and expiries[-1][0] == expiry:
            expiries[-1][1] += 1
        else:
            expiries.append([expiry, 1])
        self._answered += 1

    def frees_at(self) -> float:
        """When the oldest answered send stops counting (``inf`` when only in-flight sends fill the window)."""
        return self._expiries[0][0] if self._expiries else math.inf


class RateFinder:
    """The sending rate of a category whose server says nothing but 429, found from the 429s themselves.

    Made at the first 429. Slow start doubles the rate every half second from ``start`` until the next 429;
    after a 429 the rate drops to ``decrease`` of the rate that met it, but never below what the server was seen
    to accept over the last second, and grows back along a cubic curve (CUBIC, as botocore's adaptive mode and
    TCP do): fast while far below the rate that failed, flat near it, probing beyond it slowly. One decrease per
    congestion event: a 429 for a request sent before the last decrease says nothing new.
    """

    __slots__ = (
        "_accepted",
        "_created",
        "_cut_at",
        "_cut_seq",
        "_growth",
        "_peak",
        "decrease",
        "rate",
        "slow_start",
    )

    def __init__(
        self, now: float, *, since_seq: int, start: float = 50.0, decrease: float = 0.8, growth: float = 0.4
    ) -> None:
        self.rate = start
        self.slow_start = True
        self._peak = start
        self._cut_at = self._created = now
        self._cut_seq = since_seq
        self._growth = growth
        self.decrease = decrease
        # When the successes of the last second were answered: what the server demonstrably accepts.
        self._accepted: deque[float] = deque()

    def on_success(self, now: float) -> None:
        """Grow the rate after an accepted request."""
        accepted = self._accepted
        accepted.append(now)
        while accepted[0] <= now - 1.0:
            accepted.popleft()
        if self.slow_start:
            if now - self._cut_at >= _SLOW_START_STEP:
                self.rate *= 2.0
                self._cut_at = now
            return
        # CUBIC's window curve, in requests per second: back to the peak after k seconds, then beyond.
        k = ((self._peak * (1.0 - self.decrease)) / self._growth) ** (1.0 / 3.0)
        elapsed = now - self._cut_at
        self.rate = max(self.rate, self._growth * (elapsed - k) ** 3 + self._peak)

    def on_rate_limited(self, now: float, seq: int, sent: int) -> bool:
        """Cut the rate after a 429 for request ``seq``; ``sent`` is the newest sequence number. True if cut."""
        if seq <= self._cut_seq:
            return False
        if self.slow_start and now - self._created < _SLOW_START_STEP:
            # Still the refusals that made the finder: the server's burst allowance is spent, and its rate may be
            # far below the start. Halve, and keep looking for the rate from below.
            self.rate *= 0.5
            self._cut_seq = sent
            return True
        self.slow_start = False
        self._peak = self.rate
        accepted = self._accepted
        while accepted and accepted[0] <= now - 1.0:
            accepted.popleft()
        # A cut right after another (an empty bucket keeps refusing for a moment) must not sink below the rate
        # the server has just been accepting.
        self.rate = min(self.rate, max(self.rate * self.decrease, 0.95 * len(accepted)))
        self._cut_at = now
        self._cut_seq = sent
        return True


class Budget:
    """The budget of one category (or the universal one, shared by all categories)."""

    __slots__ = (
        "_client_policies",
        "_finder",
        "_limit_header",
        "_max_in_flight",
        "_server_policies",
        "_windows",
        "binding",
        "blocked_until",
        "cap_assumed",
        "cap_base",
        "cap_from",
        "cap_until",
        "in_flight",
        "last_send",
        "learn",
        "next_slot",
        "pending",
        "ramp",
        "rate",
        "sent",
    )

    def __init__(
        self,
        *,
        max_in_flight: int,
        policies: tuple[Policy, ...] = (),
        rate: float | None = None,
        learn: bool = True,
    ) -> None:
        self._max_in_flight = max_in_flight
        # Client-side and prior policies stay; the server's replace each other as its header changes.
        self._client_policies = tuple(p for p in policies if p.window is not None)
        self._server_policies: tuple[Policy, ...] = ()
        self._windows = {p: SlidingWindow(p) for p in self._client_policies}
        self._limit_header: str | None = None
        self._finder: RateFinder | None = None
        #: The policy ``X-RateLimit-Remaining`` speaks of, once the server has named it.
        self.binding: Policy | None = None
        #: Sequence number of the newest send on the wire; sends admitted but not yet on the wire (waiting for a
        #: concurrency slot); and admitted sends without an answer yet (those pending included).
        self.sent = 0
        self.pending = 0
        self.in_flight = 0
        # The server's count in its current window: it accepts cap_base - sent more requests until cap_until.
        # Only answers to sends numbered above cap_from speak of this window.
        self.cap_base = math.inf
        self.cap_until = -math.inf
        self.cap_from = 0
        # The count is our assumption (a fresh window holds the binding limit), until the server's first word.
        self.cap_assumed = False
        self.blocked_until = -math.inf
        #: Evenly spaced sends at this many per second (client-side limit or found from 429s), else None.
        self.rate = rate
        self.last_send = -math.inf
        # While paced: when the next send is due.
        self.next_slot = -math.inf
        # Learning from responses: off for the universal budget, which only priors shape.
        self.learn = learn
        # Requests in flight allowed while the category's limits are unknown: one until its first answer (whose
        # headers say how much may follow), then, if it had none, one more per two successes (a slow start), so
        # that a server that only answers 429 is not flooded before its first refusal. None: no such limit.
        # (With one concurrency slot the slot already says so, and a wait for it does not count against
        # timeouts.)
        self.ramp: float | None = 1.0 if learn and max_in_flight > 1 else None

    # -- deciding ---------------------------------------------------------------------------------------------

    def wait(self, now: float) -> float:
        """Seconds until the next send may go: 0 now, ``inf`` until a response changes the picture."""
        if self.blocked_until > now:
            return self.blocked_until - now
        in_flight = self.in_flight
        if self.ramp is not None and in_flight >= self.ramp:
            # Slow answers must not hold the category for long.
            if now < self.last_send + _RAMP_PATIENCE:
                return self.last_send + _RAMP_PATIENCE - now
            self.ramp = None
        if in_flight >= self._max_in_flight and self.cap_until > now:
            # No more admitted than can be on the wire while the server counts: its count then binds all it
            # should (a send admitted before a count arrived is not sent past it: see covers()).
            return math.inf
        delay = 0.0
        if self.cap_until <= now:
            if self.cap_until > -math.inf:  # a count the server gave, now out of date
                self._close_count(now)
        elif self.cap_base - self.sent - self.pending <= 0:
            if not (in_flight == 0 and self._binding_window_has_room(now)):
                delay = self.cap_until - now
            # Else one request goes to ask: a Reset in whole seconds may say "1" for a window that ends sooner,
            # and our own sends in the last window leave room, so only other clients could have spent it.
        # The server counts the binding policy itself, others' sends included: our own record of it is only
        # needed when its count is out of date.
        counted = self.binding if self.cap_until > now else None
        for policy, window in self._windows.items():
            if policy != counted and window.answered(now) + in_flight >= policy.limit:
                delay = max(delay, window.frees_at() - now)
        if self.rate is not None:
            delay = max(delay, self.next_slot - now)
        return delay

    def _binding_window_has_room(self, now: float) -> bool:
        window = self._windows.get(self.binding) if self.binding is not None else None
        return window is not None and window.answered(now) < window.policy.limit

    def covers(self, now: float) -> bool:
        """Whether a send admitted earlier may go on the wire now: still within what the server said remains."""
        if self.cap_base - self.sent > 0 or self.cap_until <= now:
            return True
        # The one request that goes to ask whether a window said to end later has ended already (see wait()).
        return self.in_flight == self.pending == 1 and self._binding_window_has_room(now)

    def remaining(self, now: float) -> float | None:
        """Sends the budget allows before it refills, as far as it knows (``None``: no limit known)."""
        left = math.inf
        if self.cap_until > now and self.cap_base != math.inf:
            left = self.cap_base - self.sent - self.pending
        for window in self._windows.values():
            left = min(left, window.policy.limit - window.answered(now) - self.in_flight)
        return None if left == math.inf else max(0.0, left)

    @property
    def policies(self) -> tuple[Policy, ...]:
        """Every windowed policy enforced: the server's, the client's and priors."""
        return tuple(self._windows)

    @property
    def found_rate(self) -> float | None:
        """The rate found from 429s alone, while the server says nothing else."""
        return self._finder.rate if self._finder is not None else None

    def limit(self) -> Policy | None:
        """The policy that binds: as the server names it, else the strictest of ours."""
        if self.binding is not None:
            return self.binding
        windowed = [p for p in self._windows if p.window]
        return min(windowed, key=lambda p: p.limit / (p.window or 1.0), default=None)

    # -- recording --------------------------------------------------------------------------------------------

    def on_admit(self, now: float) -> None:
        """Count a send the governor let go; it is on its way to the wire."""
        self.in_flight += 1
        self.pending += 1
        self.last_send = now
        if self.rate is not None:
            self._advance_slot(now, self.rate)

    def on_send(self, now: float) -> int:
        """:meth:`on_admit` and :meth:`on_wire` at once, for a send that leaves as soon as it is admitted (the
        hot path, in one call); returns its sequence number."""
        self.in_flight += 1
        self.sent += 1
        self.last_send = now
        if self.rate is not None:
            self._advance_slot(now, self.rate)
        return self.sent

    def _advance_slot(self, now: float, rate: float) -> None:
        # From the slot this send was due at, not from when the timer got round to it: a late wake-up must not
        # stretch every interval; after idle time, from now (no saved-up burst).
        interval = 1.0 / rate
        due = self.next_slot if now - self.next_slot < interval else now
        self.next_slot = due + interval

    def on_wire(self) -> int:
        """An admitted send leaves now; returns its sequence number. (Numbered here, not at admission: the
        server's count in an answer covers exactly the sends that left before it.)"""
        self.pending -= 1
        self.sent += 1
        return self.sent

    def on_withdrawn(self) -> None:
        """An admitted send that never left (its caller was cancelled, or a block came first)."""
        self.in_flight -= 1
        self.pending -= 1

    def on_answer(
        self, seq: int, now: float, wall: float, status: int | None, headers: Mapping[str, str]
    ) -> bool:
        """Account for the outcome of send ``seq``; ``status`` None: no response (the server may have counted
        it all the same). Returns True when a 429 made the rate found from 429s drop."""
        self.in_flight -= 1
        cut = self.learn and self._learn(seq, now, wall, status, headers)
        # After learning: a policy this answer names counts the answer itself.
        for window in self._windows.values():
            window.record(now)
        return cut

    def _learn(
        self, seq: int, now: float, wall: float, status: int | None, headers: Mapping[str, str]
    ) -> bool:
        remaining = headers.get(RATELIMIT_REMAINING)
        if self.ramp is not None:
            self._ramp_up(status, remaining is not None)
        if remaining is not None:
            self._read_server_count(seq, now, wall, remaining, headers)
        elif status == 429 and headers.get(RATELIMIT_LIMIT) is None and retry_after(headers, wall) is None:
            return self._found_rate_limited(seq, now)
        elif self._finder is not None and status is not None and status < 400:
            self._finder.on_success(now)
            self.rate = self._finder.rate
        return False

    def block(self, until: float) -> None:
        """Hold every send until ``until`` (extends, never shortens, a block in effect)."""
        self.blocked_until = max(self.blocked_until, until)

    def _read_server_count(
        self, seq: int, now: float, wall: float, remaining_text: str, headers: Mapping[str, str]
    ) -> None:
        limit_text = headers.get(RATELIMIT_LIMIT)
        if limit_text is not None and limit_text != self._limit_header:
            # Parsed only when it changes: a category's limit is the same text on almost every response (parsed on
            # each, 28,200 more instructions per pins.get, 6.6%, bench/instructions.py --rate-limit-headers).
            self._adopt_policies(limit_text)
        if self._finder is not None:  # the server speaks after all
            self._finder = None
            self.rate = None
        remaining = header_number(remaining_text)
        if remaining is None:
            return
        if self.cap_until <= now:
            self._close_count(now)
        if seq <= self.cap_from:
            return  # sent before the window the client now counts in: old news
        # The server counted every send numbered below this one, or (answers overtake each other) fewer:
        # the lowest count is the truth.
        base = remaining + seq
        if self.cap_assumed:
            self.cap_assumed = False
            self.cap_base, self.cap_until = base, -math.inf
        elif self.cap_until > now:
            self.cap_base = min(self.cap_base, base)
            if remaining > self._max_in_flight:
                return  # more than can be sent before the next answer: the known reset will do
        else:
            self.cap_base = base
        reset = ratelimit_reset(headers, wall)
        if reset is None:
            binding = self.binding
            reset = binding.window if binding is not None and binding.window else _UNSAID_RESET
        self.cap_until = min(self.cap_until, now + reset) if self.cap_until > now else now + reset

    def _close_count(self, now: float) -> None:
        """The server's window has ended (as far as it said): its next answers start a new count. Until the
        first of them, the new window is taken to hold the binding limit, and no more is sent."""
        if self.cap_until == -math.inf:
            return
        self.cap_from = self.sent
        binding = self.binding
        if binding is None:
            self.cap_base, self.cap_until = math.inf, -math.inf
            return
        self.cap_base = self.sent + binding.limit
        self.cap_until = now + (binding.window or _UNSAID_RESET)
        self.cap_assumed = True

    def _adopt_policies(self, limit_text: str) -> None:
        self._limit_header = limit_text
        binding, policies = quota_policies(limit_text)
        self.binding = binding
        if policies == self._server_policies:
            return
        for stale in set(self._server_policies) - set(policies) - set(self._client_policies):
            del self._windows[stale]
        for policy in policies:
            self._windows.setdefault(policy, SlidingWindow(policy))
        self._server_policies = policies

    def _found_rate_limited(self, seq: int, now: float) -> bool:
        if self._finder is None:
            # Requests already on the wire met the same refusal: only those sent from now on are news.
            self._finder = RateFinder(now, since_seq=self.sent)
            self.rate = self._finder.rate
            self.next_slot = self.last_send + 1.0 / self.rate
            return True
        cut = self._finder.on_rate_limited(now, seq, self.sent)
        self.rate = self._finder.rate
        return cut

    def _ramp_up(self, status: int | None, has_headers: bool) -> None:
        ramp = self.ramp
        assert ramp is not None
        if has_headers or status == 429 or ramp + 1 >= self._max_in_flight:
            self.ramp = None  # the limits are known, or found from 429s from now on
        elif status is not None and status < 400:
            self.ramp = ramp + 0.5
