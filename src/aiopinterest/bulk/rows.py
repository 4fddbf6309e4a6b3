"""Report files decoded into rows incrementally: gzip, CSV and JSON, in memory bounded by one row and one chunk.

Each decoder is fed byte chunks as they arrive and returns the rows completed so far; ``finish()`` checks that
the file did not end mid-row.
"""

from __future__ import annotations

import codecs
import csv
import re
import zlib
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any, Final, Literal, Protocol, TypeAlias

import msgspec

from ..errors import ReportError

__all__ = ["ReportFormat", "ReportRow", "parse_rows"]

ReportFormat: TypeAlias = Literal["csv", "json"]
#: One row of a report: a CSV record keyed by the header's column names, or one JSON object.
ReportRow: TypeAlias = dict[str, Any]

_GZIP_MAGIC: Final = b"\x1f\x8b"
# Inflate in bounded steps, so a highly compressed chunk never expands into one huge buffer.
_INFLATE_STEP: Final = 1 << 16


class _RowDecoder(Protocol):
    def feed(self, data: bytes) -> list[ReportRow]: ...

    def finish(self) -> list[ReportRow]: ...


async def parse_rows(
    chunks: AsyncIterable[bytes], format: ReportFormat | None = None
) -> AsyncIterator[ReportRow]:
    """The rows of a report file arriving as ``chunks``; gzip is detected by its magic bytes.

    ``format=None`` tells JSON from CSV by the first character of the content (``[`` or ``{``: JSON).
    """
    decoder: _RowDecoder | None = None
    head = b""  # leading blank bytes, held until the first real character tells the format
    async for data in _inflated(chunks):
        if decoder is None:
            head += data
            if not head.strip(_BLANK):
                continue
            data, head = head, b""
            decoder = _decoder_for(format, data)
        for row in decoder.feed(data):
            yield row
    if decoder is not None:
        for row in decoder.finish():
            yield row


