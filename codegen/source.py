"""Locate the pinned OpenAPI description, verify it, and apply our overlay of corrections."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
PIN_FILE = ROOT / "openapi" / "pin.json"
OVERLAY_FILE = ROOT / "openapi" / "overlay.json"
SHARED_SPEC = ROOT.parent / "shared" / "openapi" / "openapi.yaml"
DOWNLOAD_CACHE = ROOT / ".openapi-cache" / "openapi.yaml"


class SpecNotFound(RuntimeError):
    pass


def pin() -> dict[str, str]:
    result: dict[str, str] = json.loads(PIN_FILE.read_text())
    return result


def locate(*, download: bool = True) -> Path:
    """$PINTEREST_OPENAPI, else ../shared/openapi/openapi.yaml, else the pinned file downloaded and verified."""
    explicit = os.environ.get("PINTEREST_OPENAPI")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise SpecNotFound(f"PINTEREST_OPENAPI={explicit} is not a file")
        return path
    if SHARED_SPEC.is_file():
        return SHARED_SPEC
    if DOWNLOAD_CACHE.is_file() and _sha256(DOWNLOAD_CACHE.read_bytes()) == pin()["sha256"]:
        return DOWNLOAD_CACHE
    if not download:
        raise SpecNotFound("no spec: set PINTEREST_OPENAPI or place it at ../shared/openapi/openapi.yaml")
    return _download()


def _download() -> Path:
    expected = pin()
    with urllib.request.urlopen(expected["url"], timeout=60) as response:
        data = response.read()
    digest = _sha256(data)
    if digest != expected["sha256"]:
        raise SpecNotFound(f"downloaded spec has sha256 {digest}, the pin says {expected['sha256']}")
    DOWNLOAD_CACHE.parent.mkdir(parents=True, exist_ok=True)
    DOWNLOAD_CACHE.write_bytes(data)
    return DOWNLOAD_CACHE


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load(path: Path) -> dict[str, Any]:
    """Parse the spec (YAML or JSON) and apply the overlay."""
    text = path.read_bytes()
    if path.suffix == ".json":
        spec: dict[str, Any] = json.loads(text)
    else:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        spec = yaml.load(text, Loader=loader)  # the C or pure-Python *safe* loader
    apply_overlay(spec, json.loads(OVERLAY_FILE.read_text()))
    return spec


def apply_overlay(spec: dict[str, Any], overlay: dict[str, Any]) -> None:
    """Each correction sets (or, with "remove": true, deletes) the value at a JSON pointer.

    A correction whose target does not exist is an error, so a spec update that fixes or moves the problem is
    noticed instead of silently patched.
    """
    for correction in overlay.get("corrections", []):
        *parents, last = _pointer_parts(correction["pointer"])
        node: Any = spec
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if correction.get("remove"):
            del node[last]
        else:
            if correction.get("must_exist", True) and last not in node:
                raise KeyError(f"overlay target {correction['pointer']} does not exist")
            node[last] = correction["value"]


def _pointer_parts(pointer: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]
