"""``aiopinterest call``: operations found by either name, arguments typed from the spec."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiopinterest.cli.call import UsageError, find_operation, parse_arguments, parse_body


def test_an_operation_is_found_by_operation_id_or_method_name() -> None:
    assert find_operation("board_sections/list_pins") is find_operation("boards.sections_list_pins")
    with pytest.raises(UsageError, match=r"did you mean boards\.list_pins"):
        find_operation("boards.list_pinz")


def test_values_are_typed_from_the_spec_parameters() -> None:
    operation = find_operation("pins/list")
    arguments = parse_arguments(
        operation, ["page_size=25", "include_protected_pins=true", "creative_types=VIDEO,REGULAR"]
    )
    assert arguments == {
        "page_size": 25,
        "include_protected_pins": True,
        "creative_types": ["VIDEO", "REGULAR"],
    }
    with pytest.raises(UsageError, match="include_protected_pins: 'yes' is not a boolean"):
        parse_arguments(operation, ["include_protected_pins=yes"])
    with pytest.raises(UsageError, match="expected key=value"):
        parse_arguments(operation, ["page_size"])


def test_a_body_is_json_text_or_a_file(tmp_path: Path) -> None:
    (tmp_path / "board.json").write_text('{"name": "Recipes"}')
    assert (
        parse_body('{"name": "Recipes"}') == parse_body(f"@{tmp_path / 'board.json'}") == {"name": "Recipes"}
    )
    with pytest.raises(UsageError, match="--body: cannot read"):
        parse_body(f"@{tmp_path / 'missing.json'}")
