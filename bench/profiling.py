"""Summarise a cProfile dump: where the time per operation goes, by library area and by function."""

from __future__ import annotations

import pstats
import sysconfig
from pathlib import Path
from typing import Any

_STDLIB = sysconfig.get_paths()["stdlib"] + "/"
_LIBRARIES = ("aiohttp", "yarl", "multidict", "anyio", "msgspec", "propcache", "frozenlist", "aiosignal")
_EVENT_LOOP_WAIT = ("select", "epoll", "poll")


def area(filename: str, function: str) -> str:
    """The library area a Python function belongs to: aiopinterest by module, libraries by name, the
    standard library by module (asyncio as one)."""
    if "/aiopinterest/" in filename:
        return "aiopinterest " + filename.split("/aiopinterest/", 1)[1]
    if "/bench/" in filename:
        return "benchmark driver"
    for library in _LIBRARIES:
        if f"/{library}/" in filename:
            return library
    if filename.startswith(_STDLIB):
        module = filename.removeprefix(_STDLIB).split("/", 1)[0].removesuffix(".py")
        return "asyncio event loop" if module == "asyncio" else f"stdlib {module}"
    return "other"


def summarise(path: Path, operations: int, top: int = 12) -> dict[str, Any]:
    """Self time per operation by area and the costliest functions, in microseconds.

    A builtin (C) function's time is charged to the area of the Python code that called it (``dict.get`` called
    from aiopinterest is aiopinterest's cost), except msgspec's decoder and the event loop's wait for I/O, which
    are areas of their own.
    """
    entries = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    per_op = 1e6 / max(operations, 1)  # seconds in the whole run -> microseconds per operation
    areas: dict[str, float] = {}

    def charge(name: str, seconds: float) -> None:
        areas[name] = areas.get(name, 0.0) + seconds * per_op

    functions = []
    for (filename, line, function), (_, calls, tottime, cumtime, callers) in entries.items():
        if filename == "~":
            if "msgspec" in function:
                charge("msgspec decode/encode", tottime)
            elif any(word in function for word in _EVENT_LOOP_WAIT):
                charge("waiting for I/O (epoll)", tottime)
            else:
                for (caller_file, _, caller_function), (_, _, edge_tottime, _) in callers.items():
                    charge(area(caller_file, caller_function), edge_tottime)
        else:
            charge(area(filename, function), tottime)
        functions.append(
            {
                "function": _label(filename, line, function),
                "calls_per_op": calls / max(operations, 1),
                "self_us": tottime * per_op,
                "cumulative_us": cumtime * per_op,
                "ours": "/aiopinterest/" in filename,
            }
        )
    return {
        "operations": operations,
        "total_us": sum(areas.values()),
        "areas_us": dict(sorted(areas.items(), key=lambda item: -item[1])),
        "top_self": sorted(functions, key=lambda entry: -entry["self_us"])[:top],
        "aiopinterest_cumulative": sorted(
            (entry for entry in functions if entry["ours"]), key=lambda entry: -entry["cumulative_us"]
        )[:top],
    }


def _label(filename: str, line: int, function: str) -> str:
    if filename == "~":
        return function
    for marker in ("/site-packages/", "/src/", _STDLIB):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
            break
    return f"{filename}:{line}({function})"
