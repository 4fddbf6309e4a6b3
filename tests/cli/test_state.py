"""The state file: replaced atomically, read back exactly, refused when it is not an export's."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiopinterest.cli.state import (
    STATE_FILE,
    ExportState,
    Progress,
    StateError,
    StreamState,
    load,
    parent_key,
    save,
)


def test_the_state_round_trips_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    state = ExportState(
        format="csv",
        streams={
            "board_pins": StreamState(size=120, parents={"board_id=1": Progress(bookmark="b", done=False)})
        },
    )
    save(tmp_path, state)
    save(tmp_path, state)
    assert load(tmp_path) == state
    assert [path.name for path in tmp_path.iterdir()] == [STATE_FILE]


def test_no_state_is_none_and_a_damaged_one_says_to_refresh(tmp_path: Path) -> None:
    assert load(tmp_path) is None
    (tmp_path / STATE_FILE).write_text("{not json")
    with pytest.raises(StateError, match="--refresh"):
        load(tmp_path)


def test_parent_keys_name_every_id_in_order() -> None:
    assert parent_key({"board_id": "1", "section_id": "2"}) == "board_id=1/section_id=2"
    assert parent_key({}) == ""
