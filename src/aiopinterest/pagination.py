"""Bookmark pagination: :class:`AsyncPaginator` streams every item of a list operation, page after page.

Every paginated method of the client returns an ``AsyncPaginator``; nothing is sent until it is awaited or
iterated::

    page = await client.boards.list_pins(board_id="1")        # one page: page.items, page.bookmark
    async for pin in client.boards.list_pins(board_id="1"):   # every item, fetching ahead
        ...
    async for page in client.boards.list_pins(board_id="1").pages():
        ...

Options the spec does not know about are set with :meth:`AsyncPaginator.with_options` (``max_items``,
``prefetch``) and :meth:`AsyncPaginator.raw` (undecoded items).

Resuming. ``paginator.bookmark`` is always the exact position after the last item handed out, so
``list_pins(board_id="1", bookmark=saved)`` yields precisely the items not yet yielded. Between pages it is the
server's own bookmark. Inside a page (after ``break``, ``max_items``, or a failure) it is a token of this SDK,
``"aiopinterest:1:"`` followed by base64 of ``[page bookmark, offset, page_size]``: it refetches that page with
the same ``page_size`` and skips the ``offset`` items already handed out. This relies on the API returning the
same page for the same bookmark and page size, which is what its bookmarks promise.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar, cast

import msgspec
from msgspec import UNSET

from ._background import cancel_and_drain, read_ahead
from ._validation import validate
from .errors import (
    APIError,
    PaginationError,
    RequestValidationError,
    ResponseValidationError,
    TransportError,
)

if TYPE_CHECKING:
    from ._operation import Operation
    from ._options import RequestOptions
    from ._requester import Requester

__all__ = ["AsyncPaginator", "Page"]

T = TypeVar("T")
U = TypeVar("U")

_RESUME_PREFIX: Final = "aiopinterest:1:"
# What a failed page fetch raises once the transport's retries are spent.
_PAGE_FAILURES: Final = (APIError, TransportError, ResponseValidationError)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list.

    ``bookmark`` is the position right after ``items``: pass it as ``bookmark=`` to continue with the next item,
    or ``None`` when the list ends here.
    """

    items: list[T]
    bookmark: str | None


class _PageBody(msgspec.Struct, Generic[T]):
    """A list response as it comes off the wire; lenient like every response (``items`` may be null)."""

    items: list[T] | None = None
    bookmark: str | None = None


@dataclass(frozen=True, slots=True)
class _Position:
    """``offset`` items into the page that ``page_bookmark`` fetches (``None``: the first page)."""

    page_bookmark: str | None
    offset: int = 0

    def encode(self, page_size: int | None) -> str | None:
        if self.offset == 0:
            return self.page_bookmark
        payload = msgspec.json.encode([self.page_bookmark, self.offset, page_size])
        return _RESUME_PREFIX + base64.urlsafe_b64encode(payload).decode("ascii")


def _given(operation: Operation, name: str, value: object, fallback: Mapping[str, Any]) -> Any:
    """The ``bookmark=`` or ``page_size=`` argument (``None`` if not given), checked against the operation's
    parameter (``fallback`` if it declares none) before the paginator reads it."""
    if value is None or value is UNSET:
        return None
    parameter = operation.parameter(name)
    validate(value, parameter.schema if parameter is not None else fallback, name)
    return value


def _decode_bookmark(bookmark: str | None) -> tuple[_Position, int | None]:
    """The position a ``bookmark=`` argument names, and the page size a mid-page token was taken with."""
    if bookmark is None or not bookmark.startswith(_RESUME_PREFIX):
        return _Position(bookmark), None
    try:
        payload = base64.urlsafe_b64decode(bookmark[len(_RESUME_PREFIX) :])
        page_bookmark, offset, page_size = msgspec.json.decode(
            payload, type=tuple[str | None, int, int | None]
        )
    except (ValueError, msgspec.DecodeError):
        raise RequestValidationError(
            "bookmark", f"not a resume position produced by aiopinterest: {bookmark!r}"
        ) from None
    if offset < 0:
        raise RequestValidationError("bookmark", f"negative offset in resume position {bookmark!r}")
    return _Position(page_bookmark, offset), page_size


@dataclass(frozen=True, slots=True)
class _Fetched(Generic[T]):
    """A fetched page and the slice ``items[start:stop]`` still to hand out (a resume offset skips the first
    items; ``max_items`` may cut the last page short)."""

    request_bookmark: str | None
    items: list[T]
    next_bookmark: str | None
    start: int
    stop: int

    def position_at(self, offset: int) -> _Position:
        if offset >= len(self.items):
            return _Position(self.next_bookmark)
        return _Position(self.request_bookmark, offset)


