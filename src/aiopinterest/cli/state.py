"""The export's state in DIR, written atomically, after the data it covers is on disk.

``DIR/.aiopinterest-export.json`` holds, per stream, how far its file is committed (``size``: bytes of a JSONL or
CSV file, or Parquet parts) and the progress of every parent (a bookmark, the last day exported, or done). A
restart truncates each file to its committed size and continues from those positions, so an item is in the
output exactly once whatever moment the previous run was stopped at.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Final

import msgspec

STATE_FILE: Final = ".aiopinterest-export.json"
VERSION: Final = 1


class Progress(msgspec.Struct, omit_defaults=True):
    """How far one parent of a stream has been exported.

    bookmark: the pagination position after the last page written (``None``: from the start).
    through: for dated streams, the last day written in full.
    batch: for batched dated streams, how many batches of the window after ``through`` are written.
    done: nothing more to fetch for this parent (up to ``through`` for dated streams).
    """

    bookmark: str | None = None
    through: str | None = None
    batch: int = 0
    done: bool = False


class StreamState(msgspec.Struct, omit_defaults=True):
    """size: the committed size of the output (bytes, or Parquet parts). parents: progress by parent key.
    complete: every parent done (for dated streams, up to ``until``). until: the last day asked for."""

    size: int = 0
    parents: dict[str, Progress] = msgspec.field(default_factory=dict)
    complete: bool = False
    until: str | None = None


class ExportState(msgspec.Struct):
    format: str
    version: int = VERSION
    streams: dict[str, StreamState] = msgspec.field(default_factory=dict)


class StateError(Exception):
    """DIR holds a state this run cannot continue (another format, an unreadable file)."""


def load(directory: Path) -> ExportState | None:
    path = directory / STATE_FILE
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        state = msgspec.json.decode(content, type=ExportState)
    except msgspec.DecodeError as error:
        raise StateError(f"{path}: not an export state ({error}); start over with --refresh") from None
    if state.version != VERSION:
        raise StateError(
            f"{path}: state version {state.version}, this version reads {VERSION}; use --refresh"
        )
    return state


def save(directory: Path, state: ExportState) -> None:
    """Replace the state file atomically: write a temporary file, fsync it, rename it, fsync the directory."""
    write_atomically(directory / STATE_FILE, msgspec.json.encode(state))


def write_atomically(path: Path, content: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


def fsync_directory(directory: Path) -> None:
    """Make a rename or a new file in ``directory`` durable."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def parent_key(context: dict[str, Any]) -> str:
    """The key of a parent in the state: its ids in order, ``board_id=1/section_id=2`` (``""`` at the top)."""
    return "/".join(f"{name}={value}" for name, value in context.items())
