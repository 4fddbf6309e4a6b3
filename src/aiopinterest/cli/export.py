"""``aiopinterest export``: streams to files in DIR, resumable exactly where a previous run stopped.

Exactly once. Every unit (a page, an analytics window or batch, a one-shot response) is appended to the stream's
file and its parent's progress updated in one step on the event loop, with no await in between. Every
``commit_every`` seconds, and when the run ends however it ends, a commit takes the files' sizes and the
progress together, makes the files durable (fsync), then replaces the state file atomically. A run started
again cuts every file back to its committed size and continues from the committed progress: what was written
after the last commit is written again, once.
"""

from __future__ import annotations

import datetime
import functools
import time
import zlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import anyio
import msgspec

from .. import OPERATIONS, RawResponse, RequestOptions
from ..errors import APIError, NotFoundError, PaginationError, PermissionDeniedError
from . import records, state
from .columns import Column, declared_columns, struct_columns, with_parent_fields
from .outputs import Format, Output, open_output
from .progress import Reporter
from .streams import STREAMS, SYNC_DAYS_BACK, WINDOW_DAYS, Stream, lineage

if TYPE_CHECKING:
    from .. import Client

ERRORS_FILE: Final = "errors.jsonl"
# What a parent the token may not read answers: logged, and the export goes on with the other parents.
_PARTIAL_FAILURES: Final = (PermissionDeniedError, NotFoundError)

Context = dict[str, str]


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime.date
    end: datetime.date

    @property
    def by_report(self) -> bool:
        """Older than the synchronous analytics endpoints reach: asked for as an asynchronous report."""
        return self.start < datetime.datetime.now(datetime.UTC).date() - datetime.timedelta(
            days=SYNC_DAYS_BACK
        )


@dataclass(frozen=True, slots=True)
class Shard:
    """Worker ``index`` (0-based) of ``count``: the parents whose root id hashes to ``index``, and the
    parentless streams on worker 0 only."""

    index: int = 0
    count: int = 1

    def owns(self, root_id: str | None) -> bool:
        if root_id is None:
            return self.index == 0
        return zlib.crc32(root_id.encode()) % self.count == self.index


@dataclass(frozen=True, slots=True)
class ExportOptions:
    directory: Path
    streams: Sequence[str]
    format: Format = "jsonl"
    since: datetime.date | None = None
    until: datetime.date | None = None
    ad_account_ids: Sequence[str] = ()
    concurrency: int = 8
    shard: Shard = field(default_factory=Shard)
    refresh: bool = False
    commit_every: float = 1.0


@dataclass
class StreamSummary:
    items: int = 0
    units: int = 0
    errors: int = 0
    skipped: bool = False


@dataclass
class ExportSummary:
    streams: dict[str, StreamSummary]
    errors: int = 0
    seconds: float = 0.0

    @property
    def partial(self) -> bool:
        return self.errors > 0


class _Ref(msgspec.Struct):
    """What a parent item is needed for: its id, and a count of the child items it holds (for ETAs)."""

    id: str | None = None
    count: int | None = None


@functools.cache
def _ref_decoder(count_field: str | None) -> msgspec.json.Decoder[_Ref]:
    if count_field is None:
        return msgspec.json.Decoder(_Ref)
    counted = msgspec.defstruct(
        "_CountedRef", [("count", int | None, msgspec.field(default=None, name=count_field))], bases=(_Ref,)
    )
    return msgspec.json.Decoder(counted)


