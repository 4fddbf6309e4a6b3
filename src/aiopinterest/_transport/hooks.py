"""Request and response hooks, for tracing and metrics.

Request and response hooks run once per HTTP attempt (so a retried call fires several times); call hooks run once
per call, around all of its attempts and waits (``call_start`` before, ``call_end`` after, however the call ends,
cancellation included). Hooks may be plain functions or coroutine functions. A hook that raises fails the call:
hooks are part of the caller's program.

>>> async def trace(event: RequestEvent) -> None:
...     event.headers["traceparent"] = current_traceparent()
>>> client = Client(on_request=trace, on_response=lambda event: print(event.status, event.elapsed))
>>> client.hooks.response.append(record_latency)
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeAlias, TypeVar

from ..errors import PinterestError


@dataclass(slots=True, kw_only=True)
class RequestEvent:
    """An attempt about to be sent.

    ``headers`` are the request's headers except Authorization (and never a secret); a hook may add to them,
    e.g. a trace context. ``url`` has secrets redacted. ``rate_limit_wait`` is the seconds this attempt waited at
    its category's rate-limit gate (a 429's requested wait is served there); ``backoff`` the seconds slept after
    the previous attempt failed; ``retry_reason`` why the previous attempt is retried: its status (``"429"``,
    ``"503"``, ``"401"`` after a token renewal) or its error's class name (``"RequestTimeoutError"``).
    """

    method: str
    url: str
    category: str
    operation_id: str | None
    attempt: int
    headers: dict[str, str]
    rate_limit_wait: float = 0.0
    backoff: float = 0.0
    retry_reason: str | None = None


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


# Compared by identity: a hook may key its own state by the call it belongs to.
@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CallEvent:
    """A call about to start: one request as the caller made it, before any attempt (``url`` redacted)."""

    method: str
    url: str
    category: str
    operation_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEndEvent:
    """How a call ended: the final response's ``status``, or the exception it raised (``error``; an API error
    carries the status too). ``elapsed`` is seconds from the call's start, every attempt and wait included."""

    call: CallEvent
    status: int | None
    error: BaseException | None
    elapsed: float


class _HasStatus(Protocol):
    @property
    def status(self) -> int: ...


E = TypeVar("E", RequestEvent, ResponseEvent, CallEvent, CallEndEvent)
R = TypeVar("R", bound=_HasStatus)
RequestHook: TypeAlias = Callable[[RequestEvent], Awaitable[None] | None]
ResponseHook: TypeAlias = Callable[[ResponseEvent], Awaitable[None] | None]
CallStartHook: TypeAlias = Callable[[CallEvent], Awaitable[None] | None]
CallEndHook: TypeAlias = Callable[[CallEndEvent], Awaitable[None] | None]


class Hooks:
    """``client.hooks``: the lists of hooks, appendable at any time."""

    __slots__ = ("call_end", "call_start", "request", "response")

    def __init__(self) -> None:
        self.request: list[RequestHook] = []
        self.response: list[ResponseHook] = []
        self.call_start: list[CallStartHook] = []
        self.call_end: list[CallEndHook] = []

    async def emit_request(self, event: RequestEvent) -> None:
        for hook in self.request:
            await _call(hook, event)

    async def emit_response(self, event: ResponseEvent) -> None:
        for hook in self.response:
            await _call(hook, event)

    async def run_between_call_hooks(self, call: CallEvent, send: Callable[[], Awaitable[R]]) -> R:
        """``send()`` between the call hooks; the end hooks run however it ends, then its outcome is passed on."""
        for start_hook in self.call_start:
            await _call(start_hook, call)
        started = time.perf_counter()
        try:
            result = await send()
        except BaseException as error:
            await self._emit_call_end(
                CallEndEvent(call=call, status=None, error=error, elapsed=_since(started))
            )
            raise
        await self._emit_call_end(
            CallEndEvent(call=call, status=result.status, error=None, elapsed=_since(started))
        )
        return result

    async def _emit_call_end(self, event: CallEndEvent) -> None:
        for hook in self.call_end:
            await _call(hook, event)


def _since(started: float) -> float:
    return time.perf_counter() - started


async def _call(hook: Callable[[E], Awaitable[None] | None], event: E) -> None:
    result = hook(event)
    if inspect.isawaitable(result):
        await result
