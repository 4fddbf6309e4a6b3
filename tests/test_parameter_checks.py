"""The compiled parameter checks agree with the schema walk they stand in for."""

from __future__ import annotations

from typing import Any

import pytest

# Unit test of two internal implementations of one rule (the compiled fast path and the schema walk).
from aiopinterest._validation import Schema, checker, validate
from aiopinterest.errors import RequestValidationError

SCHEMAS: list[Schema] = [
    {"type": "string", "pattern": "^\\d+$"},
    {"type": "string", "minLength": 2, "maxLength": 4},
    {"type": "string"},
    {"type": "boolean"},
    {"type": "integer", "minimum": 1, "maximum": 250},
    {"type": "string", "enum": ["DAY", "HOUR"]},
    {"type": "array", "items": {"type": "string", "pattern": "^\\d+$"}, "maxItems": 2},
    {"$ref": "Granularity"},
]
VALUES: list[Any] = [
    "123",
    "\u0661\u0662\u0663",  # Arabic-Indic digits: \d matches them
    "123\n",  # "$" matches before a final newline
    "\u00b2",  # a digit to str.isdigit(), not to \d
    "12a",
    "",
    "a",
    "abcde",
    "DAY",
    "WEEK",
    True,
    0,
    1,
    250,
    251,
    2.5,
    ["1"],
    ["1", "x"],
    [1],
]


def outcome(check: Any, value: Any) -> str | None:
    try:
        check(value)
    except RequestValidationError as error:
        return str(error)
    return None


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda schema: str(schema))
def test_checker_accepts_and_refuses_what_validate_does_with_the_same_message(schema: Schema) -> None:
    compiled = checker(schema, "param")
    for value in VALUES:
        expected = outcome(lambda v: validate(v, schema, "param"), value)
        assert outcome(compiled, value) == expected, value


def test_refusals_name_the_parameter() -> None:
    with pytest.raises(RequestValidationError, match="pin_id") as caught:
        checker({"type": "string", "pattern": "^\\d+$"}, "pin_id")("12a")
    assert caught.value.field == "pin_id"
