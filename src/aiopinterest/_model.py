"""The base of every generated struct."""

from __future__ import annotations

import msgspec


class Model(msgspec.Struct, kw_only=True, omit_defaults=True, repr_omit_defaults=True, gc=False):
    """A Pinterest API object.

    Every field defaults to ``None`` so that responses decode leniently: a field the server leaves out, or a null
    where the spec promises a value, never breaks a caller. Request bodies are checked strictly against the spec
    before they are sent (see :mod:`aiopinterest._validation`). Fields left at ``None`` are not sent.

    ``gc=False``: decoded API objects never form reference cycles, and skipping GC tracking makes decoding large
    pages markedly cheaper.
    """
