"""The output file of one stream: JSONL, CSV or Parquet, written a unit (a page, a window) at a time.

Each output has a ``size`` that the state records at a commit: bytes for JSONL and CSV, whose files are
truncated back to it on restart; the number of part files for Parquet (``DIR/<stream>.parquet/part-000001.parquet``
and so on, a dataset any Parquet reader opens as one table), whose parts beyond it are deleted on restart.
A commit is two steps: :meth:`Output.snapshot` (on the event loop, together with the progress it covers) and
:meth:`Output.sync` (in a worker thread), after which the state may say ``size``.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal, Protocol

import msgspec

from .columns import Column, row_reader
from .records import with_parent_fields
from .state import StateError, fsync_directory

Format = Literal["jsonl", "csv", "parquet"]
FORMATS: Final = ("jsonl", "csv", "parquet")
_BATCH_ROWS: Final = 2_000


class Output(Protocol):
    path: Path

    def write(self, records: Sequence[bytes], context: Mapping[str, str]) -> None:
        """Append one unit of records (each an item's JSON text)."""

    def snapshot(self) -> int:
        """The size covering every unit written so far; what a commit taken now may record."""

    def sync(self) -> None:
        """Make everything up to the last snapshot durable (run in a worker thread)."""

    def close(self) -> None: ...


def open_output(directory: Path, stream: str, format: Format, size: int, columns: Sequence[Column]) -> Output:
    """The output of ``stream`` in ``directory``, cut back to the committed ``size``."""
    if format == "jsonl":
        return JsonLines(directory / f"{stream}.jsonl", size, columns)
    if format == "csv":
        return CsvFile(directory / f"{stream}.csv", size, columns)
    return ParquetParts(directory / f"{stream}.parquet", size, columns)


class _AppendFile:
    """A file truncated to ``size`` and appended to; snapshot flushes Python's buffer, sync fsyncs."""

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        length = path.stat().st_size if path.exists() else 0
        if length < size:
            # Cutting back is safe, growing would invent bytes: something else changed the file.
            raise StateError(
                f"{path} has {length} bytes but the export committed {size}; it was changed outside the "
                "export: start over with --refresh"
            )
        self._file = open(path, "r+b" if path.exists() else "w+b")
        self._file.truncate(size)
        self._file.seek(size)
        self._size = size
        fsync_directory(path.parent)

    def _append(self, content: bytes) -> None:
        self._file.write(content)
        self._size += len(content)

    def snapshot(self) -> int:
        self._file.flush()
        return self._size

    def sync(self) -> None:
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


class JsonLines(_AppendFile):
    """One line per item, the item's JSON exactly as the API sent it (or with its parent's ids added)."""

    def __init__(self, path: Path, size: int, columns: Sequence[Column]) -> None:
        super().__init__(path, size)
        # Item field -> context key. CSV and Parquet read the same parent ids through the columns' fallback.
        self._parent_fields = {column.name: column.fallback for column in columns if column.fallback}

    def write(self, records: Sequence[bytes], context: Mapping[str, str]) -> None:
        if self._parent_fields:
            records = with_parent_fields(list(records), self._parent_fields, context)
        if records:
            self._append(b"\n".join(records) + b"\n")


class CsvFile(_AppendFile):
    """A header of the column names, then one row per item (RFC 4180 quoting, UTF-8)."""

    def __init__(self, path: Path, size: int, columns: Sequence[Column]) -> None:
        super().__init__(path, size)
        self._read = row_reader(columns)
        self._decode = msgspec.json.Decoder()
        if size == 0:
            self._append(self._rows([[column.name for column in columns]]))

    def write(self, records: Sequence[bytes], context: Mapping[str, str]) -> None:
        if records:
            self._append(
                self._rows([_csv_values(self._read(self._decode.decode(r), context)) for r in records])
            )

    @staticmethod
    def _rows(rows: list[list[Any]]) -> bytes:
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(rows)
        return text.getvalue().encode()


def _csv_values(row: list[Any]) -> list[Any]:
    # CSV has no booleans: written the way JSON spells them, so that a reader can tell them from text.
    return ["true" if value is True else "false" if value is False else value for value in row]


class ParquetParts:
    """A directory of Parquet files with typed columns, one file per commit that has new items."""

    def __init__(self, path: Path, size: int, columns: Sequence[Column]) -> None:
        import pyarrow as pa

        self.path = path
        path.mkdir(exist_ok=True)
        for part in path.iterdir():
            if not part.name.startswith("part-") or _part_number(part) > size:
                part.unlink()  # written after the last commit, or a temporary file of an interrupted one
        self._columns = list(columns)
        self._schema = pa.schema([pa.field(column.name, _ARROW_TYPES[column.type]()) for column in columns])
        self._read = row_reader(columns)
        self._decode = msgspec.json.Decoder()
        self._rows: list[list[Any]] = []
        self._batches: list[Any] = []
        self._to_sync: list[tuple[int, list[Any]]] = []
        self._parts = size

    def write(self, records: Sequence[bytes], context: Mapping[str, str]) -> None:
        self._rows.extend(self._read(self._decode.decode(record), context) for record in records)
        if len(self._rows) >= _BATCH_ROWS:
            self._batch_rows()

    def _batch_rows(self) -> None:
        # Rows as Python lists cost ten times their Arrow columns: converted every few thousand, so that memory
        # stays flat however fast items arrive between commits.
        import pyarrow as pa

        arrays = [
            pa.array([row[index] for row in self._rows], type=field.type)
            for index, field in enumerate(self._schema)
        ]
        self._batches.append(pa.RecordBatch.from_arrays(arrays, schema=self._schema))
        self._rows = []

    def snapshot(self) -> int:
        if self._rows:
            self._batch_rows()
        if self._batches:
            self._parts += 1
            self._to_sync.append((self._parts, self._batches))
            self._batches = []
        return self._parts

    def sync(self) -> None:
        while self._to_sync:
            number, batches = self._to_sync[0]
            self._write_part(number, batches)
            del self._to_sync[0]

    def _write_part(self, number: int, batches: list[Any]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_batches(batches, schema=self._schema)
        final = self.path / f"part-{number:06d}.parquet"
        temporary = self.path / f".{final.name}.tmp"
        with open(temporary, "wb") as file:
            pq.write_table(table, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, final)
        fsync_directory(self.path)

    def close(self) -> None:
        self._rows, self._batches = [], []


def _part_number(part: Path) -> int:
    try:
        return int(part.name.removeprefix("part-").removesuffix(".parquet"))
    except ValueError:
        return 1 << 62


def _arrow(name: str) -> Any:
    def make() -> Any:
        import pyarrow as pa

        return getattr(pa, name)()

    return make


_ARROW_TYPES: Final = {
    "string": _arrow("string"),
    "json": _arrow("string"),
    "int": _arrow("int64"),
    "float": _arrow("float64"),
    "bool": _arrow("bool_"),
}
