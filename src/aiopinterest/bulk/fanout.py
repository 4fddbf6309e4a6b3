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
    async with anyio.create_task_group() as group:
        calls: _Calls[I, R] = _Calls(call, concurrency, fail_fast, group.cancel_scope)
        group.start_soon(calls.feed, inputs)
        try:
            yield calls.results
        finally:
            # Whatever the caller did not wait for is no longer wanted.
            group.cancel_scope.cancel()
            calls.close()
    calls.raise_first_error()


class _Calls(Generic[I, R]):
    """The calls of one :func:`fan_out`: their slots, where their results go, what stops them."""

    def __init__(
        self, call: Callable[[I], Awaitable[R]], concurrency: int, fail_fast: bool, scope: anyio.CancelScope
    ) -> None:
        self._call = call
        self._slots = anyio.Semaphore(concurrency)
        self._fail_fast = fail_fast
        # Cancelled on the first failure with fail_fast: every call, the feed and the caller's block.
        self._scope = scope
        self._send, self._receive = anyio.create_memory_object_stream[Done[I, R]]()
        self.results: FanOut[I, R] = FanOut(self._receive)
        self._first_error: Exception | None = None

    async def feed(self, inputs: Iterable[I] | AsyncIterable[I]) -> None:
        """Start one call per input as slots free up; the results end once the last call has ended."""
        async with self._send, anyio.create_task_group() as calls, aclosing(_iterate(inputs)) as items:
            async for item in items:
                await self._slots.acquire()
                calls.start_soon(self._run, item)

    async def _run(self, item: I) -> None:
        # The slot is freed once the result has been taken: a slow consumer slows the calls down.
        try:
            async with self._send.clone() as out:
                try:
                    value = await self._call(item)
                except Exception as error:
                    self._failed(item, error)
                    return
                await out.send(Done(item, value))
        finally:
            self._slots.release()

    def _failed(self, item: I, error: Exception) -> None:
        if not self._fail_fast:
            self.results.failures.append(Failed(item, error))
            return
        error.add_note(f"fan_out input: {item!r}")
        if self._first_error is None:
            self._first_error = error
        self._scope.cancel()

    def close(self) -> None:
        """Stop taking results: a call still sending one ends."""
        self._receive.close()

    def raise_first_error(self) -> None:
        if self._first_error is not None:
            raise self._first_error


async def _iterate(inputs: Iterable[I] | AsyncIterable[I]) -> AsyncGenerator[I, None]:
    if isinstance(inputs, AsyncIterable):
        async for item in inputs:
            yield item
    else:
        for item in inputs:
            yield item