class Exporter:
    """One run of ``aiopinterest export`` (see the module documentation)."""

    def __init__(self, client: Client, options: ExportOptions, reporter: Reporter) -> None:
        self._client = client
        self._options = options
        self._reporter = reporter
        self._directory = options.directory
        self._outputs: dict[str, Output] = {}
        self._state = state.ExportState(format=options.format)
        self._commit_lock = anyio.Lock()
        self._ids_cache: dict[tuple[str, str], list[str]] = {}
        self.summary = ExportSummary({name: StreamSummary() for name in options.streams})
        self._errors_file: Any = None

    async def run(self) -> ExportSummary:
        started = time.monotonic()
        self._prepare()
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._commit_periodically)
                for name in self._options.streams:
                    await self._export_stream(STREAMS[name])
                group.cancel_scope.cancel()
        except BaseExceptionGroup as group:
            # The parents run in task groups; the caller gets the failure that stopped the export.
            raise _first_failure(group) from None
        finally:
            with anyio.CancelScope(shield=True):
                await self._commit()
                self._close()
            self.summary.seconds = time.monotonic() - started
        return self.summary

    # -- state and files -----------------------------------------------------------------------------------------

    def _prepare(self) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        if self._options.refresh:
            self._remove_previous()
        loaded = state.load(self._directory)
        if loaded is not None:
            if loaded.format != self._options.format:
                raise state.StateError(
                    f"{self._directory} holds a {loaded.format} export; continue it with --format {loaded.format}, "
                    "or start over with --refresh"
                )
            self._state = loaded
        self._errors_file = open(self._directory / ERRORS_FILE, "ab")

    def _remove_previous(self) -> None:
        for path in self._directory.iterdir():
            if path.name in (state.STATE_FILE, ERRORS_FILE) or path.stem in STREAMS:
                if path.is_dir():
                    for part in path.iterdir():
                        part.unlink()
                    path.rmdir()
                else:
                    path.unlink()

    def _output(self, stream: Stream) -> Output:
        output = self._outputs.get(stream.name)
        if output is None:
            size = self._stream_state(stream).size
            output = open_output(self._directory, stream.name, self._options.format, size, columns_of(stream))
            self._outputs[stream.name] = output
        return output

    def _stream_state(self, stream: Stream) -> state.StreamState:
        return self._state.streams.setdefault(stream.name, state.StreamState())

    async def _commit_periodically(self) -> None:
        while True:
            await anyio.sleep(self._options.commit_every)
            await self._commit()

    async def _commit(self) -> None:
        async with self._commit_lock:
            # Sizes and progress are taken together, on the loop, so that the state never runs ahead of the data.
            outputs = list(self._outputs.items())
            for name, output in outputs:
                self._state.streams[name].size = output.snapshot()
            content = msgspec.json.encode(self._state)

            def make_durable() -> None:
                for _, output in outputs:
                    output.sync()
                state.write_atomically(self._directory / state.STATE_FILE, content)

            await anyio.to_thread.run_sync(make_durable)

    def _close(self) -> None:
        for output in self._outputs.values():
            output.close()
        if self._errors_file is not None:
            self._errors_file.close()

    def _write(
        self, stream: Stream, key: str, context: Context, items: Sequence[bytes], progress: state.Progress
    ) -> None:
        """Append one unit and record the progress it reaches, in one step (no await)."""
        self._output(stream).write(items, context)
        self._stream_state(stream).parents[key] = progress
        summary = self.summary.streams[stream.name]
        summary.items += len(items)
        summary.units += 1
        self._reporter.advanced(stream.name, len(items))

    def _record_error(self, stream: Stream, context: Context, error: APIError) -> None:
        request_id = error.headers.get("x-pinterest-rid") or error.request_id
        line = {
            "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "stream": stream.name,
            "parent": context,
            "status": error.status,
            "code": error.code,
            "message": error.message,
            "request_id": request_id,
        }
        self._errors_file.write(msgspec.json.encode(line) + b"\n")
        self._errors_file.flush()
        self.summary.errors += 1
        self.summary.streams[stream.name].errors += 1
        self._reporter.error(
            stream.name, f"{error.status} {error.message or ''} for {state.parent_key(context)}"
        )

    # -- one stream ----------------------------------------------------------------------------------------------

    async def _export_stream(self, stream: Stream) -> None:
        stream_state = self._stream_state(stream)
        until = self._until()
        if stream_state.complete and (not stream.dated or stream_state.until == until.isoformat()):
            self.summary.streams[stream.name].skipped = True
            self._reporter.skipped(stream.name)
            return
        self._output(stream)  # the file exists (cut back to its committed size) even if nothing comes
        self._reporter.started(stream.name)
        errors_before = self.summary.streams[stream.name].errors
        slots = anyio.Semaphore(self._options.concurrency)

        async def run_parent(context: Context) -> None:
            try:
                await self._export_parent(stream, context)
            finally:
                slots.release()

        async with anyio.create_task_group() as group:
            async for context, count in self._parents(stream):
                if count is not None:
                    self._reporter.expect(stream.name, count)
                await slots.acquire()
                group.start_soon(run_parent, context)
        if self.summary.streams[stream.name].errors == errors_before:
            stream_state.complete = True
            stream_state.until = until.isoformat() if stream.dated else None
        self._reporter.finished(stream.name)

    async def _export_parent(self, stream: Stream, context: Context) -> None:
        key = state.parent_key(context)
        progress = self._stream_state(stream).parents.get(key, state.Progress())
        try:
            if stream.dated:
                await self._export_windows(stream, key, context, progress)
            elif not progress.done:
                if stream.shape == "pages":
                    await self._export_pages(stream, key, context, progress)
                else:
                    content = await self._fetch(stream, context, {})
                    self._write(
                        stream, key, context, records.split(stream.shape, content), state.Progress(done=True)
                    )
        except (*_PARTIAL_FAILURES, PaginationError) as error:
            cause = _partial_cause(error)
            if cause is None:
                raise
            self._record_error(stream, context, cause)

    async def _export_pages(
        self, stream: Stream, key: str, context: Context, progress: state.Progress
    ) -> None:
        start = {"bookmark": progress.bookmark} if progress.bookmark else {}
        paginator = self._call(stream, context, start).raw()
        wanted = self._wanted_ids(stream)
        async with paginator:
            async for page in paginator.pages():
                items = [bytes(item) for item in page.items]
                if wanted is not None:
                    items = [item for item in items if _ref_decoder(None).decode(item).id in wanted]
                self._write(
                    stream,
                    key,
                    context,
                    items,
                    state.Progress(bookmark=page.bookmark, done=page.bookmark is None),
                )

    def _wanted_ids(self, stream: Stream) -> frozenset[str] | None:
        """With ``--ad-account-id``, the ad accounts stream has those accounts only."""
        if stream.name == "ad_accounts" and self._options.ad_account_ids:
            return frozenset(self._options.ad_account_ids)
        return None

    async def _export_windows(
        self, stream: Stream, key: str, context: Context, progress: state.Progress
    ) -> None:
        for window in self._windows(progress):
            if window.by_report and stream.report_level is not None:
                progress = state.Progress(through=window.end.isoformat())
                self._write(stream, key, context, await self._report_rows(stream, context, window), progress)
                continue
            batches = await self._batches(stream, context) if stream.batch else [None]
            for index in range(
                progress.batch if progress.through == _day_before(window.start) else 0, len(batches)
            ):
                extra = _window_query(window)
                batch = batches[index]
                if stream.batch is not None and batch is not None:
                    extra[stream.batch.parameter] = batch
                content = await self._fetch(stream, context, extra)
                last = index == len(batches) - 1
                self._write(
                    stream,
                    key,
                    context,
                    records.split(stream.shape, content),
                    state.Progress(
                        through=window.end.isoformat() if last else _day_before(window.start),
                        batch=0 if last else index + 1,
                    ),
                )
            if not batches:
                self._write(stream, key, context, [], state.Progress(through=window.end.isoformat()))
            progress = state.Progress(through=window.end.isoformat())

    def _windows(self, progress: state.Progress) -> list[Window]:
        since, until = self._since(), self._until()
        start = since
        if progress.through is not None:
            start = max(since, datetime.date.fromisoformat(progress.through) + datetime.timedelta(days=1))
        today = datetime.datetime.now(datetime.UTC).date()
        sync_from = today - datetime.timedelta(days=SYNC_DAYS_BACK)
        windows = []
        while start <= until:
            end = min(until, start + datetime.timedelta(days=WINDOW_DAYS - 1))
            if start < sync_from <= end:
                end = sync_from - datetime.timedelta(days=1)
            windows.append(Window(start, end))
            start = end + datetime.timedelta(days=1)
        return windows

    def _since(self) -> datetime.date:
        return self._options.since or self._until() - datetime.timedelta(days=29)

    def _until(self) -> datetime.date:
        return self._options.until or datetime.datetime.now(datetime.UTC).date()

    async def _batches(self, stream: Stream, context: Context) -> list[list[str]]:
        assert stream.batch is not None
        source = STREAMS[stream.batch.ids_from]
        cache_key = (source.name, state.parent_key(context))
        ids = self._ids_cache.get(cache_key)
        if ids is None:
            ids = self._ids_cache[cache_key] = [
                ref.id async for ref in self._list_refs(source, context) if ref.id
            ]
        size = stream.batch.size
        return [ids[start : start + size] for start in range(0, len(ids), size)]

    async def _report_rows(self, stream: Stream, context: Context, window: Window) -> list[bytes]:
        from .. import bulk

        body = {
            **_window_query(window),
            "granularity": "DAY",
            "level": stream.report_level,
            "columns": stream.query.get("columns"),
            "report_format": "JSON",
        }
        report = await bulk.create_report(
            self._client, bulk.AD_ACCOUNT_ANALYTICS, ad_account_id=context["ad_account_id"], body=body
        )
        encode = msgspec.json.encode
        async with report.rows() as rows:
            return [encode(row) async for row in rows]

    # -- parents -------------------------------------------------------------------------------------------------

    async def _parents(self, stream: Stream) -> AsyncIterator[tuple[Context, int | None]]:
        """The contexts this stream runs in (one per parent item, sharded), with the parent's item count."""
        chain = lineage(stream)[:-1]
        if not chain:
            if self._options.shard.owns(None):
                yield {}, None
            return
        async for context, count in self._contexts(stream, chain, {}):
            yield context, count

    async def _contexts(
        self, stream: Stream, chain: Sequence[Stream], context: Context
    ) -> AsyncIterator[tuple[Context, int | None]]:
        ancestor, rest = chain[0], chain[1:]
        assert ancestor.provides is not None, ancestor.name
        refs = self._explicit_refs(ancestor) or self._list_refs(
            ancestor, context, stream.total_field if not rest else None
        )
        try:
            async for ref in refs:
                if ref.id is None or (not context and not self._options.shard.owns(ref.id)):
                    continue
                child = {**context, ancestor.provides: ref.id}
                if rest:
                    async for nested in self._contexts(stream, rest, child):
                        yield nested
                else:
                    yield child, ref.count
        except (*_PARTIAL_FAILURES, PaginationError) as error:
            # A parent whose children cannot be listed (a board gone since it was listed) is a partial failure
            # like any other; the top-level listing failing is not, as there would be nothing to export.
            cause = _partial_cause(error)
            if not context or cause is None:
                raise
            self._record_error(stream, context, cause)

    def _explicit_refs(self, stream: Stream) -> AsyncIterator[_Ref] | None:
        if stream.name != "ad_accounts" or not self._options.ad_account_ids:
            return None

        async def given() -> AsyncIterator[_Ref]:
            for ad_account_id in self._options.ad_account_ids:
                yield _Ref(ad_account_id)

        return given()

    async def _list_refs(
        self, stream: Stream, context: Context, count_field: str | None = None
    ) -> AsyncIterator[_Ref]:
        decode = _ref_decoder(count_field).decode
        if stream.shape != "pages":
            for item in records.split(stream.shape, await self._fetch(stream, context, {})):
                yield decode(item)
            return
        paginator = self._call(stream, context, {}).raw()
        async with paginator:
            async for item in paginator:
                yield decode(item)

    # -- requests ------------------------------------------------------------------------------------------------

    def _call(self, stream: Stream, context: Context, extra: Mapping[str, object], **options: Any) -> Any:
        """Call the stream's operation with the context's ids that are its parameters (a paginator, or a
        coroutine)."""
        operation = OPERATIONS[stream.operation]
        method: Callable[..., Any] = getattr(getattr(self._client, operation.namespace), operation.name)
        arguments: dict[str, Any] = {
            name: value for name, value in context.items() if operation.parameter(name)
        }
        return method(**arguments, **{**stream.query, **extra}, **options)

    async def _fetch(self, stream: Stream, context: Context, extra: Mapping[str, object]) -> bytes:
        """The body of one non-paginated call, undecoded."""
        raw = RawResponse()
        await self._call(stream, context, extra, options=RequestOptions(capture=raw))
        return raw.content


