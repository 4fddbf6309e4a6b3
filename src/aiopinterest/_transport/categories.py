"""State kept per rate-limit category (``x-ratelimit-category``), made when a category is first seen."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

V = TypeVar("V")


class ByCategory(dict[str, V]):
    """A category's value, made on first look-up: a plain subscript on the hot path, no method call."""

    __slots__ = ("_make",)

    def __init__(self, make: Callable[[str], V]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, category: str) -> V:
        value = self[category] = self._make(category)
        return value
