"""``client.media``: the generated media operations plus the direct-upload flow built on them."""

from __future__ import annotations

from ._generated.resources.media import MediaResource


class MediaNamespace(MediaResource):
    """Register, upload and track media (``create``, ``get``, ``list`` come from the spec)."""
