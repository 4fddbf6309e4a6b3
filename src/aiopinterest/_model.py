"""The base of every generated struct."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self, TypeVar

import msgspec

M = TypeVar("M", bound="Model")


class Model(msgspec.Struct, kw_only=True, omit_defaults=True, repr_omit_defaults=True, gc=False):
    """A Pinterest API object.

    Every field defaults to ``None`` so that responses decode leniently: a field the server leaves out, or a null
    where the spec promises a value, never breaks a caller. Request bodies are checked strictly against the spec
    before they are sent (see :mod:`aiopinterest._validation`). Fields left at ``None`` are not sent.

    ``gc=False``: decoded API objects never form reference cycles, and skipping GC tracking makes decoding large
    pages markedly cheaper.
    """

    def _as_variant(self, tag: object, variants: Mapping[str, type[M]]) -> M | Self:
        """Re-read this object as the variant its discriminator names; itself when the tag is not in the spec."""
        variant = variants.get(tag) if isinstance(tag, str) else None
        if variant is None:
            return self
        return msgspec.convert(msgspec.to_builtins(self), variant)
