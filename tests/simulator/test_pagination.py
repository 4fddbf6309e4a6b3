"""Bookmark pagination over the store: exact counts, stable order, no duplicates, a null bookmark at the end."""

from __future__ import annotations

import aiohttp

import aiopinterest
from aiopinterest.testing import PinterestSimulator


async def test_every_pin_of_every_board_exactly_once(
    pinterest_simulator: PinterestSimulator, pinterest_client: aiopinterest.Client
) -> None:
    board_ids = pinterest_simulator.seed(boards=3, pins_per_board=1001)
    for board_id in board_ids:
        pins = [pin async for pin in pinterest_client.boards.list_pins(board_id=board_id, page_size=250)]
        assert len(pins) == 1001
        assert len({pin.id for pin in pins}) == 1001
        assert {pin.board_id for pin in pins} == {board_id}
        assert [int(pin.id or 0) for pin in pins] == sorted(int(pin.id or 0) for pin in pins)


async def test_pages_are_full_until_the_last_which_has_a_null_bookmark(
    pinterest_simulator: PinterestSimulator, pinterest_client: aiopinterest.Client
) -> None:
    [board_id] = pinterest_simulator.seed(boards=1, pins_per_board=60)
    sizes = []
    bookmark = None
    while True:
        page = await pinterest_client.boards.list_pins(board_id=board_id, page_size=25, bookmark=bookmark)
        sizes.append(len(page.items))
        bookmark = page.bookmark
        if bookmark is None:
            break
    assert sizes == [25, 25, 10]


async def test_exactly_one_full_page_ends_with_a_null_bookmark(
    pinterest_simulator: PinterestSimulator, pinterest_client: aiopinterest.Client
) -> None:
    [board_id] = pinterest_simulator.seed(boards=1, pins_per_board=25)
    page = await pinterest_client.boards.list_pins(board_id=board_id)
    assert len(page.items) == 25
    assert page.bookmark is None


async def test_default_page_size_is_the_spec_default(
    pinterest_simulator: PinterestSimulator, http: aiohttp.ClientSession
) -> None:
    pinterest_simulator.seed(boards=30, pins_per_board=0)
    headers = {"Authorization": f"Bearer {pinterest_simulator.access_token}"}
    async with http.get(pinterest_simulator.base_url + "/boards", headers=headers) as response:
        page = await response.json()
    assert len(page["items"]) == 25
    assert page["bookmark"] is not None


async def test_deleting_behind_the_cursor_skips_and_repeats_nothing(
    pinterest_simulator: PinterestSimulator, pinterest_client: aiopinterest.Client
) -> None:
    [board_id] = pinterest_simulator.seed(boards=1, pins_per_board=30)
    first = await pinterest_client.boards.list_pins(board_id=board_id, page_size=10)
    await pinterest_client.pins.delete(pin_id=first.items[0].id or "")
    await pinterest_client.pins.delete(pin_id=first.items[1].id or "")
    rest = [
        pin async for pin in pinterest_client.boards.list_pins(board_id=board_id, bookmark=first.bookmark)
    ]
    assert len(rest) == 20
    assert not {pin.id for pin in rest} & {pin.id for pin in first.items}


async def test_all_pins_across_boards_and_privacy(
    pinterest_simulator: PinterestSimulator, pinterest_client: aiopinterest.Client
) -> None:
    pinterest_simulator.seed(boards=2, pins_per_board=40)
    pinterest_simulator.seed(boards=1, pins_per_board=15, privacy="PROTECTED")
    visible = [pin async for pin in pinterest_client.pins.list(page_size=7)]
    assert len(visible) == 80
    everything = [pin async for pin in pinterest_client.pins.list(include_protected_pins=True)]
    assert len({pin.id for pin in everything}) == 95
    protected = [board async for board in pinterest_client.boards.list(privacy="PROTECTED")]
    assert len(protected) == 1


async def test_a_million_pins_seed_instantly(pinterest_simulator: PinterestSimulator) -> None:
    board_ids = pinterest_simulator.seed(boards=4000, pins_per_board=250)
    assert len(board_ids) == 4000
    assert pinterest_simulator.store.account().pin_count == 1_000_000
