"""Request and response hooks, for tracing and metrics.

Hooks run once per HTTP attempt (so a retried call fires several times) and may be plain functions or coroutine
functions. A hook that raises fails the call: hooks are part of the caller's program.

>>> async def trace(event: RequestEvent) -> None:
...     event.headers["traceparent"] = current_traceparent()
>>> client = Client(on_request=trace, on_response=lambda event: print(event.status, event.elapsed))
>>> client.hooks.response.append(record_latency)
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeAlias, TypeVar

from ..errors import PinterestError


@dataclass(slots=True, kw_only=True)
class RequestEvent:
    """An attempt about to be sent.

    ``headers`` are the request's headers except Authorization (and never a secret); a hook may add to them,
    e.g. a trace context. ``url`` has secrets redacted.
    """

    method: str
    url: str
    category: str
    operation_id: str | None
    attempt: int
    headers: dict[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseEvent:
    """The outcome of an attempt: a response (``status``), or the transport error it met (``error``)."""

    request: RequestEvent
    status: int | None
    headers: Mapping[str, str]
    bytes_received: int
    # Seconds from sending to the complete body.
    elapsed: float
    error: PinterestError | None = None


E = TypeVar("E", RequestEvent, ResponseEvent)
RequestHook: TypeAlias = Callable[[RequestEvent], Awaitable[None] | None]
ResponseHook: TypeAlias = Callable[[ResponseEvent], Awaitable[None] | None]


class Hooks:
    """``client.hooks``: the lists of hooks, appendable at any time."""

    __slots__ = ("request", "response")

    def __init__(self) -> None:
        self.request: list[RequestHook] = []
        self.response: list[ResponseHook] = []

    async def emit_request(self, event: RequestEvent) -> None:
        for hook in self.request:
            await _call(hook, event)

    async def emit_response(self, event: ResponseEvent) -> None:
        for hook in self.response:
            await _call(hook, event)


async def _call(hook: Callable[[E], Awaitable[None] | None], event: E) -> None:
    result = hook(event)
    if inspect.isawaitable(result):
        await result
