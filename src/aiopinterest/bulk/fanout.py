"""Fan-out: many calls at bounded concurrency, results as they complete, failures kept with their input."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

import anyio
from anyio.abc import ObjectReceiveStream

__all__ = ["Done", "Failed", "FanOut", "fan_out"]

I = TypeVar("I")  # noqa: E741
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Done(Generic[I, R]):
    """A call that succeeded: its input and what it returned."""

    input: I
    value: R


@dataclass(frozen=True, slots=True)
class Failed(Generic[I]):
    """A call that raised: its input and the exception."""

    input: I
    error: Exception


class FanOut(Generic[I, R]):
    """The results of :func:`fan_out`: iterate for the successes; ``failures`` holds the rest.

    ``failures`` is complete once the iteration has ended.
    """

    def __init__(self, results: ObjectReceiveStream[Done[I, R]]) -> None:
        self._results = results
        self.failures: list[Failed[I]] = []

    def __aiter__(self) -> AsyncIterator[Done[I, R]]:
        return self._results.__aiter__()


@asynccontextmanager
async def fan_out(
    call: Callable[[I], Awaitable[R]],
    inputs: Iterable[I] | AsyncIterable[I],
    *,
    concurrency: int = 8,
    fail_fast: bool = False,
) -> AsyncIterator[FanOut[I, R]]:
    """Run ``call`` for every input, at most ``concurrency`` at a time, yielding results as they complete.

    >>> async with fan_out(lambda pin_id: client.pins.get(pin_id=pin_id), pin_ids, concurrency=16) as results:
    ...     async for done in results:
    ...         save(done.input, done.value)
    >>> for failed in results.failures:
    ...     log(failed.input, failed.error)

    ``inputs`` may be any iterable or async iterable (a paginator, say); it is read lazily, as slots free up, so
    an endless or huge input costs constant memory. A result not yet consumed keeps its slot, so a slow consumer
    slows the calls down rather than piling results up.

    An exception raised by a call is kept in ``results.failures`` with its input and the other calls go on;
    with ``fail_fast=True`` the first one cancels every call still running and is raised from the ``async with``
    (with a note naming its input). Leaving the block early cancels the calls still running.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    send, receive = anyio.create_memory_object_stream[Done[I, R]]()
    results: FanOut[I, R] = FanOut(receive)
    slots = anyio.Semaphore(concurrency)
    first_error: list[Exception] = []

    async with anyio.create_task_group() as group:

        async def run(item: I) -> None:
            try:
                async with send.clone() as out:
                    try:
                        value = await call(item)
                    except Exception as error:
                        if not fail_fast:
                            results.failures.append(Failed(item, error))
                            return
                        error.add_note(f"fan_out input: {item!r}")
                        first_error.append(error)
                        group.cancel_scope.cancel()
                        return
                    await out.send(Done(item, value))
            finally:
                slots.release()

        async def feed() -> None:
            async with send, anyio.create_task_group() as calls, aclosing(_iterate(inputs)) as items:
                async for item in items:
                    await slots.acquire()
                    calls.start_soon(run, item)

        group.start_soon(feed)
        try:
            yield results
        finally:
            # Whatever the caller did not wait for is no longer wanted.
            group.cancel_scope.cancel()
            receive.close()
    if first_error:
        raise first_error[0]


async def _iterate(inputs: Iterable[I] | AsyncIterable[I]) -> AsyncGenerator[I, None]:
    if isinstance(inputs, AsyncIterable):
        async for item in inputs:
            yield item
    else:
        for item in inputs:
            yield item
