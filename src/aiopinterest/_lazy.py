"""Module attributes loaded on first access (PEP 562), so that importing a package costs next to nothing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_attributes(namespace: dict[str, Any], table: Mapping[str, tuple[str, str]]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``namespace`` (the module's ``globals()``).

    ``table`` maps a public name to the module that defines it (relative to the package) and its name there.
    The first access imports that module and keeps the value in ``namespace``, so later ones are plain look-ups.
    """
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        try:
            module_name, attribute = table[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(import_module(module_name, package), attribute)
        namespace[name] = value
        return value

    return __getattr__
