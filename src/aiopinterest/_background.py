"""Work that runs ahead of an async generator's consumer, in a background task, and stops when it is closed.

Concurrent calls run in anyio task groups everywhere else. An async generator cannot hold one: a task group may
not stay open across a ``yield``, because an abandoned generator is closed from another task (asyncio's
finaliser for a ``break``-ed loop). So a generator that works ahead of its consumer runs that work in a bare
asyncio task, started and stopped here and nowhere else; inside that task the work may use task groups.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Coroutine, Iterable
from contextlib import aclosing
from typing import Any, Final, TypeVar

import anyio
from anyio.streams.memory import MemoryObjectSendStream

__all__ = ["cancel_and_drain", "produced_in_background", "read_ahead"]

U = TypeVar("U")

# Stopping a producer only has to close what it has open (a connection); a bound keeps a stuck close from
# hanging the caller.
_DRAIN_TIMEOUT: Final = 10.0


async def produced_in_background(
    produce: Callable[[MemoryObjectSendStream[U]], Coroutine[Any, Any, None]],
    *,
    buffer: int = 0,
    producers: set[asyncio.Task[None]] | None = None,
) -> AsyncGenerator[U, None]:
    """Yield the values ``produce(send)`` sends, while it runs in a background task.

    Up to ``buffer`` values wait for the caller, and ``produce`` blocks in ``send.send()`` beyond that. The task
    is in ``producers`` while it runs. Closing this generator stops the task; so does cancelling the task from
    outside, after which the values already sent are still yielded. A failure of ``produce`` is raised after
    every value it sent.
    """
    send, receive = anyio.create_memory_object_stream[U](buffer)
    producer = asyncio.create_task(produce(send))
    # However the task ends, the values stop: the loop below then ends.
    producer.add_done_callback(lambda _: send.close())
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
        receive.close()


async def read_ahead(
    source: AsyncGenerator[U, None], depth: int = 1, producers: set[asyncio.Task[None]] | None = None
) -> AsyncGenerator[U, None]:
    """Yield ``source``'s values while a background task produces up to ``depth`` values ahead.

    At most ``depth + 1`` values are alive at once: the one the caller holds, ``depth - 1`` buffered, and one
    being produced (the producer waits for room before producing the next); ``depth=0`` reads ``source`` in the
    caller's task. Otherwise as :func:`produced_in_background`.
    """
    if depth == 0:
        async with aclosing(source):
            async for value in source:
                yield value
        return

    async def forward(send: MemoryObjectSendStream[U]) -> None:
        async with aclosing(source):
            async for value in source:
                await send.send(value)

    ahead = produced_in_background(forward, buffer=depth - 1, producers=producers)
    async with aclosing(ahead) as values:
        async for value in values:
            yield value


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