async def _inflated(chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """``chunks``, inflated when they start with the gzip magic."""
    head: bytes | None = b""
    inflater: _Gunzip | None = None
    async for chunk in chunks:
        if head is not None:
            head += chunk
            if len(head) < len(_GZIP_MAGIC):
                continue
            chunk, head = head, None
            if chunk.startswith(_GZIP_MAGIC):
                inflater = _Gunzip()
        if inflater is None:
            yield chunk
        else:
            for data in inflater.feed(chunk):
                yield data
    if head:
        yield head
    if inflater is not None:
        inflater.finish()


def _decoder_for(format: ReportFormat | None, head: bytes) -> _RowDecoder:
    if format is None:
        format = "json" if head.lstrip(_BLANK)[:1] in (b"[", b"{") else "csv"
    return _JsonRows() if format == "json" else _CsvRows()


class _Gunzip:
    """Inflates a gzip stream, members one after another (``cat a.gz b.gz`` is a valid gzip file)."""

    def __init__(self) -> None:
        self._inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
        self._mid_member = False

    def feed(self, data: bytes) -> list[bytes]:
        out: list[bytes] = []
        while data:
            self._mid_member = True
            try:
                out.append(self._inflater.decompress(data, _INFLATE_STEP))
            except zlib.error as error:
                raise ReportError(f"the report file is not valid gzip: {error}") from None
            data = self._inflater.unconsumed_tail
            if self._inflater.eof:
                data = self._inflater.unused_data
                self._inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
                self._mid_member = False
        return out

    def finish(self) -> None:
        if self._mid_member:
            raise ReportError("the report file ends in the middle of its gzip stream")


class _CsvRows:
    """CSV with a header row. A record ends at a newline outside quotes: where the quotes seen so far pair up
    (RFC 4180 escapes a quote by doubling it, which keeps the count even)."""

    def __init__(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
        self._partial_line = ""
        self._record: list[str] = []
        self._open_quotes = False
        self._header: list[str] | None = None

    def feed(self, data: bytes) -> list[ReportRow]:
        try:
            text = self._partial_line + self._text.decode(data)
        except UnicodeDecodeError as error:
            raise ReportError(f"the CSV report is not UTF-8: {error}") from None
        lines = text.split("\n")
        self._partial_line = lines.pop()
        return self._rows(lines)

    def finish(self) -> list[ReportRow]:
        rows = self._rows([self._partial_line] if self._partial_line else [])
        self._partial_line = ""
        if self._record:
            raise ReportError("the CSV report ends inside a quoted field")
        return rows

    def _rows(self, lines: list[str]) -> list[ReportRow]:
        records: list[str] = []
        for line in lines:
            self._record.append(line)
            if line.count('"') % 2:
                self._open_quotes = not self._open_quotes
            if not self._open_quotes:
                records.append("\n".join(self._record))
                self._record.clear()
        rows: list[ReportRow] = []
        for values in csv.reader(records):
            if not values:
                continue
            if self._header is None:
                self._header = values
            else:
                rows.append(dict(zip(self._header, values, strict=False)))
        return rows


# Outside strings, only brackets and quotes matter for finding where a row starts and ends.
_STRUCTURE: Final = re.compile(rb'[\[\]{}"]')
# The rest of a string after its opening quote, through the closing quote.
_STRING_REST: Final = re.compile(rb'(?:[^"\\]|\\.)*"', re.DOTALL)
# The start of a top-level object, up to the first character of its first member's value.
_OBJECT_HEAD: Final = re.compile(rb'\s*\{\s*(?:\}|"(?:[^"\\]|\\.)*"\s*:\s*(\S))')
_BLANK: Final = b"\xef\xbb\xbf \t\r\n"
_row_decoder: Final = msgspec.json.Decoder(dict[str, Any])


class _JsonRows:
    """The rows of a JSON report, one ``msgspec`` decode per row; three layouts, told apart by the first bytes:

    - a top-level array: its elements;
    - a top-level object whose first member is an array (``{"<key>": [row, ...], ...}``): the elements of its
      arrays, the keys dropped;
    - anything else: each top-level object (one object, or JSON Lines).
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._scan = 0  # where scanning resumes
        self._depth = 0
        self._row_depth: int | None = None  # the nesting depth at which rows open
        self._row_start: int | None = None

    def feed(self, data: bytes) -> list[ReportRow]:
        self._buffer += data
        if self._row_depth is None:
            self._row_depth = self._layout()
            if self._row_depth is None:
                return []
        rows = self._split()
        # Keep only what an unfinished row or string still needs.
        keep = self._scan if self._row_start is None else self._row_start
        if keep:
            del self._buffer[:keep]
            self._scan -= keep
            if self._row_start is not None:
                self._row_start -= keep
        return rows

    def finish(self) -> list[ReportRow]:
        if self._row_depth is None and self._buffer.strip(_BLANK):
            self._row_depth = 0
            rows = self._split()
        else:
            rows = []
        if self._depth or self._row_start is not None or self._scan < len(self._buffer.rstrip(_BLANK)):
            raise ReportError("the JSON report ends in the middle of a value")
        return rows

    def _layout(self) -> int | None:
        start = self._buffer.lstrip(_BLANK)[:1]
        if start == b"[":
            return 1
        if start != b"{":
            return 0
        head = _OBJECT_HEAD.match(self._buffer, len(self._buffer) - len(self._buffer.lstrip(_BLANK)))
        if head is None:
            return None  # the first member is not complete yet
        return 2 if head.group(1) == b"[" else 0

    def _split(self) -> list[ReportRow]:
        buffer, depth, row_depth = self._buffer, self._depth, self._row_depth
        rows: list[ReportRow] = []
        position = self._scan
        while True:
            match = _STRUCTURE.search(buffer, position)
            if match is None:
                position = len(buffer)
                break
            char = buffer[match.start()]
            if char == 0x22:  # '"'
                rest = _STRING_REST.match(buffer, match.end())
                if rest is None:
                    position = match.start()  # rescanned once the string is complete
                    break
                position = rest.end()
                continue
            position = match.end()
            if char in (0x7B, 0x5B):  # '{', '['
                if depth == row_depth and self._row_start is None:
                    self._row_start = match.start()
                depth += 1
            else:
                depth -= 1
                if depth == row_depth and self._row_start is not None:
                    rows.append(self._decode(buffer[self._row_start : position]))
                    self._row_start = None
        self._scan, self._depth = position, depth
        return rows

    @staticmethod
    def _decode(row: bytes | bytearray) -> ReportRow:
        try:
            return _row_decoder.decode(row)
        except msgspec.DecodeError as error:
            raise ReportError(f"a row of the JSON report is not a JSON object: {error}") from None
