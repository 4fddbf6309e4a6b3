"""A benchmark's API server in a process of its own, on a free loopback port: both sides of starting one.

The server prints ``PORT <n>`` once it listens and stops when its standard input closes, so that it never
outlives the benchmark that started it. Only the standard library is imported up front (aiohttp when serving):
the harness imports this module as ``bench.loopback``, and the scripts run from bench/ as ``loopback``.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

_STOP_SECONDS = 10.0  # a server that has not stopped this long after its stdin closed is killed


def serve_app(app: web.Application, *, backlog: int = 128, lifetime: float | None = None) -> None:
    """The server's side: serve ``app`` on 127.0.0.1 and print ``PORT <n>``; return once standard input closes
    or after ``lifetime`` seconds. ``backlog``: connections waiting to be accepted; aiohttp's 128 is short of the
    hundreds a harness opens at once."""
    asyncio.run(_serve(app, backlog, lifetime))


async def _serve(app: web.Application, backlog: int, lifetime: float | None) -> None:
    from aiohttp import web

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock, backlog=backlog).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def wait_for_stdin_close() -> None:
        # os.read, not sys.stdin: a daemon thread still blocked in a buffered read aborts the interpreter's exit.
        while os.read(sys.stdin.fileno(), 4096):
            pass
        loop.call_soon_threadsafe(stop.set)

    # A daemon thread rather than the loop's executor, which asyncio.run would wait for after ``lifetime``.
    threading.Thread(target=wait_for_stdin_close, daemon=True).start()
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    try:
        await asyncio.wait_for(stop.wait(), timeout=lifetime)
    except TimeoutError:
        pass
    finally:
        await runner.cleanup()


@contextmanager
def serving(*command: str | os.PathLike[str], cwd: str | os.PathLike[str] | None = None) -> Iterator[int]:
    """The benchmark's side: run ``command``, a server that calls serve_app, and yield the port it prints;
    always stop it afterwards (close its stdin, then kill it if it has not exited in time)."""
    shown = shlex.join(os.fspath(part) for part in command)
    with subprocess.Popen(
        command, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as server:
        assert server.stdin is not None and server.stdout is not None
        try:
            line = server.stdout.readline()
            word, _, port = line.partition(" ")
            if word == "PORT" and port.strip().isdigit():
                yield int(port)
            elif not line:  # its output ended: it died, and said why on stderr
                code = server.wait(_STOP_SECONDS)
                raise RuntimeError(f"{shown} exited with code {code} before printing its port")
            else:
                raise RuntimeError(f"{shown} printed {line!r} instead of PORT <n>")
        finally:
            server.stdin.close()  # the server's signal to stop
            try:
                server.wait(_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                server.kill()  # Popen's exit waits for it and closes the pipes
