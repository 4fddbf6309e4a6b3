"""The seam through which the governor shares its budget with other processes (the fleet, through Redis).

Without ``redis_url`` there is no shared budget: the governor's lanes hold ``None`` and each check is one
attribute test. With it, every lane asks its :class:`SharedLane` as well as its own budget, and only when its own
budget already says yes: the fleet is consulted for requests this process would send now.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from .budget import Budget


class SharedLane(Protocol):
    """The fleet's share of one category for this process: permits reserved in batches, spent locally."""

    def wait(self, now: float, waiting: int) -> float:
        """Seconds until the fleet lets this process send one more (0: now; ``inf``: until it answers);
        ``waiting`` calls are queued behind this one (the size of the next batch to reserve)."""
        ...

    def take(self, now: float) -> None:
        """Spend the permit that :meth:`wait` said is due."""
        ...

    def done(self) -> None:
        """A spent permit's request was answered, failed, or never sent: it no longer counts as in flight."""
        ...

    def block(self, seconds: float) -> None:
        """This process saw a 429: hold the whole fleet's category for ``seconds``."""
        ...


class SharedBudget(Protocol):
    """The fleet's budget: one :class:`SharedLane` per category, and the universal limit behind them all."""

    def lane(
        self,
        category: str,
        budget: Budget,
        universal: Budget | None,
        *,
        wake: Callable[[], None],
        block: Callable[[float, str], None],
    ) -> SharedLane:
        """The shared lane of ``category``, whose own ``budget`` it reads (policies learned, rate found);
        ``wake`` lets the governor look at its queue again when permits arrive, ``block`` holds the local
        category when another process's 429 blocked the fleet."""
        ...

    async def aclose(self) -> None:
        """Give back every permit not spent and stop (the client is closing)."""
        ...
