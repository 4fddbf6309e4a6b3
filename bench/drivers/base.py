"""The driver interface every client implements once, and the one loop per workload that drives them all.

A driver is asynchronous (:class:`AsyncDriver`) or synchronous (:class:`SyncDriver`), the way its library is
used; concurrency is then tasks on one event loop or threads in a pool. Every workload is driven the same way
for every client: ``concurrency`` workers pull request numbers from one shared iterator until it is empty or
the time cap has passed.
"""

from __future__ import annotations

import asyncio
import cProfile
import itertools
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterator, Sized
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

FIRST_PIN_ID = 813_744_226_420_000_000

#: Set by the child process to profile the measured part of a run (not its warm-up, not lazy imports).
profiler: cProfile.Profile | None = None


@dataclass(slots=True)
class Measurement:
    operations: int  # requests, or page decodes
    items: int  # pins received
    seconds: float
    capped: bool  # stopped by the time cap before the planned work was done


class Driver(ABC):  # noqa: B024 - a decode-only driver (the pydantic models) has no abstract HTTP methods
    def page_decoder(self) -> Callable[[bytes], Sized]:
        """A function decoding one page body into its items, the way this client decodes a page."""
        raise NotImplementedError


class AsyncDriver(Driver):
    @abstractmethod
    async def open(self, base_url: str, concurrency: int) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def get_pin(self, pin_id: str) -> Any: ...

    @abstractmethod
    def board_pins(self, board_id: str) -> AsyncIterator[Any]:
        """Every pin of the board, item by item, across all pages."""


class SyncDriver(Driver):
    @abstractmethod
    def open(self, base_url: str, concurrency: int) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def get_pin(self, pin_id: str) -> Any: ...

    @abstractmethod
    def board_pins(self, board_id: str) -> Iterator[Any]: ...


@contextmanager
def measured() -> Iterator[None]:
    if profiler is not None:
        profiler.enable()
    try:
        yield
    finally:
        if profiler is not None:
            profiler.disable()


def warmup_count(concurrency: int) -> int:
    # Enough for every worker to open its connection and for lazy imports and caches to settle.
    return max(2 * concurrency, 100)


def measure_get(driver: Driver, base_url: str, count: int, concurrency: int, time_cap: float) -> Measurement:
    if isinstance(driver, AsyncDriver):
        return asyncio.run(_async_get(driver, base_url, count, concurrency, time_cap))
    assert isinstance(driver, SyncDriver)
    driver.open(base_url, concurrency)
    try:
        _threaded_get(driver, warmup_count(concurrency), concurrency, deadline=None)
        with measured():
            started = time.perf_counter()
            done = _threaded_get(driver, count, concurrency, deadline=started + time_cap)
        return Measurement(done, done, time.perf_counter() - started, done < count)
    finally:
        driver.close()


async def _async_get(
    driver: AsyncDriver, base_url: str, count: int, concurrency: int, time_cap: float
) -> Measurement:
    await driver.open(base_url, concurrency)
    try:
        await _gathered_get(driver, warmup_count(concurrency), concurrency, deadline=None)
        with measured():
            started = time.perf_counter()
            done = await _gathered_get(driver, count, concurrency, deadline=started + time_cap)
        return Measurement(done, done, time.perf_counter() - started, done < count)
    finally:
        await driver.close()


async def _gathered_get(driver: AsyncDriver, count: int, concurrency: int, deadline: float | None) -> int:
    numbers = iter(range(count))
    done = itertools.count()

    async def worker() -> None:
        for number in numbers:
            await driver.get_pin(str(FIRST_PIN_ID + number))
            next(done)
            if deadline is not None and time.perf_counter() > deadline:
                return

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return next(done)


def _threaded_get(driver: SyncDriver, count: int, concurrency: int, deadline: float | None) -> int:
    numbers = iter(range(count))
    done = itertools.count()  # next() on these is atomic under the GIL

    def worker() -> None:
        for number in numbers:
            driver.get_pin(str(FIRST_PIN_ID + number))
            next(done)
            if deadline is not None and time.perf_counter() > deadline:
                return

    if concurrency == 1:
        worker()  # a sync user fetching one at a time has no pool
    else:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            for future in [pool.submit(worker) for _ in range(concurrency)]:
                future.result()
    return next(done)


def measure_list(
    driver: Driver, base_url: str, board_id: str, page_size: int, time_cap: float
) -> Measurement:
    if isinstance(driver, AsyncDriver):
        return asyncio.run(_async_list(driver, base_url, board_id, page_size, time_cap))
    assert isinstance(driver, SyncDriver)
    driver.open(base_url, 1)
    try:
        with measured():
            counter = _ItemCounter(page_size, time_cap)
            for _ in driver.board_pins(board_id):
                if not counter.take():
                    break
        return counter.measurement()
    finally:
        driver.close()


async def _async_list(
    driver: AsyncDriver, base_url: str, board_id: str, page_size: int, time_cap: float
) -> Measurement:
    await driver.open(base_url, 1)
    try:
        with measured():
            counter = _ItemCounter(page_size, time_cap)
            pins = driver.board_pins(board_id)
            async for _ in pins:
                if not counter.take():
                    break
            await _aclose(pins)
        return counter.measurement()
    finally:
        await driver.close()


async def _aclose(iterator: AsyncIterator[Any]) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()


class _ItemCounter:
    """Counts items as they are consumed; after each page's worth, says whether the time cap has passed."""

    def __init__(self, page_size: int, time_cap: float) -> None:
        self.page_size = page_size
        self.items = 0
        self.capped = False
        self.started = time.perf_counter()
        self.deadline = self.started + time_cap

    def take(self) -> bool:
        self.items += 1
        if self.items % self.page_size == 0 and time.perf_counter() > self.deadline:
            self.capped = True
        return not self.capped

    def measurement(self) -> Measurement:
        pages = -(-self.items // self.page_size)
        return Measurement(pages, self.items, time.perf_counter() - self.started, self.capped)


def measure_decode(driver: Driver, page: bytes, times: int, time_cap: float) -> Measurement:
    decode = driver.page_decoder()
    for _ in range(3):
        decode(page)  # build caches (decoders, validators) outside the measured part
    with measured():
        started = time.perf_counter()
        deadline = started + time_cap
        decoded = items = 0
        for _ in range(times):
            items += len(decode(page))
            decoded += 1
            if time.perf_counter() > deadline:
                break
    return Measurement(decoded, items, time.perf_counter() - started, decoded < times)
