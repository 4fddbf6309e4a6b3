"""The client's aiohttp session on the running event loop, and the calls in flight through it.

An aiohttp session belongs to the event loop it was made on. A client made once and used in several
``asyncio.run()`` calls therefore gets a session per loop: the session of a loop is closed as that loop shuts
down (``asyncio.run`` cancels the tasks left, one of them ours), and the next loop makes its own. A loop closed
by hand (``loop.close()``, with none of that shutdown) leaves its session open on a loop that will never run
again: it is let go of without the loop, its sockets closed directly, and nothing is left for a ResourceWarning.

Closing the client ends every call in flight at once, with :class:`~aiopinterest.errors.ClientClosedError`:
each call's task is cancelled, and the call turns that cancellation back into the error (taken back as
``asyncio.timeout`` does it, so that a caller's own cancellation is never mistaken for ours, nor swallowed).
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import aiohttp

from .._dead_loops import close_transport_without_loop
from ..errors import ClientClosedError

Task = asyncio.Task[Any]

_CLOSED = "this aiopinterest Client is closed"


class Sessions:
    """The session to send with on the running loop, made on first use there; the calls using it."""

    __slots__ = ("_calls", "_cancelled", "_closed", "_connections", "_given", "_keeper", "_loop", "_session")

    def __init__(self, *, given: aiohttp.ClientSession | None, connections: int) -> None:
        # A session passed in by the caller: used as it is, on its own loop, and never closed here.
        self._given = given
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None
        # The loop of the current session; None until the first call, and again once the client is closed.
        self._loop: asyncio.AbstractEventLoop | None = None
        # The task that closes our session when its loop shuts down.
        self._keeper: Task | None = None
        self._closed = False
        # Task -> calls it has in flight (more than one while a call renews the token through another call).
        self._calls: dict[Task, int] = {}
        # The tasks close() cancelled, whose calls are to raise ClientClosedError.
        self._cancelled: set[Task] = set()

    @property
    def closed(self) -> bool:
        return self._closed

    def begin(self) -> tuple[aiohttp.ClientSession, Task]:
        """Enter a call: the session to send it with, and the call's task, to be given to :meth:`end`.

        Raises :class:`ClientClosedError` once the client is closed, or when a session given to it is unusable.
        """
        loop = asyncio.get_running_loop()
        task = asyncio.current_task(loop)
        if task is None or loop is not self._loop:
            task = self._move_to_running_loop()
        session = self._given or self._session
        assert session is not None  # set by _move_to_running_loop, for this loop
        self._calls[task] = self._calls.get(task, 0) + 1
        return session, task

    def end(self, task: Task) -> None:
        """Leave a call begun by :meth:`begin`, on every way out of it."""
        depth = self._calls.pop(task, 0)
        if depth > 1:
            self._calls[task] = depth - 1

    def closed_the_call(self, task: Task) -> bool:
        """Whether the cancellation ending ``task``'s call came from :meth:`close`, and only from it: the
        cancellation is then taken back, and the call is to raise :class:`ClientClosedError` instead."""
        if task not in self._cancelled:
            return False
        self._cancelled.discard(task)
        # uncancel() takes back our request; a count left means somebody else asked for one too.
        return task.uncancel() == 0

    def closed_error(self) -> ClientClosedError:
        return ClientClosedError(_CLOSED)

    async def close(self) -> None:
        """Fail every call in flight with :class:`ClientClosedError`, and close our session. Safe to call twice."""
        self._closed = True
        self._loop = None
        me = asyncio.current_task()
        for task in self._calls:
            # A call closing its own client (from a hook, say), or one already being cancelled by its caller, fails
            # at its next attempt instead, with the session closed under it.
            if task is not me and not task.done() and task.cancelling() == 0:
                self._cancelled.add(task)
                task.cancel()
        keeper = self._keeper
        if keeper is not None and keeper.get_loop() is not asyncio.get_running_loop():
            self._retire_session()
            return
        session, self._session = self._session, None
        self._keeper = None
        if keeper is not None and not keeper.done():
            keeper.cancel()
            # wait(), not await: our own cancellation still goes through.
            await asyncio.wait([keeper])
        # Closed here too for a keeper cancelled before it ever ran (its except clause then never runs).
        if session is not None and not session.closed:
            await session.close()

    def _move_to_running_loop(self) -> Task:
        """The first call on this loop: check the client is usable here, make or adopt its session."""
        if self._closed:
            raise ClientClosedError(_CLOSED)
        loop = asyncio.get_running_loop()
        task = asyncio.current_task(loop)
        if task is None:
            raise RuntimeError("aiopinterest calls must run inside an asyncio task")
        given = self._given
        if given is not None:
            problem = session_unusable(given)
            if problem is None and given._loop is not loop:
                problem = "the aiohttp session belongs to another event loop"
            if problem is not None:
                raise ClientClosedError(f"{problem}: this Client was given it as session=")
        else:
            self._retire_session()
            session = self._session = create_session(connections=self._connections)
            keeper = self._keeper = loop.create_task(
                self._close_when_loop_ends(session), name="aiopinterest: close the session as its loop ends"
            )
            # A loop closed by hand (no asyncio.run shutdown) leaves the keeper pending for good: the session is
            # let go of quietly when the next loop retires it or, should the client be dropped, as the keeper is
            # collected (a weakref callback runs before anything in that garbage is finalized); and no "Task was
            # destroyed but it is pending!" for it (asyncio's flag, cleared on the tasks run_until_complete makes).
            keeper._log_destroy_pending = False  # type: ignore[attr-defined]
            weakref.finalize(keeper, _let_go_if_loop_closed, session, loop)
        self._loop = loop
        return task

    def _retire_session(self) -> None:
        """Let go of the session of another loop: closed on that loop if it still runs somewhere, dropped
        quietly if that loop was closed without shutting it down (``loop.close()`` by hand)."""
        keeper, self._keeper = self._keeper, None
        session, self._session = self._session, None
        if keeper is None or keeper.done():
            return
        old_loop = keeper.get_loop()
        if not old_loop.is_closed():
            old_loop.call_soon_threadsafe(keeper.cancel)
        elif session is not None:
            abandon_session(session)

    async def _close_when_loop_ends(self, session: aiohttp.ClientSession) -> None:
        try:
            await asyncio.get_running_loop().create_future()  # only ever cancelled
        except asyncio.CancelledError:
            # Not on GeneratorExit (collected unfinished): nothing may be awaited then.
            if self._session is session:
                self._session = None
                self._loop = None
            await session.close()
            raise


def _let_go_if_loop_closed(session: aiohttp.ClientSession, loop: asyncio.AbstractEventLoop) -> None:
    # A live loop's session left unclosed is the caller's leak, which aiohttp's own warning reports.
    if loop.is_closed():
        abandon_session(session)


def create_session(*, connections: int) -> aiohttp.ClientSession:
    """A session tuned for one API host under sustained concurrency (proxies come from :class:`ProxySelector`)."""
    connector = aiohttp.TCPConnector(
        limit=connections,
        limit_per_host=0,
        # API hosts resolve to a handful of stable addresses; don't pay a lookup per connection.
        ttl_dns_cache=300,
        keepalive_timeout=30,
    )
    # raise_for_status=False: statuses are the transport's business, after reading the body.
    return aiohttp.ClientSession(connector=connector, trust_env=False, raise_for_status=False)


def session_unusable(session: aiohttp.ClientSession) -> str | None:
    """Why ``session`` can send nothing more, if it cannot: closed, or bound to an event loop that has ended."""
    if session.closed:
        return "the aiohttp session is closed"
    # ClientSession.loop is deprecated (a warning per read); _loop is what it returns.
    if session._loop.is_closed():
        return "the aiohttp session belongs to an event loop that has ended"
    return None


def abandon_session(session: aiohttp.ClientSession) -> None:
    """Let go of a session whose event loop was closed under it (``loop.close()`` by hand, with none of
    ``asyncio.run``'s shutdown), quietly: its connections' sockets closed here, as that loop would have closed
    them, and the session marked closed, leaving nothing for a ResourceWarning. Never touches the loop.

    Through private attributes, as there is no other way (see :mod:`aiopinterest._dead_loops`); aiohttp's
    connector, closed with its loop closed, just forgets its connections.
    """
    connector = session.connector
    if connector is None or connector.closed:
        return
    pooled = [protocol for idle in connector._conns.values() for protocol, _ in idle]
    for protocol in [*pooled, *connector._acquired]:
        if protocol.transport is not None:
            close_transport_without_loop(protocol.transport)
    connector._close()  # marks the connector, and so the session, closed; with its loop closed, nothing else
