"""``aiopinterest call`` (any operation from the shell) and ``aiopinterest operations`` (the list of them)."""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

import msgspec

from .. import OPERATIONS, RawResponse, RequestOptions

if TYPE_CHECKING:
    from .. import Client, Operation


class UsageError(Exception):
    """Bad arguments: the message names the option or parameter and what it accepts."""


def find_operation(name: str) -> Operation:
    """An operation by operationId (``boards/list_pins``) or by method (``boards.list_pins``)."""
    operation = OPERATIONS.get(name)
    if operation is not None:
        return operation
    for candidate in OPERATIONS.values():
        if f"{candidate.namespace}.{candidate.name}" == name:
            return candidate
    names = [f"{op.namespace}.{op.name}" for op in OPERATIONS.values()] + list(OPERATIONS)
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.75)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise UsageError(f"OPERATION: no operation {name!r} (see `aiopinterest operations [WORD]`){hint}")


def parse_arguments(operation: Operation, pairs: Sequence[str]) -> dict[str, Any]:
    """``key=value`` pairs as the operation's parameters, typed from the spec (integers, numbers, booleans,
    comma-separated arrays); an unknown key names the valid ones."""
    arguments: dict[str, Any] = {}
    names = [parameter.name for parameter in operation.parameters]
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals:
            raise UsageError(f"argument {pair!r}: expected key=value")
        parameter = operation.parameter(key)
        if parameter is None:
            valid = ", ".join(names) or "none"
            raise UsageError(f"{key}: not a parameter of {operation.operation_id} (its parameters: {valid})")
        arguments[key] = _typed(key, value, parameter.schema)
    missing = [p.name for p in operation.parameters if p.required and p.name not in arguments]
    if missing:
        raise UsageError(f"{operation.operation_id} needs {', '.join(f'{name}=...' for name in missing)}")
    return arguments


def _typed(key: str, value: str, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items", {})
        return [_typed(key, part, items) for part in value.split(",") if part]
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        raise UsageError(
            f"{key}: {value!r} is not a{'n integer' if kind == 'integer' else ' number'}"
        ) from None
    if kind == "boolean":
        if value.lower() not in ("true", "false"):
            raise UsageError(f"{key}: {value!r} is not a boolean (true or false)")
        return value.lower() == "true"
    return value


def parse_body(text: str | None) -> Any:
    """``--body``: JSON text, or ``@path`` of a file holding it."""
    if text is None:
        return None
    source = "--body"
    if text.startswith("@"):
        source = text[1:]
        try:
            text = Path(source).read_text()
        except OSError as error:
            raise UsageError(f"--body: cannot read {source}: {error.strerror}") from None
    try:
        return msgspec.json.decode(text)
    except msgspec.DecodeError as error:
        raise UsageError(f"--body: {source} is not JSON ({error})") from None


async def call(
    client: Client,
    operation: Operation,
    arguments: Mapping[str, Any],
    body: Any,
    *,
    paginate: bool,
    out: BinaryIO,
) -> None:
    """Make the call and write the response's JSON as the API sent it; ``paginate``: every item, one a line."""
    method: Callable[..., Any] = getattr(getattr(client, operation.namespace), operation.name)
    extra = {} if body is None else {"body": body}
    if paginate:
        if not operation.paginated:
            raise UsageError(f"--paginate: {operation.operation_id} is not a paginated operation")
        paginator = method(**arguments, **extra).raw()
        async with paginator:
            async for item in paginator:
                out.write(bytes(item) + b"\n")
        out.flush()
        return
    raw = RawResponse()
    await method(**arguments, **extra, options=RequestOptions(capture=raw))
    out.write((raw.content or b"null") + b"\n")
    out.flush()


def list_operations(word: str | None, out: TextIO | None = None) -> int:
    """Print the operations (matching ``word`` in id, method, path or summary); returns how many."""
    out = out or sys.stdout
    rows = []
    needle = (word or "").lower()
    for operation in OPERATIONS.values():
        method = f"{operation.namespace}.{operation.name}"
        text = f"{operation.operation_id} {method} {operation.path} {operation.summary}".lower()
        if needle in text:
            rows.append(
                (
                    operation.operation_id,
                    method,
                    f"{operation.method} {operation.path}",
                    ",".join(operation.scopes) or "-",
                    operation.ratelimit_category,
                )
            )
    if not rows:
        print(f"no operation matches {word!r}", file=out)
        return 0
    header = ("OPERATION", "METHOD", "HTTP", "SCOPES", "RATE LIMIT")
    widths = [max(len(row[index]) for row in [header, *rows]) for index in range(4)]
    for row in [header, *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, [*widths, 0], strict=True)).rstrip(),
            file=out,
        )
    return len(rows)
