"""Items kept as the API's JSON text; parent ids added in front only where the item lacks them."""

from __future__ import annotations

import msgspec

from aiopinterest.cli.records import has_field, split, with_field, with_parent_fields


def test_a_missing_parent_field_is_put_in_front_and_the_rest_is_unchanged() -> None:
    items = [b'{"id":"1"}', b'{"id":"2","board_id":"3"}', b'{"id":"4","pin":{"board_id":"3"}}']
    assert with_parent_fields(items, {"board_id": "board_id"}, {"board_id": "9"}) == [
        b'{"board_id":"9","id":"1"}',
        b'{"id":"2","board_id":"3"}',
        b'{"board_id":"9","id":"4","pin":{"board_id":"3"}}',
    ]
    assert with_field(b"{}", "board_id", "9") == b'{"board_id":"9"}'


def test_a_field_present_at_the_top_level_is_left_alone_even_if_null() -> None:
    item = b'{"board_id":null,"id":"1"}'
    assert with_parent_fields([item], {"board_id": "board_id"}, {"board_id": "9"}) == [item]


def test_a_field_only_in_a_nested_object_or_a_string_is_not_taken_for_the_items_own() -> None:
    assert not has_field(b'{"id":"1","pin":{"board_id":"3"}}', "board_id")
    assert not has_field(b'{"note":"\\"board_id\\""}', "board_id")
    assert has_field(b'{"a":1, "board_id" : "3"}', "board_id")


def test_responses_split_into_their_items_without_re_encoding() -> None:
    assert split("items", b'{"items":[{"id": "1"},{"id":"2"}]}') == [b'{"id": "1"}', b'{"id":"2"}']
    assert split("rows", b'[{"DATE": "2026-01-01"}]') == [b'{"DATE": "2026-01-01"}']
    assert split("object", b' {"username":"u"} ') == [b'{"username":"u"}']
    daily = b'{"all":{"daily_metrics":[{"date":"2026-01-01"},{"date":"2026-01-02"}]}}'
    assert split("daily", daily) == [b'{"date":"2026-01-01"}', b'{"date":"2026-01-02"}']
    by_pin = split("daily_by_id", b'{"5":' + daily + b"}")
    assert [msgspec.json.decode(row) for row in by_pin] == [
        {"pin_id": "5", "date": "2026-01-01"},
        {"pin_id": "5", "date": "2026-01-02"},
    ]
