"""The organic store stays consistent across operations."""

from __future__ import annotations

import pytest

import aiopinterest
from aiopinterest.errors import BadRequestError, NotFoundError
from aiopinterest.testing import PinterestSimulator

IMAGE = {"source_type": "image_url", "url": "https://example.com/cat.jpg"}


async def _pin_ids(client: aiopinterest.Client, board_id: str) -> list[str]:
    return [pin.id or "" async for pin in client.boards.list_pins(board_id=board_id)]


async def test_created_pin_appears_in_its_board_and_deleted_pin_disappears(
    pinterest_client: aiopinterest.Client,
) -> None:
    board = await pinterest_client.boards.create(name="Recipes", privacy="SECRET")
    assert board.id and board.privacy == "SECRET" and board.pin_count == 0
    pin = await pinterest_client.pins.create(board_id=board.id, media_source=IMAGE, title="Soup")
    assert pin.id and pin.board_id == board.id
    assert await _pin_ids(pinterest_client, board.id) == [pin.id]
    assert (await pinterest_client.pins.get(pin_id=pin.id)).title == "Soup"
    assert (await pinterest_client.boards.get(board_id=board.id)).pin_count == 1
    await pinterest_client.pins.delete(pin_id=pin.id)
    assert await _pin_ids(pinterest_client, board.id) == []
    with pytest.raises(NotFoundError):
        await pinterest_client.pins.get(pin_id=pin.id)


async def test_seeded_pins_can_be_updated_moved_and_saved(
    pinterest_simulator: PinterestSimulator, pinterest_client: aiopinterest.Client
) -> None:
    source, target = pinterest_simulator.seed(boards=2, pins_per_board=3)
    pin_id = (await _pin_ids(pinterest_client, source))[1]
    updated = await pinterest_client.pins.update(pin_id=pin_id, title="Renamed", board_id=target)
    assert updated.title == "Renamed" and updated.board_id == target
    assert pin_id not in await _pin_ids(pinterest_client, source)
    assert pin_id in await _pin_ids(pinterest_client, target)
    saved = await pinterest_client.pins.save(pin_id=pin_id, board_id=source)
    assert saved.parent_pin_id == pin_id and saved.title == "Renamed"
    assert len(await _pin_ids(pinterest_client, source)) == 3
    assert (await pinterest_client.user_account.get()).pin_count == 7


async def test_sections_hold_their_pins(pinterest_client: aiopinterest.Client) -> None:
    board = await pinterest_client.boards.create(name="Trips")
    assert board.id
    section = await pinterest_client.boards.sections_create(board_id=board.id, name="Italy")
    assert section.id
    inside = await pinterest_client.pins.create(
        board_id=board.id, board_section_id=section.id, media_source=IMAGE
    )
    await pinterest_client.pins.create(board_id=board.id, media_source=IMAGE)
    listed = [
        pin.id
        async for pin in pinterest_client.boards.sections_list_pins(board_id=board.id, section_id=section.id)
    ]
    assert listed == [inside.id]
    sections = [s.name async for s in pinterest_client.boards.sections_list(board_id=board.id)]
    assert sections == ["Italy"]
    renamed = await pinterest_client.boards.sections_update(
        board_id=board.id, section_id=section.id, name="Rome"
    )
    assert renamed.name == "Rome"
    await pinterest_client.boards.sections_delete(board_id=board.id, section_id=section.id)
    assert len(await _pin_ids(pinterest_client, board.id)) == 1


async def test_deleting_a_board_deletes_its_pins(
    pinterest_simulator: PinterestSimulator, pinterest_client: aiopinterest.Client
) -> None:
    doomed, _kept = pinterest_simulator.seed(boards=2, pins_per_board=5)
    pin_id = (await _pin_ids(pinterest_client, doomed))[0]
    await pinterest_client.boards.delete(board_id=doomed)
    with pytest.raises(NotFoundError):
        await pinterest_client.boards.get(board_id=doomed)
    with pytest.raises(NotFoundError):
        await pinterest_client.pins.get(pin_id=pin_id)
    assert len([pin async for pin in pinterest_client.pins.list()]) == 5


async def test_board_update_and_privacy(pinterest_client: aiopinterest.Client) -> None:
    board = await pinterest_client.boards.create(name="Draft")
    assert board.id
    updated = await pinterest_client.boards.update(board_id=board.id, name="Final", privacy="SECRET")
    assert (updated.name, updated.privacy) == ("Final", "SECRET")
    secret = [b.id async for b in pinterest_client.boards.list(privacy="SECRET")]
    assert secret == [board.id]


async def test_pin_on_a_missing_board_is_refused(pinterest_client: aiopinterest.Client) -> None:
    with pytest.raises(BadRequestError) as raised:
        await pinterest_client.pins.create(board_id="123", media_source=IMAGE)
    assert "body.board_id" in str(raised.value)


async def test_search_finds_pins_and_boards(
    pinterest_simulator: PinterestSimulator, pinterest_client: aiopinterest.Client
) -> None:
    [board_id] = pinterest_simulator.seed(boards=1, pins_per_board=80)
    await pinterest_client.boards.create(name="Garden plans")
    created = await pinterest_client.pins.create(board_id=board_id, media_source=IMAGE, title="Zucchini")
    gardens = [pin async for pin in pinterest_client.search.user_pins_list(query="garden")]
    # Seeded titles cycle through eight topics.
    assert len(gardens) == 10
    assert all("garden" in (pin.description or "").lower() for pin in gardens)
    assert [pin.id async for pin in pinterest_client.search.user_pins_list(query="zucchini")] == [created.id]
    boards = [board.name async for board in pinterest_client.search.user_boards_get(query="garden")]
    assert boards == ["Garden plans"]