class _Cursor:
    """How far one iteration has handed items out: ``offset`` items into ``page``."""

    __slots__ = ("offset", "page", "start", "yielded")

    def __init__(self, start: _Position, yielded: int) -> None:
        self.start = start
        self.page: _Fetched[Any] | None = None
        self.offset = start.offset
        self.yielded = yielded

    def resume(self, yielded: int) -> _Cursor:
        """A cursor continuing from this one's position (an exhausted cursor stays exhausted)."""
        cursor = _Cursor(self.position, yielded)
        if self.exhausted:
            cursor.page, cursor.offset = self.page, self.offset
        return cursor

    def enter(self, page: _Fetched[Any]) -> None:
        self.page = page
        self.offset = page.start

    @property
    def position(self) -> _Position:
        return self.start if self.page is None else self.page.position_at(self.offset)

    @property
    def exhausted(self) -> bool:
        page = self.page
        return page is not None and self.offset >= len(page.items) and page.next_bookmark is None


class AsyncPaginator(Generic[T]):
    """The items of a paginated operation: await it for one page, ``async for`` it for all of them.

    ``await paginator`` fetches the page at the current position and returns a :class:`Page` (errors are raised
    as for any call). ``async for item in paginator`` yields every item from the current position on, fetching
    the next pages ahead while the caller works; ``paginator.pages()`` yields :class:`Page` objects instead.
    Iterating again continues where the previous iteration stopped.

    ``page_size`` (a spec parameter of the method) defaults to the operation's maximum, so a full list costs
    the fewest requests. Other options return a new paginator at the same position::

        pins = client.boards.list_pins(board_id="1").with_options(max_items=1000, prefetch=2)
        raw = client.boards.list_pins(board_id="1").raw()   # msgspec.Raw items: undecoded JSON

    Prefetch: with depth ``d`` (default 1) the next ``d`` pages are fetched while the caller holds the current
    one, so at most ``d + 1`` pages are in memory; 0 fetches each page only when it is needed.

    Stopping: leaving the loop (``break``, an exception, cancellation) cancels the fetch in flight. The
    cleanup runs as soon as Python finalises the abandoned loop; ``async with paginator:`` (or ``await
    paginator.aclose()``) does it before the block exits.

    Failures: a page that still fails after the transport's retries raises
    :class:`~aiopinterest.errors.PaginationError` (the HTTP or transport error is its ``__cause__``) whose
    ``bookmark`` resumes right after the last item yielded; so does a server that hands back a bookmark it
    already gave (a loop). A page that is empty but has a next bookmark is skipped over.

    ``.bookmark`` is the position after the last item handed out (see the module documentation for the
    mid-page form); ``.exhausted`` says whether the list has been read to its end.
    """

    def __init__(
        self,
        client: Requester,
        operation: Operation,
        item_type: type[T],
        *,
        path: Mapping[str, object],
        query: Mapping[str, object],
        options: RequestOptions | None,
        body: object = None,
    ) -> None:
        query = dict(query)
        bookmark: str | None = _given(operation, "bookmark", query.pop("bookmark", None), {"type": "string"})
        start, token_page_size = _decode_bookmark(bookmark)
        page_size: int | None = _given(
            operation, "page_size", query.pop("page_size", None), {"type": "integer"}
        )
        if start.offset and page_size is not None and page_size != token_page_size:
            raise RequestValidationError(
                "page_size",
                f"the bookmark is a position inside a page of {token_page_size} items; "
                f"resume with the same page_size, not {page_size}",
            )
        self._client = client
        self._operation = operation
        self._item_type = item_type
        self._page_type: Any = cast(Any, _PageBody)[item_type]
        self._path = path
        self._query = query
        self._body = body
        self._options = options
        self._page_size = (
            token_page_size
            if start.offset
            else page_size
            if page_size is not None
            else operation.max_page_size
        )
        self._max_items: int | None = None
        self._prefetch = 1
        self._cursor = _Cursor(start, yielded=0)
        # The prefetch tasks running for this paginator's iterations, for aclose().
        self._producers: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return (
            f"AsyncPaginator({self._operation.operation_id}, bookmark={self.bookmark!r}, "
            f"exhausted={self.exhausted})"
        )

    @property
    def bookmark(self) -> str | None:
        """The position after the last item handed out; pass it as ``bookmark=`` to resume there."""
        return self._encode(self._cursor.position)

    @property
    def exhausted(self) -> bool:
        """Whether every item of the list has been handed out (then ``bookmark`` is ``None``)."""
        return self._cursor.exhausted

    def with_options(self, *, max_items: int | None = None, prefetch: int | None = None) -> AsyncPaginator[T]:
        """A new paginator at this one's position, with these options (``None`` keeps the current value).

        max_items: stop after this many items (counted from the new paginator's start); no page beyond the one
            holding the last of them is fetched.
        prefetch: pages fetched ahead while the caller holds the current page (default 1; 0 disables).
        """
        if max_items is not None and max_items < 0:
            raise ValueError("max_items must be at least 0")
        if prefetch is not None and prefetch < 0:
            raise ValueError("prefetch must be at least 0")
        copy = self._copy(self._item_type)
        if max_items is not None:
            copy._max_items = max_items
        if prefetch is not None:
            copy._prefetch = prefetch
        return copy

    def raw(self) -> AsyncPaginator[msgspec.Raw]:
        """A new paginator at this one's position yielding each item as undecoded JSON.

        ``bytes(item)`` is the item's JSON text, ready to be written out; ``msgspec.json.decode(item, type=...)``
        decodes it later. A ``msgspec.Raw`` points into its page's buffer, so copy it with ``bytes()`` to keep it
        beyond the page.
        """
        return self._copy(msgspec.Raw)

    def _copy(self, item_type: type[U]) -> AsyncPaginator[U]:
        copy: AsyncPaginator[U] = AsyncPaginator(
            self._client,
            self._operation,
            item_type,
            path=self._path,
            query={**self._query, "bookmark": self.bookmark, "page_size": self._page_size},
            options=self._options,
            body=self._body,
        )
        copy._cursor = self._cursor.resume(yielded=0)
        copy._max_items = self._max_items
        copy._prefetch = self._prefetch
        return copy

    def __await__(self) -> Generator[Any, None, Page[T]]:
        return self._first_page().__await__()

    async def _first_page(self) -> Page[T]:
        position = self._cursor.position
        if not self._cursor.exhausted:
            async with aclosing(self._fetch_pages(position, self._remaining())) as pages:
                async for page in pages:
                    return Page(page.items[page.start : page.stop], self._encode(page.position_at(page.stop)))
        return Page([], self._encode(position))

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iterate_items()

    def pages(self) -> AsyncIterator[Page[T]]:
        """The pages from the current position on: the first may start mid-page (after a resume), the last may
        be cut short by ``max_items``; each page's ``bookmark`` is the position after it."""
        return self._iterate_pages()

    async def aclose(self) -> None:
        """Cancel the page fetches in flight for this paginator's iterations and wait until they have stopped.

        A loop still running afterwards gets the pages already fetched, then ends.
        """
        await cancel_and_drain(self._producers)

    async def __aenter__(self) -> AsyncPaginator[T]:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _iterate_items(self) -> AsyncGenerator[T, None]:
        cursor = self._new_cursor()
        async with aclosing(self._stream(cursor)) as pages:
            async for page in pages:
                items = page.items
                for index in range(page.start, page.stop):
                    # Moved before the item is handed out: once the caller has it, it counts as yielded.
                    cursor.offset = index + 1
                    cursor.yielded += 1
                    yield items[index]

    async def _iterate_pages(self) -> AsyncGenerator[Page[T], None]:
        cursor = self._new_cursor()
        async with aclosing(self._stream(cursor)) as pages:
            async for page in pages:
                cursor.offset = page.stop
                cursor.yielded += page.stop - page.start
                yield Page(page.items[page.start : page.stop], self._encode(cursor.position))

    def _new_cursor(self) -> _Cursor:
        # A fresh cursor per iteration, continuing from the last one: `.bookmark` follows the newest iteration.
        self._cursor = self._cursor.resume(self._cursor.yielded)
        return self._cursor

    def _encode(self, position: _Position) -> str | None:
        return position.encode(self._page_size)

    def _remaining(self) -> int | None:
        return None if self._max_items is None else max(self._max_items - self._cursor.yielded, 0)

    async def _stream(self, cursor: _Cursor) -> AsyncGenerator[_Fetched[T], None]:
        """The pages from ``cursor``'s position, fetched ahead; failures carry the cursor's position."""
        if cursor.exhausted:
            return
        source = self._fetch_pages(cursor.position, self._remaining())
        try:
            async with aclosing(read_ahead(source, self._prefetch, self._producers)) as pages:
                async for page in pages:
                    cursor.enter(page)
                    yield page
        except PaginationError as error:
            error.bookmark = self._encode(cursor.position)
            raise
        except _PAGE_FAILURES as error:
            bookmark = self._encode(cursor.position)
            raise PaginationError(
                f"{self._operation.operation_id}: fetching the next page failed ({error}); "
                f"resume from bookmark {bookmark!r}",
                bookmark=bookmark,
            ) from error

    async def _fetch_pages(
        self, start: _Position, remaining: int | None
    ) -> AsyncGenerator[_Fetched[T], None]:
        """Fetch page after page from ``start``, one request at a time, until the list or ``remaining`` ends."""
        bookmark, skip = start.page_bookmark, start.offset
        seen: set[str] = set()
        while remaining != 0:
            if bookmark is not None:
                seen.add(bookmark)
            body: _PageBody[T] = await self._client._request(
                self._operation,
                self._page_type,
                path=self._path,
                query={**self._query, "bookmark": bookmark, "page_size": self._page_size},
                body=self._body,
                options=self._options,
            )
            items = body.items or []
            first = min(skip, len(items))
            stop = len(items) if remaining is None else min(len(items), first + remaining)
            yield _Fetched(bookmark, items, body.bookmark, first, stop)
            if remaining is not None:
                remaining -= stop - first
            if body.bookmark is None:
                return
            if body.bookmark in seen:
                raise PaginationError(
                    f"{self._operation.operation_id}: the server returned bookmark {body.bookmark!r} a second "
                    "time; stopping instead of looping",
                    bookmark=body.bookmark,
                )
            bookmark, skip = body.bookmark, 0
