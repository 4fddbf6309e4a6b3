"""Per-client counters by rate-limit category, readable at any time."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass


@dataclass(slots=True)
class CategoryMetrics:
    """Counters for one rate-limit category (or ``"external"`` for requests outside the API, such as S3)."""

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
    #: Seconds spent waiting at the category's gate (a 429 block, pacing, client-side limits).
    gate_wait: float = 0.0
    #: Seconds spent in backoff before retries of 5xx and transport errors.
    backoff_wait: float = 0.0
    #: Request body bytes sent and response body bytes received.
    bytes_sent: int = 0
    bytes_received: int = 0

    def __add__(self, other: CategoryMetrics) -> CategoryMetrics:
        return CategoryMetrics(
            *(getattr(self, f.name) + getattr(other, f.name) for f in dataclasses.fields(CategoryMetrics))
        )


class Metrics(Mapping[str, CategoryMetrics]):
    """``client.metrics``: a read-only mapping from category to its live :class:`CategoryMetrics`.

    >>> client.metrics["ads_read"].rate_limited
    >>> client.metrics.total().requests
    >>> before = client.metrics.snapshot()
    """

    __slots__ = ("_categories",)

    def __init__(self, live: Mapping[str, CategoryMetrics]) -> None:
        self._categories = live

    def __getitem__(self, category: str) -> CategoryMetrics:
        # Not a subscript of the live dict, which would make counters for a category never used.
        counters = self._categories.get(category)
        if counters is None:
            raise KeyError(category)
        return counters

    def __iter__(self) -> Iterator[str]:
        return iter(self._categories)

    def __len__(self) -> int:
        return len(self._categories)

    def snapshot(self) -> dict[str, CategoryMetrics]:
        """A copy of every category's counters, unaffected by later requests."""
        return {category: dataclasses.replace(counters) for category, counters in self._categories.items()}

    def total(self) -> CategoryMetrics:
        """The sum over all categories."""
        return sum(self._categories.values(), CategoryMetrics())

    def __repr__(self) -> str:
        return f"Metrics({self._categories!r})"
