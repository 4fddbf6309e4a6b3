"""A real Redis server per test, on a free loopback port, persistence off, stopped after the test.

``make test`` installs Debian's redis-server when it is missing; without it these tests fail, never skip.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from tests.transport.conftest import ApiServer

_READY_WITHIN = 10.0  # seconds for the server to accept connections; a readiness bound, not a test's timing


@dataclass
class RedisServer:
    """One redis-server process; ``url`` carries the password when the server has one."""

    port: int
    password: str | None
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _binary() -> str:
    binary = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin:/usr/sbin")
    if binary is None:
        pytest.fail("redis-server is not installed: `make test` installs it (apt-get install redis-server)")
    return binary


def start_redis(directory: Path, *, password: str | None = None, port: int | None = None) -> RedisServer:
    """Start redis-server on ``port`` (a free one by default) and wait until it answers PING."""
    port = port or _free_port()
    arguments = [_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    arguments += ["--dir", str(directory), "--daemonize", "no", "--loglevel", "warning"]
    if password:
        arguments += ["--requirepass", password]
    process = subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = RedisServer(port, password, process)
    give_up = time.monotonic() + _READY_WITHIN
    while True:
        if process.poll() is not None:
            error = process.stderr.read().decode(errors="replace") if process.stderr else ""
            pytest.fail(f"redis-server exited at start: {error}")
        try:
            with server.client() as client:
                client.ping()
            return server
        except redis.ConnectionError:
            if time.monotonic() > give_up:
                server.stop()
                pytest.fail(f"redis-server did not accept connections on port {port}")
            time.sleep(0.02)


@pytest.fixture
def make_redis(tmp_path: Path) -> Iterator[Callable[..., RedisServer]]:
    started: list[RedisServer] = []

    def make(*, password: str | None = None, port: int | None = None) -> RedisServer:
        server = start_redis(tmp_path, password=password, port=port)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
        if server.process.stderr is not None:
            server.process.stderr.close()


@pytest.fixture
def redis_server(make_redis: Callable[..., RedisServer]) -> RedisServer:
    return make_redis()


@pytest.fixture
async def api() -> AsyncIterator[ApiServer]:
    """A loopback API server (routes added by the test, then ``await api.start()``)."""
    server = ApiServer()
    yield server
    await server.close()
