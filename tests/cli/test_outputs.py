"""CSV and Parquet hold the same items as JSONL, in typed columns, and resume as exactly as JSONL does."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import msgspec
import pytest

from aiopinterest import Client
from aiopinterest.cli.columns import row_reader
from aiopinterest.cli.export import columns_of
from aiopinterest.cli.outputs import open_output
from aiopinterest.cli.streams import STREAMS
from aiopinterest.testing import PinterestSimulator

from .conftest import export, lines

_STREAMS = (
    "boards",
    "board_pins",
    "board_sections",
    "pin_analytics",
    "campaigns",
    "user_account",
    "conversion_tags",
)


def _expected_rows(directory: Path, name: str) -> list[list[Any]]:
    """The JSONL items of ``name`` through the stream's columns (the parent ids are in the items already)."""
    read = row_reader(columns_of(STREAMS[name]))
    return [read(msgspec.json.decode(line), {}) for line in lines(directory / f"{name}.jsonl")]


@pytest.fixture
async def jsonl(pinterest_simulator: PinterestSimulator, pinterest_client: Client, tmp_path: Path) -> Path:
    [board_id, _] = pinterest_simulator.seed(boards=2, pins_per_board=40)
    await pinterest_client.boards.sections_create(board_id=board_id, name="Section")
    await export(pinterest_client, tmp_path / "jsonl", *_STREAMS)
    return tmp_path / "jsonl"


async def test_csv_has_a_header_of_the_schema_columns_and_the_jsonl_items(
    jsonl: Path, pinterest_client: Client, tmp_path: Path
) -> None:
    await export(pinterest_client, tmp_path / "csv", *_STREAMS, format="csv")
    for name in _STREAMS:
        header, *rows = _csv_rows(tmp_path / "csv" / f"{name}.csv")
        columns = columns_of(STREAMS[name])
        assert header == [column.name for column in columns]
        expected = [[_as_csv(value) for value in row] for row in _expected_rows(jsonl, name)]
        assert rows == expected, name
    assert "media.media_type" in header_of(tmp_path / "csv" / "board_pins.csv")


def _csv_rows(path: Path) -> list[list[str]]:
    with open(path, newline="") as file:
        return list(csv.reader(file))


def header_of(path: Path) -> list[str]:
    return _csv_rows(path)[0]


def _as_csv(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def test_parquet_has_typed_columns_and_the_jsonl_items(
    jsonl: Path, pinterest_client: Client, tmp_path: Path
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    await export(pinterest_client, tmp_path / "parquet", *_STREAMS, format="parquet")
    for name in _STREAMS:
        table = pq.read_table(tmp_path / "parquet" / f"{name}.parquet")
        assert [list(row.values()) for row in table.to_pylist()] == _expected_rows(jsonl, name), name
    pins = pq.read_table(tmp_path / "parquet" / "board_pins.parquet").schema
    assert pins.field("id").type == pa.string() and pins.field("is_owner").type == pa.bool_()
    assert pins.field("media.width").type == pa.int64()
    analytics = pq.read_table(tmp_path / "parquet" / "pin_analytics.parquet").schema
    assert analytics.field("metrics.IMPRESSION").type == pa.float64()


@pytest.mark.parametrize("format", ["jsonl", "csv", "parquet"])
def test_an_output_reopened_keeps_exactly_the_committed_units(tmp_path: Path, format: Any) -> None:
    columns = columns_of(STREAMS["boards"])
    output = open_output(tmp_path, "boards", format, 0, columns)
    output.write([b'{"id":"1","name":"a"}'], {})
    committed = output.snapshot()
    output.sync()
    output.write([b'{"id":"2","name":"b"}'], {})
    output.snapshot()
    output.sync()  # durable, but the state was never told: gone on reopening
    output.close()
    reopened = open_output(tmp_path, "boards", format, committed, columns)
    reopened.write([b'{"id":"3","name":"c"}'], {})
    reopened.snapshot()
    reopened.sync()
    reopened.close()
    assert _ids_in(tmp_path, format) == ["1", "3"]


def _ids_in(directory: Path, format: str) -> list[str]:
    if format == "jsonl":
        return [msgspec.json.decode(line)["id"] for line in lines(directory / "boards.jsonl")]
    if format == "csv":
        with open(directory / "boards.csv", newline="") as file:
            return [row["id"] for row in csv.DictReader(file)]
    import pyarrow.parquet as pq

    return [str(value) for value in pq.read_table(directory / "boards.parquet").column("id").to_pylist()]


def test_a_file_shorter_than_its_committed_size_is_refused(tmp_path: Path) -> None:
    from aiopinterest.cli.state import StateError

    (tmp_path / "boards.jsonl").write_bytes(b'{"id":"1"}\n')
    with pytest.raises(StateError, match="--refresh"):
        open_output(tmp_path, "boards", "jsonl", 100, columns_of(STREAMS["boards"]))
