"""The retry policy: which failures are tried again, and after how long."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..errors import ConnectError, TransportError
from .headers import NO_HEADERS, requested_wait


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """One failed attempt, as the retry policy sees it."""

    method: str
    # Tries made so far, the failed one included.
    attempt: int
    # Seconds this call has already spent in backoff and rate-limit waits.
    waited: float
    # The HTTP status, or None when the attempt failed below HTTP (``error`` is then set).
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=lambda: NO_HEADERS)
    error: TransportError | None = None
    # The caller vouches that sending this request twice is harmless (e.g. an S3 upload of the same key).
    replay_safe: bool = False
    # Wall-clock time, to turn an HTTP-date Retry-After into a delay.
    now: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """When a failed request is tried again, and how long the client waits first.

    Retried, while fewer than ``max_attempts`` tries were made and the call's total wait stays within
    ``max_wait`` seconds:

    - 429, for every method: after ``Retry-After`` (seconds or an HTTP date), else ``X-RateLimit-Reset``, else
      backoff. The transport does not sleep that delay in the one request: a wait the server gave blocks the
      whole category in the rate-limit governor, and without one the governor paces the retry at the rate it
      finds from the 429s.
    - a connection that could not be made (:class:`~aiopinterest.errors.ConnectError`), for every method: the
      request provably never reached the server.
    - ``retry_statuses`` (500, 502, 503, 504; honouring ``Retry-After`` when sent), read timeouts and connections
      lost mid-exchange: only for ``idempotent_methods``, unless ``retry_non_idempotent`` opts POST and PATCH in.

    Backoff is "full jitter": a uniform draw from ``[0, min(backoff_cap, backoff_base * 2 ** (attempt - 1))]``,
    so with the defaults at most 0.5 s, 1 s, 2 s, 4 s for the four retries.

    To change the rules, pass ``RetryPolicy(...)`` with other values, ``RetryPolicy.disabled()``, or a subclass
    overriding :meth:`next_delay`.
    """

    max_attempts: int = 5
    max_wait: float = 120.0
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    retry_statuses: frozenset[int] = frozenset({500, 502, 503, 504})
    idempotent_methods: frozenset[str] = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
    retry_non_idempotent: bool = False
    # Returns a float in [0, 1); replaceable so tests get deterministic backoff.
    jitter: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1 (1 means: never retry)")
        if self.max_wait < 0 or self.backoff_base < 0 or self.backoff_cap < 0:
            raise ValueError("max_wait, backoff_base and backoff_cap must not be negative")

    @classmethod
    def disabled(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(max_attempts=1)

    def next_delay(self, failure: Failure) -> float | None:
        """Seconds to wait before the next try, or ``None`` to give up and raise."""
        if failure.attempt >= self.max_attempts or not self.is_retryable(failure):
            return None
        delay = self.server_delay(failure)
        if delay is None:
            delay = self.backoff(failure.attempt)
        if failure.waited + delay > self.max_wait:
            return None
        return delay

    def is_retryable(self, failure: Failure) -> bool:
        if failure.status == 429 or isinstance(failure.error, ConnectError):
            return True
        replayable = (
            failure.replay_safe or failure.method in self.idempotent_methods or self.retry_non_idempotent
        )
        if not replayable:
            return False
        return failure.error is not None or failure.status in self.retry_statuses

    def server_delay(self, failure: Failure) -> float | None:
        """The wait the server asked for, if it said."""
        return requested_wait(failure.status, failure.headers, failure.now)

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff after the ``attempt``-th try."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2.0 ** (attempt - 1))
        return ceiling * self.jitter()
