"""Every stream against the embedded simulator: the items of its operation, one JSON line each, with ids."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from aiopinterest import OPERATIONS, Client
from aiopinterest.cli.streams import STREAMS, lineage
from aiopinterest.testing import PinterestSimulator

from .conftest import export, lines


def test_every_stream_names_a_get_operation_and_existing_parents() -> None:
    for stream in STREAMS.values():
        operation = OPERATIONS[stream.operation]
        assert operation.method == "GET", stream.name
        assert (stream.shape == "pages") == operation.paginated, stream.name
        for ancestor in lineage(stream)[:-1]:
            assert ancestor.provides is not None, (stream.name, ancestor.name)
        if stream.batch is not None:
            assert operation.parameter(stream.batch.parameter) is not None, stream.name


@pytest.mark.parametrize("name", sorted(STREAMS))
async def test_each_stream_exports_its_items_from_the_simulator(
    name: str, pinterest_simulator: PinterestSimulator, pinterest_client: Client, tmp_path: Path
) -> None:
    pinterest_simulator.seed(boards=2, pins_per_board=30)
    summary = await export(pinterest_client, tmp_path, name)
    written = [msgspec.json.decode(line) for line in lines(tmp_path / f"{name}.jsonl")]
    assert summary.streams[name].items == len(written) > 0 or name in ("board_sections", "board_section_pins")
    assert not summary.partial
    stream = STREAMS[name]
    for item in written:
        assert isinstance(item, dict)
        for field in stream.key.split("+"):
            assert item.get(field) is not None, (name, field, item)
        for field in stream.parent_fields:
            assert item.get(field) is not None, (name, field)


async def test_board_pins_are_every_pin_of_every_board_with_its_board_id(
    pinterest_simulator: PinterestSimulator, pinterest_client: Client, tmp_path: Path
) -> None:
    boards = pinterest_simulator.seed(boards=3, pins_per_board=260)
    await export(pinterest_client, tmp_path, "board_pins", concurrency=2)
    pins = [msgspec.json.decode(line) for line in lines(tmp_path / "board_pins.jsonl")]
    assert len({pin["id"] for pin in pins}) == len(pins) == 780
    assert {pin["board_id"] for pin in pins} == set(boards)


async def test_sections_and_their_pins_carry_the_board_and_section_ids(
    pinterest_simulator: PinterestSimulator, pinterest_client: Client, tmp_path: Path
) -> None:
    [board_id] = pinterest_simulator.seed(boards=1, pins_per_board=5)
    section = await pinterest_client.boards.sections_create(board_id=board_id, name="Tarts")
    await pinterest_client.pins.create(
        board_id=board_id,
        board_section_id=section.id,
        media_source={"source_type": "image_url", "url": "https://example.com/tart.jpg"},
    )
    await export(pinterest_client, tmp_path, "board_sections", "board_section_pins")
    [written_section] = [msgspec.json.decode(line) for line in lines(tmp_path / "board_sections.jsonl")]
    assert written_section["board_id"] == board_id and written_section["id"] == section.id
    # The board id comes first: the section's own JSON follows unchanged.
    assert lines(tmp_path / "board_sections.jsonl")[0].startswith(b'{"board_id":')
    [pin] = [msgspec.json.decode(line) for line in lines(tmp_path / "board_section_pins.jsonl")]
    assert pin["board_id"] == board_id and pin["board_section_id"] == section.id


async def test_pin_analytics_asks_for_100_pins_a_request_and_writes_a_line_per_pin_and_day(
    pinterest_simulator: PinterestSimulator, pinterest_client: Client, tmp_path: Path
) -> None:
    import datetime

    pinterest_simulator.seed(boards=1, pins_per_board=250)
    until = datetime.datetime.now(datetime.UTC).date()
    since = until - datetime.timedelta(days=6)
    await export(pinterest_client, tmp_path, "pin_analytics", since=since, until=until)
    rows = [msgspec.json.decode(line) for line in lines(tmp_path / "pin_analytics.jsonl")]
    assert len({(row["pin_id"], row["date"]) for row in rows}) == len(rows) == 250 * 7
    requests = [r for r in pinterest_simulator.requests if r.operation_id == "multi_pins/analytics"]
    assert len(requests) == 3  # 100 + 100 + 50


async def test_ad_account_ids_given_replace_the_listing(pinterest_client: Client, tmp_path: Path) -> None:
    await export(pinterest_client, tmp_path, "campaigns", ad_account_ids=["111", "222"])
    campaigns = [msgspec.json.decode(line) for line in lines(tmp_path / "campaigns.jsonl")]
    assert len(campaigns) == 2
