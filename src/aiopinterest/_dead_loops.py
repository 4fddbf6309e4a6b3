"""Letting go of connections whose event loop has ended (a client used in successive ``asyncio.run()`` calls, or a
loop closed by hand): their sockets closed here, since asyncio closes a transport only through its loop.

Through private attributes, as there is no other way: ``close()`` and ``abort()`` schedule the work on the
transport's loop, and raise once it is closed.
"""

from __future__ import annotations

import asyncio


def close_transport_without_loop(transport: asyncio.BaseTransport) -> None:
    """Close a transport of a closed event loop: its socket, and the flags whose absence __del__ warns about."""
    ssl_protocol = getattr(transport, "_ssl_protocol", None)
    if ssl_protocol is not None:  # TLS: a wrapper around the TCP transport
        transport._closed = True  # type: ignore[attr-defined]
        transport = ssl_protocol._transport
    sock = getattr(transport, "_sock", None)
    if sock is not None:
        transport._sock = None  # type: ignore[attr-defined]
        transport._closing = True  # type: ignore[attr-defined]  # is_closing(), which StreamWriter.__del__ asks
        sock.close()
