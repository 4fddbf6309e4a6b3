"""Where `make generate` finds the spec: $PINTEREST_OPENAPI, ../shared, else the pinned download, verified."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from codegen import source

SPEC = b"openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents: {schemas: {}}\n"


@pytest.fixture
def spec_server() -> Iterator[str]:
    """Serves SPEC on 127.0.0.1 (a stand-in for the upstream raw URL)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(SPEC)))
            self.end_headers()
            self.wfile.write(SPEC)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v5/openapi.yaml"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def no_local_spec(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.delenv("PINTEREST_OPENAPI", raising=False)
    monkeypatch.setattr(source, "SHARED_SPEC", tmp_path / "missing.yaml")
    cache = tmp_path / "cache" / "openapi.yaml"
    monkeypatch.setattr(source, "DOWNLOAD_CACHE", cache)
    return cache


def test_environment_variable_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(SPEC)
    monkeypatch.setenv("PINTEREST_OPENAPI", str(spec))
    assert source.locate() == spec
    monkeypatch.setenv("PINTEREST_OPENAPI", str(tmp_path / "nope.yaml"))
    with pytest.raises(source.SpecNotFound, match="PINTEREST_OPENAPI"):
        source.locate()


def test_download_is_verified_against_the_pin(
    monkeypatch: pytest.MonkeyPatch, spec_server: str, no_local_spec: Path
) -> None:
    pin = {"url": spec_server, "sha256": hashlib.sha256(SPEC).hexdigest()}
    monkeypatch.setattr(source, "pin", lambda: pin)
    assert source.locate() == no_local_spec
    assert no_local_spec.read_bytes() == SPEC
    # A second run uses the verified cache.
    assert source.locate(download=False) == no_local_spec


def test_download_with_another_digest_is_refused(
    monkeypatch: pytest.MonkeyPatch, spec_server: str, no_local_spec: Path
) -> None:
    monkeypatch.setattr(source, "pin", lambda: {"url": spec_server, "sha256": "0" * 64})
    with pytest.raises(source.SpecNotFound, match="sha256"):
        source.locate()
    assert not no_local_spec.exists()


def test_no_spec_and_no_download(no_local_spec: Path) -> None:
    with pytest.raises(source.SpecNotFound):
        source.locate(download=False)


def test_the_pin_matches_the_shared_copy() -> None:
    if not source.SHARED_SPEC.is_file():
        pytest.skip("no ../shared beside the project")
    assert hashlib.sha256(source.SHARED_SPEC.read_bytes()).hexdigest() == source.pin()["sha256"]


def test_overlay_refuses_a_vanished_target() -> None:
    spec = {"components": {"schemas": {"Pin": {"properties": {}}}}}
    with pytest.raises(KeyError, match="does not exist"):
        source.apply_overlay(
            spec, {"corrections": [{"pointer": "/components/schemas/Pin/properties/id", "value": 1}]}
        )
    source.apply_overlay(
        spec,
        {
            "corrections": [
                {"pointer": "/components/schemas/Pin/properties/id", "value": 1, "must_exist": False}
            ]
        },
    )
    assert spec["components"]["schemas"]["Pin"]["properties"]["id"] == 1