def _partial_cause(error: Exception) -> APIError | None:
    """The 403 or 404 behind ``error`` (itself, or what a page fetch failed with), else ``None``."""
    cause = error.__cause__ if isinstance(error, PaginationError) else error
    return cause if isinstance(cause, _PARTIAL_FAILURES) else None


def _first_failure(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first_failure(first) if isinstance(first, BaseExceptionGroup) else first


def columns_of(stream: Stream) -> list[Column]:
    """The CSV and Parquet columns of a stream: declared, or from its item's schema, with parent ids."""
    if stream.columns:
        columns = declared_columns(stream.columns)
    else:
        operation = OPERATIONS[stream.operation]
        item_type = operation.item_type if operation.item else _items_type(operation.response_type, stream)
        columns = struct_columns(item_type)
    return with_parent_fields(columns, stream.parent_fields)


def _items_type(response_type: Any, stream: Stream) -> Any:
    if stream.shape == "object":
        return response_type
    # An ``items`` response without a bookmark: the element type of its ``items`` field.
    info = msgspec.inspect.type_info(response_type)
    assert isinstance(info, msgspec.inspect.StructType), stream.name
    for item_field in info.fields:
        if item_field.encode_name == "items":
            return _element_type(response_type, item_field.name)
    raise ValueError(f"{stream.name}: {response_type.__name__} has no items")


def _element_type(response_type: Any, name: str) -> Any:
    import typing

    hint = typing.get_type_hints(response_type)[name]
    # list[X] for a required field, list[X] | None for an optional one.
    members = (hint,) if typing.get_origin(hint) is list else typing.get_args(hint)
    for member in members:
        if typing.get_origin(member) is list:
            return typing.get_args(member)[0]
    raise ValueError(f"{response_type.__name__}.{name} is not a list")


def _window_query(window: Window) -> dict[str, object]:
    return {"start_date": window.start.isoformat(), "end_date": window.end.isoformat()}


def _day_before(day: datetime.date) -> str:
    return (day - datetime.timedelta(days=1)).isoformat()
