"""Per-client counters by rate-limit category, readable at any time."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

# The budget as the governor sees it at the moment of reading: not summed by total().
_GAUGE = {"gauge": True}


@dataclass(slots=True)
class CategoryMetrics:
    """Counters for one rate-limit category (or ``"external"`` for requests outside the API, such as S3), and
    the governor's view of its budget when read."""

    #: HTTP attempts sent, retries included.
    requests: int = 0
    #: Attempts that were a retry of an earlier one.
    retries: int = 0
    #: 429 responses.
    rate_limited: int = 0
    #: 5xx responses.
    server_errors: int = 0
    #: Attempts that failed below HTTP (connection, timeout).
    transport_errors: int = 0
    #: Seconds calls spent waiting for the rate budget (a 429 block, a spent window, pacing), summed over calls.
    gate_wait: float = 0.0
    #: Seconds spent in backoff before retries of 5xx and transport errors.
    backoff_wait: float = 0.0
    #: Request body bytes sent and response body bytes received.
    bytes_sent: int = 0
    bytes_received: int = 0
    #: The limit that binds, as learned (``limit`` requests per ``window`` seconds; window None: until the
    #: server's reset), or None while none is known.
    limit: float | None = field(default=None, metadata=_GAUGE)
    window: float | None = field(default=None, metadata=_GAUGE)
    #: Requests the budget still allows before it refills, as far as the client knows (None: no limit known).
    remaining: float | None = field(default=None, metadata=_GAUGE)
    #: Requests sent and not yet answered, and calls waiting for the budget.
    in_flight: int = field(default=0, metadata=_GAUGE)
    waiting: int = field(default=0, metadata=_GAUGE)
    #: Requests per second the category is paced at (a client-side limit, or found from 429s), else None.
    pace: float | None = field(default=None, metadata=_GAUGE)
    #: The end of a block after a 429 (on the client's monotonic clock), while one is in force.
    blocked_until: float | None = field(default=None, metadata=_GAUGE)
    #: Seconds during which calls of the category were held back by the budget (wall time, not per call).
    held: float = field(default=0.0, metadata=_GAUGE)

    def __add__(self, other: CategoryMetrics) -> CategoryMetrics:
        return CategoryMetrics(**{name: getattr(self, name) + getattr(other, name) for name in _SUMMED})


_SUMMED = tuple(f.name for f in dataclasses.fields(CategoryMetrics) if not f.metadata.get("gauge"))


class Metrics(Mapping[str, CategoryMetrics]):
    """``client.metrics``: a read-only mapping from category to its live :class:`CategoryMetrics`.

    >>> client.metrics["ads_read"].rate_limited
    >>> client.metrics.total().requests
    >>> before = client.metrics.snapshot()
    """

    __slots__ = ("_categories", "_describe")

    def __init__(
        self,
        live: Mapping[str, CategoryMetrics],
        describe: Callable[[str, CategoryMetrics], None] = lambda category, metrics: None,
    ) -> None:
        self._categories = live
        # Fills in the budget's gauges at the moment of reading: nothing is kept up to date per request.
        self._describe = describe

    def __getitem__(self, category: str) -> CategoryMetrics:
        # Not a subscript of the live dict, which would make counters for a category never used.
        counters = self._categories.get(category)
        if counters is None:
            raise KeyError(category)
        self._describe(category, counters)
        return counters

    def __iter__(self) -> Iterator[str]:
        return iter(self._categories)

    def __len__(self) -> int:
        return len(self._categories)

    def snapshot(self) -> dict[str, CategoryMetrics]:
        """A copy of every category's counters, unaffected by later requests."""
        return {category: dataclasses.replace(self[category]) for category in self._categories}

    def total(self) -> CategoryMetrics:
        """The sum over all categories."""
        return sum(self._categories.values(), CategoryMetrics())

    def __repr__(self) -> str:
        return f"Metrics({self._categories!r})"
