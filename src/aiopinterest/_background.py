"""Work that runs ahead of an async generator's consumer, in a background task, and stops when it is closed.

Concurrent calls run in anyio task groups everywhere else. An async generator cannot hold one: a task group may
not stay open across a ``yield``, because an abandoned generator is closed from another task (asyncio's
finaliser for a ``break``-ed loop). So a generator that works ahead of its consumer runs that work in a bare
asyncio task, started and stopped here and nowhere else; the work itself may use task groups inside the task.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterable
from contextlib import aclosing
from typing import Any, Final, TypeVar

import anyio

__all__ = ["cancel_and_drain", "read_ahead"]

U = TypeVar("U")

# Stopping a producer only has to close what it has open (a connection); a bound keeps a stuck close from
# hanging the caller.
_DRAIN_TIMEOUT: Final = 10.0


async def read_ahead(
    source: AsyncGenerator[U, None], depth: int = 1, producers: set[asyncio.Task[None]] | None = None
) -> AsyncGenerator[U, None]:
    """Yield ``source``'s values while a background task produces up to ``depth`` values ahead.

    At most ``depth + 1`` values are alive at once: the one the caller holds, ``depth - 1`` buffered, and one
    being produced (the producer waits for room before producing the next); ``depth=0`` reads ``source`` in the
    caller's task. The producer task is in ``producers`` while it runs. Closing this generator stops the
    producer; so does cancelling the task from outside, after which the values already produced are still
    yielded. A failure of ``source`` is raised after every value produced before it.
    """
    if depth == 0:
        async with aclosing(source):
            async for value in source:
                yield value
        return

    send, receive = anyio.create_memory_object_stream[U](depth - 1)

    async def produce() -> None:
        async with send, aclosing(source):
            async for value in source:
                await send.send(value)

    producer = asyncio.create_task(produce())
    if producers is not None:
        producers.add(producer)
        producer.add_done_callback(producers.discard)
    try:
        async for value in receive:
            yield value
        if not producer.cancelled():
            await producer
    finally:
        await cancel_and_drain([producer])
        send.close()
        receive.close()


async def cancel_and_drain(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel ``tasks`` and wait until they have ended (closing what they had open), even if the caller is
    being cancelled itself."""
    pending = list(tasks)
    if not pending:
        return
    for task in pending:
        task.cancel()
    with anyio.move_on_after(_DRAIN_TIMEOUT, shield=True):
        await asyncio.wait(pending)
    for task in pending:
        if task.done() and not task.cancelled():
            # Retrieved so asyncio does not log it as never retrieved; when it mattered it was raised already.
            task.exception()
