"""Shared by every test: no credentials, API root or proxy leak in from the developer's environment."""

from __future__ import annotations

import pytest

_ENVIRONMENT = (
    "PINTEREST_ACCESS_TOKEN",
    "PINTEREST_APP_ID",
    "PINTEREST_APP_SECRET",
    "PINTEREST_REFRESH_TOKEN",
    "PINTEREST_BASE_URL",
    "PINTEREST_REDIS_URL",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
