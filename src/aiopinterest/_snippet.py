"""The start of a body that could not be parsed, quoted in an error message."""

from __future__ import annotations

from typing import Final

__all__ = ["SNIPPET_BYTES", "body_snippet"]

#: Enough to recognise an HTML error page or a proxy's message; short enough for one log line.
SNIPPET_BYTES: Final = 200


def body_snippet(body: bytes) -> str:
    """The first :data:`SNIPPET_BYTES` bytes of ``body`` as text: undecodable bytes replaced, outer whitespace
    trimmed (``""`` for an empty or blank body)."""
    return body[:SNIPPET_BYTES].decode("utf-8", "replace").strip()
