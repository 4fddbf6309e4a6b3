"""Columns from the generated structs: nested structs flattened with dots, the rest as JSON text."""

from __future__ import annotations

from aiopinterest.cli.columns import Column, declared_columns, row_reader, struct_columns, with_parent_fields
from aiopinterest.models import BoardSection, Pin


def test_struct_fields_become_typed_columns_and_nested_structs_dotted_ones() -> None:
    columns = {column.name: column for column in struct_columns(Pin)}
    assert columns["id"].type == "string"
    assert columns["creative_type"].type == "string"  # an enum, with the lenient fallback to any string
    assert columns["is_owner"].type == "bool"
    assert columns["board_owner.username"].path == ("board_owner", "username")
    assert columns["media.width"].type == "int"
    assert columns["product_tags"].type == "json"


def test_a_parent_field_the_schema_lacks_comes_first_and_falls_back_to_the_parent_id() -> None:
    columns = with_parent_fields(struct_columns(BoardSection), {"board_id": "board_id"})
    assert columns[0] == Column("board_id", ("board_id",), "string", "board_id")
    read = row_reader(columns)
    row = read({"id": "7", "name": "Tarts"}, {"board_id": "42"})
    assert row[0] == "42" and "7" in row


def test_values_are_read_along_their_path_and_converted_to_the_column_type() -> None:
    columns = declared_columns(
        [("a.b", "float"), ("n", "int"), ("flag", "bool"), ("list", "json"), ("s", "string")]
    )
    read = row_reader(columns)
    assert read({"a": {"b": 3}, "n": 4.0, "flag": True, "list": [1, {"x": None}], "s": 5}, {}) == [
        3.0,
        4,
        True,
        '[1,{"x":null}]',
        "5",
    ]
    assert read({"a": None}, {}) == [None, None, None, None, None]
